"""Preprocess: turn the uploaded CSV file(s) into splits the built-in XGBoost algorithm trains on.

Runs in the SageMaker scikit-learn 1.9-0 container (Python 3.12, pandas 2.2), or on its own:

    python preprocess.py --target-column target [--problem-type auto] --base-dir /tmp/processing

Reads every file under {base-dir}/input/data (CSV with a header row; comma, semicolon or tab;
UTF-8 with or without BOM). Writes label-first, headerless CSVs under {base-dir}/train,
/validation and /test, {base-dir}/report/data_report.json, which records every decision
made: the files and columns read, the problem type, what was dropped, filled or encoded, and why,
and {base-dir}/transform/ (see "what the endpoint serves" below): model.tar.gz with the fitted
encoder and the serving code, and a smoke sample of the test split.

Data that cannot train a model is not a crash: the report says `"accepted": false` with a
one-line reason, nothing else is written, and the pipeline's CheckData step fails the run with
that reason. Only a fault of this script itself exits non-zero (the reason then goes to
/opt/ml/output/message, which SageMaker shows as the job's ExitMessage).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import difflib
import gzip
import hashlib
import io
import itertools
import json
import math
import re
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # what json.dumps does with a str, without its checks
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]
    import pyarrow.csv as pa_csv  # type: ignore[import-untyped]
except ModuleNotFoundError:  # the Spark image has none (pipeline/images.py): preprocess_spark.py uses the rest
    pa = pc = pa_csv = None

# Copies of reports.py's names (this script runs on its own in its image; a test keeps them equal).
PROBLEM_TYPES = ("auto", "regression", "binary", "multiclass")
SPLIT_SCHEME = "sha256-canonical-v2"
ENGINE = "pandas"  # data_report.json's "engine": which Preprocess wrote it
# Each row goes to a split by a SHA-256 of a canonical text of its feature values (the target left
# out), defined here and not by pandas or numpy: the same row, in any file, any run and under any
# library version, always lands in the same split, even when its label is corrected later.
# Buckets 0-69 train, 70-84 validation, 85-99 test.
SPLIT_BUCKETS = (("train", 70), ("validation", 85), ("test", 100))
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII digits only
EXACT_INTEGERS = 2**53  # whole numbers below this are written without a decimal point
MIN_ROWS = 20
MAX_CATEGORIES = 20  # per text column: the most frequent, then "other"
MAX_FEATURES = 1000
MAX_CLASSES = 50
AUTO_MAX_CLASSES = 10  # a numeric target with at most this many whole-number values is a class label
IDENTIFIER_SHARE = 0.95  # a text column with this share of distinct values (or more) is an identifier
MIN_ROWS_FOR_IDENTIFIER = 20
NUMERIC_SHARE = 0.9  # a text column whose values are mostly numbers is numeric with bad cells
DATE_SHARE = 0.9
SEPARATORS = (",", ";", "\t")
# Files that are not CSV text, by their first bytes (each format's own signature), as a person names them.
NOT_CSV_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one: export the sheet as CSV)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office file such as an .xls workbook (export the sheet as CSV)"),
    (b"\x1f\x8b", "gzip-compressed data (upload it decompressed)"),
    (b"PAR1", "a Parquet file"),
    (b"\xff\xfe", "UTF-16 text (save it as UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (save it as UTF-8)"),
)
MAX_LISTED_COLUMNS_CHARACTERS = 600  # a refusal lists the columns that fit in this much, then "and N more"
CLOSE_NAME = 0.8  # difflib's ratio from which a column name is offered as "did you mean"
# pandas before 3.0 reads a number of 16 digits or more to a neighbouring double about once in three
# (0.41809884672577885 as 0.4180988467257788) and drops the digits after the 17th, leading zeros
# counted (-0.00011051689550249007 as -0.0001105168955024), unless float_precision="round_trip", which
# costs ~0.4 µs a number; pandas 3 reads each number to the nearest double, as float() does.
PANDAS_MAY_MISREAD_NUMBERS = int(pd.__version__.split(".")[0]) < 3
READ_ALIKE = 1e-9  # the relative difference within which two readings of a number are of the same cell
# The texts pandas reads as missing by default (its read_csv documentation, `na_values`).
NA_TEXTS = [
    *("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN"),
    *("<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"),
]
ENCODE_CHUNK_ROWS = 50_000
SPLIT_CHUNK_ROWS = 10_000  # rows whose texts are held at once while hashing
# Numbers of a magnitude in this range are written positionally both by repr and by Arrow (see float_texts).
POSITIONAL_LOW, POSITIONAL_HIGH = 1e-4, 1e9
# pandas' default true_values and false_values: a column of these alone is read as booleans.
TRUE_TEXTS = ("True", "TRUE", "true")
FALSE_TEXTS = ("False", "FALSE", "false")
INFINITY_TEXT = re.compile(r"[+-]?inf(?:inity)?", re.IGNORECASE)
# The `transform` output and model.tar.gz's members (copies of reports.py's names; a test keeps them equal).
TRANSFORM_OUTPUT = "transform"
TRANSFORM_ARCHIVE = "model.tar.gz"
ENCODER_FILE = "encoder.json"
ENCODER_FORMAT = "retrain-trigger-encoder-1"
CODE_FOLDER = "code"  # where the SDK puts an entry point it repacks into model.tar.gz
SMOKE_ROWS_FILE = "smoke_rows.csv"
SMOKE_FEATURES_FILE = "smoke_features.csv"
SMOKE_ROWS = 20  # test rows in the smoke sample (fewer when the test split has fewer)
SERVING_SCRIPT = "serving.py"
SERVING_CODE_FOLDER = "serving_code"  # {base-dir}/input/serving_code: the job's serving-code input
# The `baseline` output: statistics.json and constraints.json of the training rows' raw columns (what a
# caller sends the endpoint), in Model Monitor's formats, written by data_quality.py: the job's
# data-quality-code input, or beside this script when run by hand.
BASELINE_OUTPUT = "baseline"
DATA_QUALITY_SCRIPT = "data_quality.py"
DATA_QUALITY_CODE_FOLDER = "data_quality_code"
OBJECTIVES = {
    "regression": ("reg:squarederror", "rmse"),
    "binary": ("binary:logistic", "logloss"),
    "multiclass": ("multi:softprob", "mlogloss"),
}


class DataRefused(ValueError):
    """The input cannot train a model; the message says why, in words a data owner understands."""


# -- reading -------------------------------------------------------------------------------------


def input_files(input_dir: Path) -> list[Path]:
    files = sorted(path for path in input_dir.rglob("*") if path.is_file())
    if not files:
        raise DataRefused("no input file was found")
    return files


def sniff(path: Path) -> tuple[str, str, str]:
    """The encoding (utf-8 or utf-8-sig), separator and decimal mark of a file, from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise DataRefused(f"{path.name} is empty")
    kind = kind_of_bytes(head)
    if kind is not None:
        raise DataRefused(f"{path.name} is {kind}, not CSV text; upload the data as a CSV file with a header row")
    encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(head, final=False)
    except UnicodeDecodeError as error:
        raise DataRefused(not_utf8(path, head[error.start], error.start)) from None
    lines = text.splitlines()
    separator = separator_of(lines[0] if lines else "")
    return encoding, separator, decimal_of(separator, lines[1:50])


def separator_of(header: str) -> str:
    """Comma, semicolon or tab: the one the header line holds most of (a comma when it holds none)."""
    counts = {separator: header.count(separator) for separator in SEPARATORS}
    return max(SEPARATORS, key=lambda s: counts[s]) if any(counts.values()) else ","


def decimal_of(separator: str, lines: list[str]) -> str:
    """Semicolon (or tab) files written with a decimal comma (1,5 for 1.5), as spreadsheets do in much
    of Europe: a comma between digits in these data lines."""
    return "," if separator != "," and re.search(r"\d,\d", "\n".join(lines)) else "."


def kind_of_bytes(data: bytes) -> str | None:
    """What the file is when its first bytes say it is not CSV text (a PNG image, ...), or None."""
    return next((kind for signature, kind in NOT_CSV_SIGNATURES if data.startswith(signature)), None)


def missing_target(target: str, columns: list[str], name: str) -> str:
    """The refusal of a file without the target column: the closest name offered first (case does
    not count), then every column, as many as fit in one readable line, then how many more."""
    folded: dict[str, str] = {}
    for column in columns:
        folded.setdefault(column.casefold(), column)
    close = difflib.get_close_matches(target.casefold(), list(folded), n=1, cutoff=CLOSE_NAME)
    suggestion = folded[close[0]] if close else None
    ordered = ([suggestion] if suggestion is not None else []) + [c for c in columns if c != suggestion]
    shown: list[str] = []
    for candidate in ordered:
        text = " ".join(candidate.split()) or repr(candidate)  # one line, whatever the header holds
        if shown and len(", ".join([*shown, text])) > MAX_LISTED_COLUMNS_CHARACTERS:
            break
        shown.append(text)
    more = f", and {len(ordered) - len(shown)} more" if len(shown) < len(ordered) else ""
    hint = f"did you mean {suggestion!r}? " if suggestion is not None else ""
    return f"target column {target!r} is missing in {name}; {hint}its columns are: {', '.join(shown)}{more}"


def not_utf8(path: Path, byte: int, offset: int) -> str:
    return (
        f"{path.name} is not UTF-8 text (byte 0x{byte:02x} at offset {offset}); "
        "save it as UTF-8 (with or without BOM) and upload it again"
    )


def read_file(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    encoding, separator, decimal = sniff(path)
    frame = _read_csv(path, encoding, separator, decimal)
    if PANDAS_MAY_MISREAD_NUMBERS:
        frame = exact_floats(frame, path, encoding, separator, decimal)
    frame.columns = [str(column).strip() for column in frame.columns]
    info = {
        "name": path.name,
        "rows": len(frame),
        "separator": {",": "comma", ";": "semicolon", "\t": "tab"}[separator],
        "encoding": "UTF-8 with BOM" if encoding == "utf-8-sig" else "UTF-8",
        "decimal": "comma" if decimal == "," else "point",
    }
    return frame, info


def _read_csv(path: Path, encoding: str, separator: str, decimal: str, **options: Any) -> pd.DataFrame:
    try:
        return pd.read_csv(
            path, sep=separator, decimal=decimal, encoding=encoding, skipinitialspace=True, low_memory=False, **options
        )
    except pd.errors.EmptyDataError:
        raise DataRefused(f"{path.name} is empty") from None
    except UnicodeDecodeError as error:
        data = path.read_bytes()
        start = data.find(error.object[error.start : error.end]) if isinstance(error.object, bytes) else 0
        raise DataRefused(not_utf8(path, data[max(start, 0)], max(start, 0))) from None
    except pd.errors.ParserError as error:
        detail = str(error).strip().splitlines()[-1]
        raise DataRefused(f"{path.name} is not a readable CSV file: {detail}") from None


def exact_floats(frame: pd.DataFrame, path: Path, encoding: str, separator: str, decimal: str) -> pd.DataFrame:
    """The frame with each float column holding the nearest double to each cell's text, as float() reads it.

    Arrow's CSV reader parses numbers so (with the fast_float algorithm), in C. Its values are taken
    when each is within READ_ALIKE of pandas' (the same cells, read apart only by pandas' rounding);
    otherwise, or when Arrow cannot read the file, pandas reads it again with
    float_precision="round_trip", which is exact and slower.
    """
    positions = [position for position, dtype in enumerate(frame.dtypes) if dtype == np.float64]
    if not positions:
        return frame
    exact = _floats_read_by_arrow(path, separator, decimal, positions, len(frame))
    pairs = list(zip(positions, exact or [], strict=False))
    if exact is None or not all(_read_alike(frame.iloc[:, position].to_numpy(), values) for position, values in pairs):
        return _read_csv(path, encoding, separator, decimal, float_precision="round_trip")
    frame.iloc[:, positions] = np.column_stack(exact)  # in place: the float columns stay one block, no copy later
    return frame


def _floats_read_by_arrow(
    path: Path, separator: str, decimal: str, positions: list[int], rows: int
) -> list[np.ndarray] | None:
    """The columns at these positions of a file, as doubles, or None when Arrow reads the file otherwise."""
    names = [f"f{position}" for position in positions]  # Arrow's names when it makes them up
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(skip_rows=1, autogenerate_column_names=True, use_threads=False),
            parse_options=pa_csv.ParseOptions(delimiter=separator, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                include_columns=names,
                column_types=dict.fromkeys(names, pa.float64()),
                null_values=NA_TEXTS,
                decimal_point=decimal,
            ),
            memory_pool=pa.system_memory_pool(),  # malloc hands the memory back; Arrow's own pool keeps it (P10)
        )
    except (pa.ArrowException, OSError):
        return None
    if table.num_rows != rows:
        return None
    return [table.column(name).to_numpy() for name in names]


def _read_alike(by_pandas: np.ndarray, by_arrow: np.ndarray) -> bool:
    with np.errstate(invalid="ignore"):
        near = np.abs(by_pandas - by_arrow) <= READ_ALIKE * np.abs(by_arrow)
    return bool(np.all(near | (by_pandas == by_arrow) | (np.isnan(by_pandas) & np.isnan(by_arrow))))


# -- column kinds --------------------------------------------------------------------------------


def column_kind(values: pd.Series) -> str:
    """numeric, date, text or empty: what a column holds, whatever pandas guessed."""
    present = values.dropna()
    if present.empty:
        return "empty"
    if pd.api.types.is_bool_dtype(present) or pd.api.types.is_numeric_dtype(present):
        return "numeric"
    text = present.astype(str).str.strip()
    text = text[text != ""]
    if text.empty:
        return "empty"
    if pd.to_numeric(text, errors="coerce").notna().mean() >= NUMERIC_SHARE:
        return "numeric"
    sample = text.head(1000)
    if sample.str.contains(r"\d").all() and _parse_dates(sample).notna().mean() >= DATE_SHARE:
        return "date"
    return "text"


def _parse_dates(values: pd.Series) -> pd.Series:
    # Each value parsed on its own, as pandas 1.x's infer_datetime_format fell back to (pandas 2 removed it).
    return pd.to_datetime(values, errors="coerce", format="mixed")


def column_kinds(frames: list[tuple[pd.DataFrame, dict[str, Any]]], target: str) -> dict[str, tuple[str, str]]:
    """column -> (kind, the first file that had it); a column of two kinds is refused, naming the file."""
    return merge_kinds(
        [(info["name"], {c: column_kind(frame[c]) for c in frame.columns if c != target}) for frame, info in frames]
    )


def merge_kinds(kinds_of_files: list[tuple[str, dict[str, str]]]) -> dict[str, tuple[str, str]]:
    """The kinds of each file's columns (in file order) as one: a column of two kinds is refused."""
    kinds: dict[str, tuple[str, str]] = {}
    for name, kinds_of_file in kinds_of_files:
        for column, kind in kinds_of_file.items():
            if kind == "empty":
                continue
            seen = kinds.get(column)
            if seen is None:
                kinds[column] = (kind, name)
            elif seen[0] != kind:
                raise DataRefused(f"column {column!r} holds {kind} values in {name} but {seen[0]} values in {seen[1]}")
    return kinds


def combine(frames: list[tuple[pd.DataFrame, dict[str, Any]]], target: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One table from several files: columns aligned by name, kinds checked file by file."""
    for frame, info in frames:
        if target not in frame.columns:
            raise DataRefused(missing_target(target, [str(c) for c in frame.columns], info["name"]))
    kinds = column_kinds(frames, target)
    common, extra = align_columns([(info["name"], [str(c) for c in frame.columns]) for frame, info in frames])
    for _, info in frames:
        info["extra_columns"] = sorted(c for c, names in extra.items() if info["name"] in names)
    table = pd.concat([frame[common] for frame, _ in frames], ignore_index=True)
    if table.empty:
        names = ", ".join(info["name"] for _, info in frames)
        raise DataRefused(f"{names} {'has' if len(frames) == 1 else 'have'} a header but no data rows")
    return table, files_report([info for _, info in frames], extra, kinds, common)


def align_columns(columns_of_files: list[tuple[str, list[str]]]) -> tuple[list[str], dict[str, list[str]]]:
    """The columns every file has (in the first file's order), and the files that have each other column."""
    common = [c for c in columns_of_files[0][1] if all(c in columns for _, columns in columns_of_files)]
    extra: dict[str, list[str]] = {}
    for name, columns in columns_of_files:
        for column in columns:
            if column not in common:
                extra.setdefault(column, []).append(name)
    return common, extra


def files_report(
    infos: list[dict[str, Any]], extra: dict[str, list[str]], kinds: dict[str, tuple[str, str]], common: list[str]
) -> dict[str, Any]:
    return {
        "files": infos,
        "columns_not_in_every_file": {c: f"only in {', '.join(names)}: dropped" for c, names in sorted(extra.items())},
        "kinds": {column: kind for column, (kind, _) in kinds.items() if column in common},
    }


# -- target and problem type ---------------------------------------------------------------------


def clean_target(table: pd.DataFrame, target: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    values = table[target]
    if values.dtype == object:
        values = values.astype(str).str.strip().where(values.notna())
        values = values.where(values != "")
    else:
        values = values.where(np.isfinite(values.astype(float)))
    missing = values.isna()
    total = len(table)
    dropped = int(missing.sum())
    if dropped * 2 > total:
        raise DataRefused(
            f"{dropped:,} of {total:,} rows have no value in target column {target!r}: "
            "more than half of the rows would be lost"
        )
    kept = table.loc[~missing].copy()
    kept[target] = values[~missing]
    return kept.reset_index(drop=True), {"rows_read": total, "rows_without_target": dropped}


def choose_problem_type(values: pd.Series, requested: str, target: str) -> tuple[str, str]:
    """The problem type and the rule that chose it."""
    numeric = pd.to_numeric(values, errors="coerce")
    is_numeric = bool(numeric.notna().all())
    whole = is_numeric and bool((numeric == numeric.round()).all())
    text_example = None if is_numeric else values[numeric.isna()].iloc[0]
    summary = TargetSummary(int(values.nunique()), is_numeric, whole, str(values.iloc[0]), text_example)
    return decide_problem_type(summary, requested, target)


@dataclass(frozen=True)
class TargetSummary:
    """What the problem type is decided on: the target's distinct values, whether all are numbers, all
    whole, its first value, and its first value that is not a number."""

    distinct: int
    is_numeric: bool
    whole: bool
    first: str
    text_example: Any


def decide_problem_type(summary: TargetSummary, requested: str, target: str) -> tuple[str, str]:
    distinct, is_numeric = summary.distinct, summary.is_numeric
    if distinct < 2:
        raise DataRefused(f"target column {target!r} has a single value ({summary.first!r}): nothing to learn")
    if requested == "auto":
        if not is_numeric:
            if distinct == 2:
                return "binary", "the target holds text with 2 distinct values"
            if distinct <= MAX_CLASSES:
                return "multiclass", f"the target holds text with {distinct} distinct values"
            raise DataRefused(
                f"target column {target!r} holds text with {distinct:,} distinct values: too many to be classes "
                f"(at most {MAX_CLASSES}); regression needs numbers"
            )
        if distinct == 2:
            return "binary", "the target has exactly 2 distinct values"
        if summary.whole and distinct <= AUTO_MAX_CLASSES:
            return "multiclass", f"the target has {distinct} distinct whole numbers (at most {AUTO_MAX_CLASSES})"
        return "regression", f"the target is numeric with {distinct:,} distinct values"
    if requested == "regression" and not is_numeric:
        raise DataRefused(
            f"target column {target!r} holds text such as {summary.text_example!r}: regression needs numbers; "
            "set ProblemType to binary or multiclass to predict categories"
        )
    if requested == "binary" and distinct != 2:
        raise DataRefused(f"ProblemType binary needs exactly 2 distinct target values; {target!r} has {distinct:,}")
    if requested == "multiclass" and distinct > MAX_CLASSES:
        raise DataRefused(f"ProblemType multiclass supports at most {MAX_CLASSES} classes; {target!r} has {distinct:,}")
    return requested, "set by the ProblemType parameter"


def encode_label(values: pd.Series, problem_type: str) -> tuple[pd.Series, dict[str, str] | None]:
    if problem_type == "regression":
        return pd.to_numeric(values).astype(float), None
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        classes = sorted(numeric.unique())
        keys = numeric
        names = [_number_text(value) for value in classes]
    else:
        keys = values.astype(str)
        classes = sorted(keys.unique())
        names = [str(value) for value in classes]
    index = {value: position for position, value in enumerate(classes)}
    return keys.map(index).astype(float), {str(position): name for position, name in enumerate(names)}


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- split ---------------------------------------------------------------------------------------


def _split_percentages() -> dict[str, int]:
    uppers = [upper for _, upper in SPLIT_BUCKETS]
    return {name: upper - lower for (name, upper), lower in zip(SPLIT_BUCKETS, [0, *uppers[:-1]], strict=True)}


def number_text(number: float) -> str:
    """One decimal form per number: 1, 1.0 and "1" are `1`; -0.0 is `0`; 0.1 is `0.1` (shortest round trip)."""
    if math.isnan(number):
        return "null"
    if math.isinf(number):
        return '"inf"' if number > 0 else '"-inf"'
    if number.is_integer() and abs(number) < EXACT_INTEGERS:
        return str(int(number))
    return repr(float(number))


def cell_text(value: Any) -> str:
    """The canonical JSON text of one cell: a number, stripped text, or null for a missing value."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return "null"
        return number_text(float(text)) if NUMBER_TEXT.fullmatch(text) else encode_basestring_ascii(text)
    if value is None or isinstance(value, bool):
        return "null" if value is None else json.dumps(str(value))
    try:
        return number_text(float(value))
    except (TypeError, ValueError):  # pandas' NA and NaT, and anything that is not a number
        return "null" if value != value or str(value) in ("<NA>", "NaT") else json.dumps(str(value).strip())  # noqa: PLR0124


def float_texts(numbers: np.ndarray) -> pa.StringArray:
    """number_text of each float, the same texts, in C rather than one Python call per number.

    Whole numbers are written by Arrow's integer formatting. Other numbers of magnitude
    [POSITIONAL_LOW, POSITIONAL_HIGH) by Arrow's float formatting, which there writes the shortest
    round-trip digits positionally, as repr does: both pick the shortest digits that read back to
    the same double, the closest to it, ties to even (Python's dtoa and the double-conversion
    library Arrow uses), and both write `0.` before a fraction below 1 and no exponent in that
    range (repr up to 1e16, Arrow up to 1e10). Missing, infinite and the rare other numbers go
    through number_text itself.
    """
    finite = np.isfinite(numbers)
    magnitude = np.abs(numbers)
    with np.errstate(invalid="ignore"):
        whole = finite & (numbers == np.trunc(numbers)) & (magnitude < EXACT_INTEGERS)
        positional = finite & ~whole & (magnitude >= POSITIONAL_LOW) & (magnitude < POSITIONAL_HIGH)
    integers = pc.cast(pa.array(np.where(whole, numbers, 0).astype(np.int64)), pa.string())
    by_arrow = pc.cast(pa.array(numbers), pa.string()) if not whole.all() else integers
    texts = pc.if_else(pa.array(whole), integers, by_arrow)
    rest = ~(whole | positional)
    if rest.any():
        by_python = pa.array([number_text(number) for number in numbers[rest].tolist()], pa.string())
        texts = pc.replace_with_mask(texts, pa.array(rest), by_python)
    return texts


def string_texts(strings: list[str | None]) -> list[str]:
    """cell_text of each string (None: missing), the same texts: all stripped and quoted in C, then
    the few that are blank or spell a number written again by cell_text itself."""
    stripped = [string.strip() if string is not None else "" for string in strings]
    texts = list(map(encode_basestring_ascii, stripped))
    for position, (text, number) in enumerate(zip(stripped, map(NUMBER_TEXT.fullmatch, stripped), strict=True)):
        if number or not text:
            texts[position] = cell_text(text)
    return texts


def column_texts(values: pd.Series) -> pa.StringArray:
    """The canonical text of each cell of a column; each distinct value's text computed once."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return float_texts(values.to_numpy(dtype=float, na_value=np.nan))
    missing = values.isna().to_numpy()
    cells = [None if absent else value for value, absent in zip(values.tolist(), missing, strict=True)]
    # Distinct by Python's equality (pandas' factorize takes "" and "\x00" for one string), and by
    # type too unless all are text: True, 1 and 1.0 are equal keys otherwise.
    only_text = pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")
    keys = cells if only_text else [(type(cell), cell) for cell in cells]
    distinct = dict(zip(keys, cells, strict=True))
    if only_text:
        text_of = dict(zip(distinct, string_texts(list(distinct.values())), strict=True))
    else:
        text_of = {key: cell_text(cell) for key, cell in distinct.items()}
    return pa.array([text_of[key] for key in keys], pa.string())


def row_buckets(names_text: str, cells: list[pa.StringArray]) -> np.ndarray:
    """The bucket of each row, from its cells' texts given column by column: the first 8 bytes of
    the SHA-256 of the row's text (UTF-8), big-endian, modulo 100."""
    rows = pc.binary_join_element_wise(names_text, *cells, ",")  # the last argument is the separator
    _, offsets_buffer, data = rows.buffers()
    offset_type = np.int64 if pa.types.is_large_string(rows.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=offset_type)[rows.offset : rows.offset + len(rows) + 1].tolist()
    text = memoryview(data) if data is not None else memoryview(b"")
    digests = b"".join([hashlib.sha256(text[start:end]).digest() for start, end in itertools.pairwise(offsets)])
    return np.frombuffer(digests, dtype=">u8")[::4] % 100  # 4 eight-byte words per digest: the first


def split_of_rows(table: pd.DataFrame) -> pd.Series:
    """train / validation / test for each row, by the SHA-256 of its canonical text.

    A row's text: the JSON list of the column names in name order, then each cell's canonical JSON
    text in that order, separated by commas: `["colour","size"],"red",1`.
    """
    columns = sorted(table.columns, key=str)
    names_text = json.dumps([str(column) for column in columns], separators=(",", ":"))
    buckets = [np.zeros(0, dtype=np.uint64)]
    for start in range(0, len(table), SPLIT_CHUNK_ROWS):
        chunk = table.iloc[start : start + SPLIT_CHUNK_ROWS]
        buckets.append(row_buckets(names_text, [column_texts(chunk[column]) for column in columns]))
    numbers = np.concatenate(buckets)
    names = np.empty(len(numbers), dtype=object)
    lower = 0
    for name, upper in SPLIT_BUCKETS:
        names[(numbers >= lower) & (numbers < upper)] = name
        lower = upper
    return pd.Series(names, index=table.index)


# -- features ------------------------------------------------------------------------------------


class Encoder:
    """What each column becomes, learned on the training split only."""

    def __init__(self) -> None:
        self.numeric: dict[str, float] = {}  # column -> fill value (training median)
        self.dates: dict[str, list[str]] = {}  # column -> parts
        self.categories: dict[str, list[str]] = {}  # column -> kept categories
        self.columns: dict[str, dict[str, Any]] = {}  # what the report says of each column

    def fit(self, features: pd.DataFrame, kinds: dict[str, str], train: pd.Series) -> None:
        for column in features.columns:
            kind = kinds.get(column, "empty")
            values = features[column]
            if kind == "empty":
                self.record_empty(column)
            elif kind == "numeric":
                numbers, examples, unreadable, infinite = _numbers(values)
                missing = int(numbers.isna().sum()) - infinite - unreadable
                self.record_numeric(column, _median_or_zero(numbers[train]), missing, infinite, unreadable, examples)
            elif kind == "date":
                self._fit_date(column, values, train)
            else:
                text = _text(values)
                training = text[train].dropna()
                self.record_text(column, len(training), training.value_counts(), int(text.isna().sum()))
        self.check_features()

    def check_features(self) -> None:
        if not self.feature_names():
            raise DataRefused("no usable feature column is left (see the report for why each was dropped)")
        if len(self.feature_names()) > MAX_FEATURES:
            raise DataRefused(
                f"the data makes {len(self.feature_names()):,} features; at most {MAX_FEATURES:,} are supported"
            )

    def record_empty(self, column: str) -> None:
        self.columns[column] = {"kind": "dropped", "reason": "no value in any row"}

    def record_numeric(  # noqa: PLR0917
        self, column: str, median: float, missing: int, infinite: int, unreadable: int, examples: list[str]
    ) -> None:
        self.numeric[column] = median
        described: dict[str, Any] = {
            "kind": "numeric",
            "missing": missing,
            "infinite": infinite,
            "filled_with_training_median": median,
        }
        if unreadable:
            described["non_numeric_cells"] = {"count": unreadable, "examples": examples, "treated_as": "missing"}
        self.columns[column] = described

    def _fit_date(self, column: str, values: pd.Series, train: pd.Series) -> None:
        moments = _parse_dates(values)
        parts = ["year", "month", "day", "dayofweek"]
        present = moments.dropna()
        if len(present) and (present.dt.hour != 0).any():
            parts.append("hour")
        medians = {part: _median_or_zero(getattr(moments[train].dt, part)) for part in parts}
        self.record_date(column, medians, int(moments.isna().sum()))

    def record_date(self, column: str, medians: dict[str, float], missing_or_unreadable: int) -> None:
        """medians: the training median of each part the column becomes (year, month, day, dayofweek[, hour])."""
        self.dates[column] = list(medians)
        for part, median in medians.items():
            self.numeric[f"{column}_{part}"] = median
        self.columns[column] = {
            "kind": "date",
            "became": [f"{column}_{part}" for part in medians],
            "missing_or_unreadable": missing_or_unreadable,
        }

    def record_text(self, column: str, training_rows: int, counts: pd.Series, missing: int) -> None:
        """counts: how often each value is in the training split (all of them, or at least the most
        frequent MAX_CATEGORIES, ties by value, when their number is given as `counts.attrs["distinct"]`)."""
        distinct = int(counts.attrs.get("distinct", len(counts)))
        if training_rows >= MIN_ROWS_FOR_IDENTIFIER and distinct >= IDENTIFIER_SHARE * training_rows:
            self.columns[column] = {
                "kind": "dropped",
                "reason": f"looks like an identifier: {distinct:,} distinct values in {training_rows:,} training rows",
            }
            return
        # The most frequent (ties by value), then in the order of their values: the same categories
        # make the same features in every run, whatever their counts, so models can be compared.
        kept = sorted(sorted(counts.index, key=lambda value: (-counts[value], str(value)))[:MAX_CATEGORIES], key=str)
        self.categories[column] = [str(value) for value in kept]
        self.columns[column] = {
            "kind": "category",
            "categories": self.categories[column],
            "distinct_in_training": distinct,
            "other": f"{max(distinct - len(kept), 0):,} rarer values become '{column}=other'",
            "missing": missing,
        }

    def saved(self) -> dict[str, Any]:
        """Everything transform uses, as JSON can hold it (a float is written as its repr: read back exactly)."""
        return {"columns": self.columns, "numeric": self.numeric, "dates": self.dates, "categories": self.categories}

    @classmethod
    def restored(cls, saved: dict[str, Any]) -> Encoder:
        """The encoder `saved` describes: its transform gives the features the fitted one gave."""
        encoder = cls()
        encoder.columns = {str(column): dict(described) for column, described in saved["columns"].items()}
        encoder.numeric = {str(name): float(value) for name, value in saved["numeric"].items()}
        encoder.dates = {str(column): [str(part) for part in parts] for column, parts in saved["dates"].items()}
        encoder.categories = {str(column): [str(v) for v in kept] for column, kept in saved["categories"].items()}
        return encoder

    def feature_names(self) -> list[str]:
        names: list[str] = []
        for column, described in self.columns.items():
            if described["kind"] == "numeric":
                names.append(column)
            elif described["kind"] == "date":
                names.extend(described["became"])
            elif described["kind"] == "category":
                names.extend(f"{column}={value}" for value in self.categories[column])
                names.extend([f"{column}=other", f"{column}=missing"])
        return names

    def transform(self, features: pd.DataFrame) -> np.ndarray:
        """The features of these rows (a column the encoder dropped need not be there)."""
        parts: list[np.ndarray] = []
        for column, described in self.columns.items():
            if described["kind"] == "dropped":
                continue
            values = features[column]
            if described["kind"] == "numeric":
                numbers = _numbers(values)[0]
                parts.append(numbers.fillna(self.numeric[column]).to_numpy(dtype=float)[:, None])
            elif described["kind"] == "date":
                moments = _parse_dates(values)
                for part in self.dates[column]:
                    fill = self.numeric[f"{column}_{part}"]
                    parts.append(getattr(moments.dt, part).astype(float).fillna(fill).to_numpy()[:, None])
            elif described["kind"] == "category":
                text = _text(values)
                kept = self.categories[column]
                block = np.zeros((len(values), len(kept) + 2))
                for position, value in enumerate(kept):
                    block[:, position] = (text == value).to_numpy()
                block[:, len(kept)] = (text.notna() & ~text.isin(kept)).to_numpy()
                block[:, len(kept) + 1] = text.isna().to_numpy()
                parts.append(block)
        return np.hstack(parts)


def _numbers(values: pd.Series) -> tuple[pd.Series, list[str], int, int]:
    """Floats, with unreadable cells, inf and -inf as missing; a few unreadable cells, their count, the infinities."""
    examples: list[str] = []
    unreadable = 0
    if values.dtype == object:
        text = _text(values)
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text[numbers.isna() & text.notna()]
        unreadable = len(bad)
        examples = [str(value) for value in bad.unique()[:3]]
    else:
        numbers = values
    numbers = numbers.astype(float)
    infinite = int(np.isinf(numbers).sum())
    return numbers.where(np.isfinite(numbers)), examples, unreadable, infinite


def _text(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip().where(values.notna())
    return text.where(text != "")


def _median_or_zero(values: pd.Series) -> float:
    median = values.astype(float).median()
    return 0.0 if math.isnan(median) else float(median)


# -- what the endpoint serves ----------------------------------------------------------------------
# The model package is an inference pipeline (pipeline/definition.py): serving.py in the scikit-learn
# image turns a caller's raw rows into features with this Encoder, saved by Preprocess and read back,
# then XGBoost, then serving.py again for the labels. Preprocess writes the `transform` output:
# model.tar.gz (encoder.json and code/: serving.py and this script, which it imports) and a smoke sample
# of the test split, which Evaluate turns into smoke_check.json. How a request's cells become the values
# Preprocess read from a file is defined here, for serving.py and for choosing the smoke sample's cells.


@dataclass(frozen=True)
class Served:
    """What Preprocess hands the endpoint: the fitted encoder's document, and the smoke sample (raw rows
    as a caller sends them, and the same rows' features as Preprocess encoded them)."""

    document: dict[str, Any]
    smoke_rows: str
    smoke_features: np.ndarray
    baseline_rows: pd.DataFrame  # the training rows, every column but the target, as Preprocess read them


def served(
    encoder: Encoder, decisions: Decisions, column_order: list[str], test_rows: pd.DataFrame, train_rows: pd.DataFrame
) -> Served:
    """``column_order``: every column read, target included, in the first file's order; ``test_rows``:
    the test split's first rows, ``train_rows`` the training split's, with every column, as Preprocess
    read them."""
    document = {
        "format": ENCODER_FORMAT,
        "target": decisions.target,
        "id_column": decisions.id_column,
        "problem_type": decisions.problem_type,
        "label_mapping": decisions.label_mapping,
        "column_order": column_order,
        "features": encoder.feature_names(),
        "encoder": encoder.saved(),
    }
    baseline_rows = train_rows.drop(columns=[decisions.target]).reset_index(drop=True)
    return Served(document, *smoke_sample(test_rows.head(SMOKE_ROWS), decisions.target, encoder), baseline_rows)


class UnreadableCell(ValueError):
    """A request's cell that is not what its column holds: a number, or a date."""

    def __init__(self, row: int, column: str, text: str, kind: str) -> None:
        what = "a number" if kind == "numeric" else "a date"
        super().__init__(f"row {row}, column {column!r}: {text.strip()!r} is not {what}")


def used_columns(encoder: Encoder) -> list[str]:
    """The columns the features are made of (the encoder's others were dropped)."""
    return [column for column, described in encoder.columns.items() if described["kind"] != "dropped"]


def request_frame(cells: dict[str, list[str]], encoder: Encoder, decimal: str) -> pd.DataFrame:
    """The used columns of a request's rows (``cells``: each column's texts, row by row) as Preprocess
    holds such columns once read from a file, for Encoder.transform; UnreadableCell names the first cell
    (by row, then column) that is not its column's kind."""
    data: dict[str, Any] = {}
    first: tuple[int, int, str] | None = None
    for order, column in enumerate(used_columns(encoder)):
        described = encoder.columns[column]
        data[column], unreadable = request_values(cells[column], described, decimal)
        if unreadable and (first is None or (unreadable[0], order) < first[:2]):
            first = (unreadable[0], order, column)
    if first is not None:
        row, _, column = first
        raise UnreadableCell(row + 1, column, cells[column][row], encoder.columns[column]["kind"])
    return pd.DataFrame(data, index=pd.RangeIndex(len(next(iter(cells.values()), []))))


def request_values(texts: list[str], described: dict[str, Any], decimal: str) -> tuple[Any, list[int]]:
    """One column's cells as read_csv gives them (numbers as float() reads them, pandas' true and false
    texts as 1 and 0, its missing texts as missing), and the positions of those that are not a number
    (numeric) or a date (date). Preprocess read such a cell as missing; a request that holds one is refused."""
    if described["kind"] == "numeric":
        return _request_numbers(texts, decimal)
    tokens = pd.Series([None if text.strip() in NA_TEXTS else text.lstrip() for text in texts], dtype=object)
    if described["kind"] == "date":
        unreadable = tokens.notna() & _parse_dates(tokens).isna()
        return tokens, [int(position) for position in np.flatnonzero(unreadable.to_numpy())]
    # pandas reads a column of true/false texts with a gap as the objects True and False ("True", "False").
    kept = set(described.get("categories", ()))
    for value, texts_of_value in (("True", TRUE_TEXTS), ("False", FALSE_TEXTS)):
        if value in kept:
            tokens = tokens.where(~(tokens.isin(texts_of_value) & ~tokens.isin(kept)), value)
    return tokens, []


def _request_numbers(texts: list[str], decimal: str) -> tuple[np.ndarray, list[int]]:
    numbers = np.full(len(texts), np.nan)
    unreadable = []
    for position, text in enumerate(texts):
        token = text.strip()
        if token in NA_TEXTS:
            continue
        if token in TRUE_TEXTS or token in FALSE_TEXTS:
            numbers[position] = 1.0 if token in TRUE_TEXTS else 0.0
            continue
        spelled = token.replace(",", ".") if decimal == "," else token
        if NUMBER_TEXT.fullmatch(spelled) or INFINITY_TEXT.fullmatch(spelled):
            numbers[position] = float(spelled)
        else:
            unreadable.append(position)
    return numbers, unreadable


def smoke_sample(rows: pd.DataFrame, target: str, encoder: Encoder) -> tuple[str, np.ndarray]:
    """These rows as a caller sends them: CSV with a header, every column but the target, each cell as
    text that reads back to its value; a cell the endpoint cannot read is left empty (Preprocess read it
    as missing, as it reads an empty cell: the same features). And their features as Preprocess encodes them."""
    columns = [column for column in rows.columns if column != target]
    texts = {column: [written(value) for value in rows[column].tolist()] for column in columns}
    for column in used_columns(encoder):
        for position in request_values(texts[column], encoder.columns[column], ".")[1]:
            texts[column][position] = ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*(texts[column] for column in columns), strict=True))
    return buffer.getvalue(), encoder.transform(rows)


def written(value: Any) -> str:
    """A value as Preprocess read it, as the text of a CSV cell that reads back to it (missing: empty)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if pd.isna(value):
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def features_csv(features: np.ndarray) -> str:
    """Rows of features as CSV, each value as the float32 the built-in algorithm reads, in its shortest
    text (numpy's, as the split files' Arrow writes it)."""
    rows = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    return "".join(",".join(map(str, row)) + "\n" for row in rows)


def write_transform(base_dir: Path, served_files: Served, code: list[Path]) -> None:
    """The `transform` output: model.tar.gz (the same bytes for the same encoder and code), the smoke sample."""
    folder = base_dir / TRANSFORM_OUTPUT
    folder.mkdir(parents=True, exist_ok=True)
    members = {ENCODER_FILE: json.dumps(served_files.document, indent=2).encode("utf-8")}
    members |= {f"{CODE_FOLDER}/{path.name}": path.read_bytes() for path in code}
    # No time, owner or file name in the archive: the same encoder and code give the same bytes.
    with (
        open(folder / TRANSFORM_ARCHIVE, "wb") as sink,
        gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as archive,
    ):
        for name, content in members.items():
            member = tarfile.TarInfo(name)
            member.size, member.mode = len(content), 0o644
            archive.addfile(member, io.BytesIO(content))
    (folder / SMOKE_ROWS_FILE).write_text(served_files.smoke_rows, encoding="utf-8")
    (folder / SMOKE_FEATURES_FILE).write_text(features_csv(served_files.smoke_features), encoding="utf-8")


def write_baseline(base_dir: Path, rows: pd.DataFrame) -> None:
    """The `baseline` output: the statistics and the constraints a drift check compares prod's requests with."""
    quality = data_quality_module(base_dir)
    folder = base_dir / BASELINE_OUTPUT
    folder.mkdir(parents=True, exist_ok=True)
    stats = quality.statistics(rows)
    (folder / quality.STATISTICS_FILE).write_text(json.dumps(stats, indent=2), encoding="utf-8")
    (folder / quality.CONSTRAINTS_FILE).write_text(json.dumps(quality.constraints(stats), indent=2), encoding="utf-8")


def data_quality_module(base_dir: Path) -> Any:
    """data_quality.py as a module: read and run from where the job put it (the job's paths are read
    as files; the local runner maps them, and an import would look past that)."""
    import types

    shipped = base_dir / "input" / DATA_QUALITY_CODE_FOLDER / DATA_QUALITY_SCRIPT
    script = shipped if shipped.exists() else Path(__file__).with_name(DATA_QUALITY_SCRIPT)
    if not script.exists():
        raise FileNotFoundError(f"{DATA_QUALITY_SCRIPT} was not found at {shipped} nor beside {Path(__file__).name}")
    module = types.ModuleType("data_quality")
    module.__file__ = str(script)
    sys.modules["data_quality"] = module
    exec(compile(script.read_text(encoding="utf-8"), str(script), "exec"), module.__dict__)  # noqa: S102 - our own step module
    return module


def serving_code(base_dir: Path) -> list[Path]:
    """serving.py (the job's serving-code input, or beside this script when run by hand) and this script,
    which it imports: the code/ of model.tar.gz."""
    shipped = base_dir / "input" / SERVING_CODE_FOLDER / SERVING_SCRIPT
    script = shipped if shipped.exists() else Path(__file__).with_name(SERVING_SCRIPT)
    if not script.exists():
        raise FileNotFoundError(f"{SERVING_SCRIPT} was not found at {shipped} nor beside {Path(__file__).name}")
    return [script, Path(__file__)]


# -- the step ------------------------------------------------------------------------------------


def objects_read(input_dir: Path, input_uri: str, data_type: str) -> dict[str, Any]:
    """Which objects the run read (key, size, MD5: the ETag of a single-part upload) and a digest of the list.

    SageMaker downloads an S3Prefix input's objects under their key less the prefix, a manifest's
    under their key less the manifest's prefix (the bucket, for the manifests of this project).
    """
    bucket, _, key = input_uri[len("s3://") :].partition("/") if input_uri else ("", "", "")
    objects = []
    for path in input_files(input_dir):
        relative = path.relative_to(input_dir).as_posix()
        if data_type == "ManifestFile":
            object_key = relative
        elif key.endswith("/" + relative) or key == relative:
            object_key = key  # InputKey named one object
        else:
            object_key = f"{key.rstrip('/')}/{relative}" if key else relative
        objects.append({"key": object_key, "size": path.stat().st_size, "md5": _md5(path)})
    listing = "\n".join(f"{o['key']}\t{o['size']}\t{o['md5']}" for o in objects)
    return {
        "input": input_uri,
        # The model package's metadata holds values of at most 256 characters.
        "input_for_registry": input_uri if len(input_uri) <= 256 else input_uri[:200] + "... (see data_report.json)",
        "input_data_type": data_type,
        "bucket": bucket,
        "objects": objects,
        "object_count": str(len(objects)),
        "objects_sha256": hashlib.sha256(listing.encode("utf-8")).hexdigest(),
    }


def data_input(base_dir: Path) -> tuple[str, str]:
    """The S3 URI and data type of the "data" input, from the job configuration SageMaker writes.

    /opt/ml/config/processingjobconfig.json, beside /opt/ml/processing; absent when run by hand.
    """
    config = base_dir.parent / "config" / "processingjobconfig.json"
    if not config.exists():
        return "", "S3Prefix"
    for item in json.loads(config.read_text(encoding="utf-8")).get("ProcessingInputs", []):
        if item.get("InputName") == "data" and "S3Input" in item:
            return str(item["S3Input"]["S3Uri"]), str(item["S3Input"].get("S3DataType", "S3Prefix"))
    return "", "S3Prefix"


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(
    input_dir: Path, target: str, requested: str, id_column: str = ""
) -> tuple[dict[str, Any], Iterator[tuple[str, np.ndarray]], Served]:
    """The report, the label-first rows of each split (encoded a chunk at a time), and what the endpoint serves."""
    frames = [read_file(path) for path in input_files(input_dir)]
    table, report = combine(frames, target)
    if id_column and id_column not in table.columns:
        raise DataRefused(f"IdColumn {id_column!r} is not a column of the data (or not of every file)")
    table, rows = clean_target(table, target)
    if len(table) < MIN_ROWS:
        raise DataRefused(f"only {len(table)} usable data rows; at least {MIN_ROWS} are needed to train and evaluate")
    problem_type, rule = choose_problem_type(table[target], requested, target)
    label, mapping = encode_label(table[target], problem_type)
    split, counts = assign_splits(table, target, id_column)
    features = table.drop(columns=[target, id_column] if id_column else [target])
    train = split == "train"
    encoder = Encoder()
    encoder.fit(features, report.pop("kinds"), train)
    decisions = Decisions(target, requested, problem_type, rule, id_column, mapping)
    baseline = _baseline(label[train], problem_type, len(mapping or {}))
    report.update(accepted_report(decisions, {**rows, "used": len(table), **counts}, baseline, encoder))
    columns = [str(column) for column in table.columns]
    served_files = served(encoder, decisions, columns, table[split == "test"], table[train])
    return report, encoded_parts(label, features, split, encoder), served_files


@dataclass(frozen=True)
class Decisions:
    """What a run decided about the target and the split, as the report records it."""

    target: str
    requested: str
    problem_type: str
    rule: str
    id_column: str
    label_mapping: dict[str, str] | None


def accepted_report(
    decisions: Decisions, rows: dict[str, int], baseline: dict[str, Any], encoder: Encoder
) -> dict[str, Any]:
    """The sections of an accepted data report after the files' (both engines write these)."""
    id_column, classes = decisions.id_column, len(decisions.label_mapping or {})
    return {
        "accepted": True,
        "reason": "",
        "target": decisions.target,
        "problem_type": {"requested": decisions.requested, "chosen": decisions.problem_type, "rule": decisions.rule},
        "split": {
            "by": f"a hash of column {id_column!r}" if id_column else "a hash of the features, not the target",
            "percent": _split_percentages(),
            "scheme": SPLIT_SCHEME,
        },
        "rows": rows,
        "label_mapping": decisions.label_mapping,
        "baseline": baseline,
        "columns": encoder.columns,
        "features": encoder.feature_names(),
        "training": _training(decisions.problem_type, classes),
    }


def assign_splits(table: pd.DataFrame, target: str, id_column: str) -> tuple[pd.Series, dict[str, int]]:
    """Each row's split, and how many rows each has; refused when one would be empty."""
    split_keys = table[[id_column]] if id_column else table.drop(columns=[target])
    split = split_of_rows(split_keys)
    counts = {name: int((split == name).sum()) for name, _ in SPLIT_BUCKETS}
    empty = [name for name, count in counts.items() if count == 0]
    if empty:
        raise empty_split(empty[0], len(table), split_keys.drop_duplicates().shape[0], id_column)
    return split, counts


def check_shards(rows: dict[str, int], part_files: int) -> None:
    """Refused when the train or validation split has fewer rows than part files. The pipeline writes
    one part file per training instance, and each instance trains on its share of both splits' files
    (ShardedByS3Key): an empty part would leave an instance without rows, and the 3.2-0 algorithm
    drops an instance without validation rows from training, with the training rows it was given."""
    for name in ("train", "validation"):
        if rows[name] < part_files:
            raise DataRefused(
                f"the {name} split has {rows[name]} rows, fewer than TrainingInstanceCount ({part_files}): "
                "every training instance needs rows of both the train and the validation split; "
                "train on fewer instances"
            )


def empty_split(name: str, rows: int, distinct: int, id_column: str) -> DataRefused:
    return DataRefused(
        f"the {name} split would be empty: {rows} usable data rows, {distinct} distinct "
        f"{'values of ' + repr(id_column) if id_column else 'feature rows'} (rows alike go to one split); "
        "add rows with other values" + ("" if id_column else ", or name an IdColumn to split by")
    )


def _training(problem_type: str, classes: int) -> dict[str, str]:
    objective, eval_metric = OBJECTIVES[problem_type]
    # Only the multi: objectives take num_class (xgboost fails with it on the others).
    return {
        "objective": objective,
        "eval_metric": eval_metric,
        "num_class": str(classes) if problem_type == "multiclass" else "",
    }


def encoded_parts(
    label: pd.Series, features: pd.DataFrame, split: pd.Series, encoder: Encoder
) -> Iterator[tuple[str, np.ndarray]]:
    for start in range(0, len(features), ENCODE_CHUNK_ROWS):
        chunk = slice(start, start + ENCODE_CHUNK_ROWS)
        encoded = np.column_stack([label.iloc[chunk].to_numpy(), encoder.transform(features.iloc[chunk])])
        chunk_split = split.iloc[chunk].to_numpy()
        for name, _ in SPLIT_BUCKETS:
            yield name, encoded[chunk_split == name]


def _baseline(training_label: pd.Series, problem_type: str, classes: int) -> dict[str, Any]:
    """What the trivial model predicts, learned on the training split: the mean, or the class shares."""
    if problem_type == "regression":
        return {"prediction": "training mean", "mean": float(training_label.mean())}
    shares = training_label.value_counts(normalize=True).reindex(range(classes), fill_value=0.0)
    return {"prediction": "training class shares", "class_shares": [float(share) for share in shares]}


def part_file_names(name: str, part_files: int) -> list[str]:
    """The files a split is written to: `train.csv`, or `train-part-00000.csv`... when there are several
    (one per training instance at least: the built-in algorithm shards its channel by file)."""
    if part_files <= 1:
        return [f"{name}.csv"]
    return [f"{name}-part-{number:05d}.csv" for number in range(part_files)]


def write_outputs(
    base_dir: Path, report: dict[str, Any], parts: Iterator[tuple[str, np.ndarray]], part_files: int = 1
) -> None:
    """Each split as CSV, label first, no header, written by Arrow (in C). The features are written
    as float32, the type the built-in algorithm reads them as (its DMatrix holds float32), each in
    its shortest exact text; the label keeps its double. With several part files, a split's rows are
    dealt to them in turn, so their sizes differ by a row at most."""
    sinks: dict[str, list[Any]] = {}
    dealt: dict[str, int] = {}
    for name, _ in SPLIT_BUCKETS:
        (base_dir / name).mkdir(parents=True, exist_ok=True)
        sinks[name] = [(base_dir / name / file).open("wb") for file in part_file_names(name, part_files)]
        dealt[name] = 0
    options = pa_csv.WriteOptions(include_header=False)
    try:
        for name, rows in parts:
            for number, sink in enumerate(sinks[name]):
                # Row k of the split goes to part (k mod N): continue the turn where the last chunk left it.
                share = rows[(number - dealt[name]) % len(sinks[name]) :: len(sinks[name])]
                if len(share):
                    pa_csv.write_csv(_label_first_table(share), sink, write_options=options)
            dealt[name] += len(rows)
    finally:
        for files in sinks.values():
            for sink in files:
                sink.close()
    write_report(base_dir, report)


def _label_first_table(rows: np.ndarray) -> Any:
    columns = [pa.array(rows[:, 0]), *(pa.array(rows[:, n].astype(np.float32)) for n in range(1, rows.shape[1]))]
    return pa.Table.from_arrays(columns, names=[str(n) for n in range(rows.shape[1])])


def write_report(base_dir: Path, report: dict[str, Any]) -> None:
    folder = base_dir / "report"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-column", required=True)
    parser.add_argument("--problem-type", default="auto", choices=PROBLEM_TYPES)
    parser.add_argument("--id-column", default="", help="split by this column's hash (default: the features')")
    parser.add_argument("--part-files", type=int, default=1, help="write each split as at least this many files")
    parser.add_argument("--base-dir", type=Path, default=Path("/opt/ml/processing"))
    args = parser.parse_args(argv)
    input_dir = args.base_dir / "input" / "data"
    lineage: dict[str, Any] = {}
    try:
        code = serving_code(args.base_dir)
        lineage = objects_read(input_dir, *data_input(args.base_dir))
        report, parts, served_files = prepare(input_dir, args.target_column, args.problem_type, args.id_column)
        part_files = max(args.part_files, 1)
        check_shards(report["rows"], part_files)
        report["lineage"] = lineage
        report["engine"] = ENGINE
        write_outputs(args.base_dir, report, parts, part_files)
        write_transform(args.base_dir, served_files, code)
        write_baseline(args.base_dir, served_files.baseline_rows)
    except DataRefused as refused:
        return write_refusal(args.base_dir, refused, {"target": args.target_column, "engine": ENGINE}, lineage)
    except Exception as error:
        write_exit_message(args.base_dir, error)
        raise
    print(summary(report))
    return 0


def write_refusal(base_dir: Path, refused: DataRefused, facts: dict[str, str], lineage: dict[str, Any]) -> int:
    """A refusal is the step's result, not its failure: the report says why, and CheckData ends the run."""
    refusal = {"accepted": False, "reason": str(refused), **facts}
    write_report(base_dir, {**refusal, "lineage": lineage} if lineage else refusal)
    print(f"REFUSED: {refused}")
    return 0


def write_exit_message(base_dir: Path, error: Exception) -> None:
    """/opt/ml/output/message beside /opt/ml/processing: SageMaker shows it as the job's ExitMessage."""
    message = base_dir.parent / "output" / "message"
    message.parent.mkdir(parents=True, exist_ok=True)
    message.write_text(f"{type(error).__name__}: {error}"[:1000], encoding="utf-8")


def summary(report: dict[str, Any]) -> str:
    chosen, rows = report["problem_type"], report["rows"]
    return (
        f"{chosen['chosen']} ({chosen['rule']}): {rows['train']} train, {rows['validation']} validation, "
        f"{rows['test']} test rows, {len(report['features'])} features"
    )


if __name__ == "__main__":
    sys.exit(main())
