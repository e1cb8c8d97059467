"""Preprocess's refusals read as one line that gives the answer: a wrong target column names the
closest column and lists the others; a file that is not text says what it is."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipeline.steps.preprocess import MAX_LISTED_COLUMNS_CHARACTERS, kind_of_bytes, missing_target

names = st.text(min_size=1, max_size=40)


@given(columns=st.lists(names, min_size=1, max_size=300, unique=True), target=names)
def test_a_missing_target_lists_every_column_or_says_how_many_more_on_one_line(columns, target):
    reason = missing_target(target, columns, "data.csv")

    assert "\n" not in reason
    assert "\r" not in reason
    listing = reason.split("its columns are: ", 1)[1]
    shown, _, more = listing.rpartition(", and ") if listing.endswith(" more") else (listing, "", "")
    hidden = int(more.split()[0]) if more else 0
    assert len(shown.split(", ")) + hidden >= len(columns)  # every column is listed or counted
    assert len(shown) <= MAX_LISTED_COLUMNS_CHARACTERS + 3 * 40  # one readable line, whatever the header


@given(column=st.from_regex(r"[A-Za-z][A-Za-z_]{2,20}", fullmatch=True), others=st.lists(names, max_size=50))
def test_the_same_name_in_another_case_is_offered_first(column, others):
    columns = [c for c in others if c.casefold() != column.casefold()] + [column.lower()]

    reason = missing_target(column.upper(), columns, "data.csv")

    assert f"did you mean {column.lower()!r}? its columns are: {column.lower()}" in reason


def test_a_name_far_from_every_column_offers_none():
    assert missing_target("target", ["age", "sex", "bmi"], "d.csv") == (
        "target column 'target' is missing in d.csv; its columns are: age, sex, bmi"
    )


def test_files_that_are_not_text_are_named_by_their_first_bytes():
    assert kind_of_bytes(b"\x89PNG\r\n\x1a\n....") == "a PNG image"
    assert kind_of_bytes(b"%PDF-1.7\n") == "a PDF document"
    assert kind_of_bytes(b"\x1f\x8b\x08\x00") == "gzip-compressed data (upload it decompressed)"
    assert kind_of_bytes(b"a,b,target\n1,2,3\n") is None
    assert kind_of_bytes("\ufeffa,target\n".encode()) is None  # UTF-8 with a BOM is CSV text
