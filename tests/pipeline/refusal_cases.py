"""Data that cannot train a model, and the one-line reason Preprocess gives: the same for both engines."""

from __future__ import annotations

# (files as (name, content), the reason data_report.json gives)
REFUSALS: list[tuple[list[tuple[str, bytes]], str]] = [
    ([("data.csv", b"")], "data.csv is empty"),
    ([("data.csv", b"a,b,target\n")], "data.csv has a header but no data rows"),
    (
        [("data.csv", b"a,b\n" + b"1,2\n" * 30)],
        "target column 'target' is missing in data.csv; its columns are: a, b",
    ),
    (
        [("data.csv", b"a,target\n" + b"1,2\n" * 5)],
        "only 5 usable data rows; at least 20 are needed to train and evaluate",
    ),
    (
        [("good.csv", b"a,target\n" + b"1,2\n" * 30), ("other.csv", b"target,a\n" + b"2,red\n" * 30)],
        "column 'a' holds text values in other.csv but numeric values in good.csv",
    ),
    (
        [("good.csv", b"a,target\n" + b"1,2\n" * 30), ("no-target.csv", b"a,label\n" + b"1,2\n" * 30)],
        "target column 'target' is missing in no-target.csv; its columns are: a, label",
    ),
    (
        [("latin1.csv", b"city,target\n" + "Béziers,1\n".encode("latin-1") * 30)],
        "latin1.csv is not UTF-8 text (byte 0xe9 at offset 13); save it as UTF-8 (with or without BOM) "
        "and upload it again",
    ),
    (
        [("data.csv", b"a,target\n" + b"1,7\n" * 30)],
        "target column 'target' has a single value ('7'): nothing to learn",
    ),
    (
        [("scan.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)],
        "scan.csv is a PNG image, not CSV text; upload the data as a CSV file with a header row",
    ),
    (
        [("book.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + bytes(200))],
        "book.csv is a ZIP archive (an .xlsx workbook is one: export the sheet as CSV), not CSV text; "
        "upload the data as a CSV file with a header row",
    ),
]
