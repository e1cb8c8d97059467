"""Preprocess on Spark: the decisions of preprocess.py, on data larger than one machine's memory.

Runs in the SageMaker Spark processing image 3.5 (Python 3.12, pandas 3.0, no pyarrow: see
pipeline/images.py) as the app of a PySparkProcessor job, with preprocess.py shipped beside it:

    smspark-submit --py-files preprocess.py preprocess_spark.py --target-column target [--part-files N]

The arguments, the folders under /opt/ml/processing, data_report.json and the `transform` output
(the same model.tar.gz and smoke sample) are preprocess.py's ("engine": "spark"). Spark reads the
files with every cell as text and spreads the rows over its executors. Each partition turns its rows
back into the values pandas would have read, a chunk at a time, and hands them to preprocess.py's
own functions: each row's canonical text and hash (its split), what each column holds, and at the
end the Encoder's transform. Only statistics reach the driver (counts, the most frequent categories,
medians) and the smoke sample's few test rows, never the other rows, so memory stays bounded.

Approximate: the training median of a numeric column is Spark's percentile_approx of the one or two
middle ranks: exact while its summary still holds every value (a few thousand values: the tests'
data sets), and beyond that within 1 / MEDIAN_ACCURACY of the values in rank.
The regression baseline's mean is summed in another order (a relative difference near 1e-15).
Not imitated: a row with more cells than the header (pandas refuses the file; Spark drops the extra
cells), a quoted cell holding a line break (Spark reads files line by line, to split them), and a
header naming one column twice (pandas renames the second `name.1`).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark import StorageLevel  # type: ignore[import-not-found]
from pyspark.sql import DataFrame, SparkSession  # type: ignore[import-not-found]
from pyspark.sql import functions as F
from pyspark.sql.types import (  # type: ignore[import-not-found]
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

import preprocess as pp  # type: ignore[import-not-found]  # shipped beside this script (--py-files)

ENGINE = "spark"  # a copy of reports.py's name, as preprocess.py keeps its own
CHUNK_ROWS = 10_000  # rows a Python worker turns into a pandas frame at once
MEDIAN_ACCURACY = 10_000  # percentile_approx's accuracy (its default): see the module's docstring
TRUE_TOKENS, FALSE_TOKENS = pp.TRUE_TEXTS, pp.FALSE_TEXTS  # pandas' default true_values and false_values
NA_TOKENS = frozenset(pp.NA_TEXTS)
INFINITY = pp.INFINITY_TEXT
# What pd.to_numeric reads in a text column (column_kind's test): preprocess's numbers, or an infinity.
NUMERIC_TEXT = re.compile(rf"{pp.NUMBER_TEXT.pattern}|{INFINITY.pattern}", re.IGNORECASE)
DATE_PARTS = ("year", "month", "day", "dayofweek", "hour")
SPLIT_INDEX = {name: n for n, (name, _) in enumerate(pp.SPLIT_BUCKETS)}  # a split's part files come n-th
COUNTS = ("present", "numbers", "integers", "bools", "nonblank", "numeric_text")
SAMPLE = 1000  # column_kind looks for dates in a column's first 1000 texts
BASELINE_ROWS = 100_000  # training rows the drift baseline is computed from (pandas reads all of its own)
ORDER_BITS = 32  # a row's order: its partition's index, then its place in the partition


# -- the files, on the driver ------------------------------------------------------------------------


@dataclass
class CsvFile:
    """One input file: how it is written, its header, and (after profiling) what each column holds."""

    path: Path
    encoding: str
    separator: str
    decimal: str
    columns: list[str]
    rows: int = 0
    dtypes: dict[str, str] = field(default_factory=dict)  # as pandas would read it: see file_dtype

    @property
    def info(self) -> dict[str, Any]:
        return {
            "name": self.path.name,
            "rows": self.rows,
            "separator": {",": "comma", ";": "semicolon", "\t": "tab"}[self.separator],
            "encoding": "UTF-8 with BOM" if self.encoding == "utf-8-sig" else "UTF-8",
            "decimal": "comma" if self.decimal == "," else "point",
        }


def scan(path: Path) -> CsvFile:
    """Refusals that need the file's bytes (empty, not text, not UTF-8), and its header."""
    encoding, separator, decimal = pp.sniff(path)
    check_utf8(path)
    with path.open(encoding=encoding, newline="") as handle:
        header = next((row for row in csv.reader(handle, delimiter=separator, skipinitialspace=True) if row), [])
    return CsvFile(path, encoding, separator, decimal, [name.strip() for name in header])


def check_utf8(path: Path) -> None:
    """The whole file is UTF-8 (a BOM is too), read a block at a time; else the first bad byte is named."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:  # error.object: the bytes held back from the last block, then this one
                byte = error.object[error.start]
                raise pp.DataRefused(pp.not_utf8(path, byte, offset - pending + error.start)) from None
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise pp.DataRefused(pp.not_utf8(path, path.read_bytes()[-1], path.stat().st_size - 1)) from None


def real_folder(path: Path) -> str:
    """The folder as the operating system names it: Spark's JVM opens files itself, not through Python."""
    here = os.getcwd()
    os.chdir(path)
    try:
        return os.getcwd()
    finally:
        os.chdir(here)


# -- reading, as pandas would ----------------------------------------------------------------------


def number_pattern(decimal: str) -> re.Pattern[str]:
    """The cells pandas' C parser reads as a float with this decimal mark (spaces around allowed)."""
    mark = re.escape(decimal)
    return re.compile(
        rf"\s*(?:[+-]?(?:[0-9]+{mark}?[0-9]*|{mark}[0-9]+)(?:[eE][+-]?[0-9]+)?|{INFINITY.pattern})\s*", re.I
    )


def tokens_of(rows: list[tuple[str | None, ...]], width: int) -> list[pd.Series]:
    """A batch of rows as columns of tokens (a short row's missing cells: None), missing values as None."""
    columns = list(zip(*[row + (None,) * (width - len(row)) for row in rows], strict=True)) if rows else []
    found = []
    for column in columns or [() for _ in range(width)]:
        tokens = pd.Series(column, dtype=object)
        found.append(tokens.where(~tokens.isin(NA_TOKENS), None))
    return found


def chunked(rows: Iterable[Any]) -> Iterator[list[Any]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def file_dtype(present: int, numbers: int, integers: int, bools: int, rows: int) -> str:
    """empty, integer, number, bool or object: the dtype pandas gives a column of one file."""
    if present == 0:
        return "empty"
    if numbers == present:
        return "integer" if integers == present and present == rows else "number"
    if bools == present:
        return "bool" if present == rows else "bools"  # with a missing cell: objects True/False/NaN
    return "object"


def kind_of(dtype: str, stats: dict[str, Any], texts: list[str]) -> str:
    """preprocess.column_kind, from a column's statistics (and its first SAMPLE texts) instead of its values."""
    if dtype == "empty":
        return "empty"
    if dtype in ("integer", "number", "bool"):
        return "numeric"
    nonblank = stats["nonblank"]
    if nonblank == 0:
        return "empty"
    if dtype != "bools" and stats["numeric_text"] / nonblank >= pp.NUMERIC_SHARE:
        return "numeric"
    sample = pd.Series(["True" if t in TRUE_TOKENS else "False" for t in texts] if dtype == "bools" else texts)
    if len(sample) and sample.str.contains(r"\d").all() and pp._parse_dates(sample).notna().mean() >= pp.DATE_SHARE:
        return "date"
    return "text"


def values_of(tokens: pd.Series, dtype: str, decimal: str) -> pd.Series:
    """The values pandas holds for a column of one file, of this file dtype (tokens: missing as None)."""
    if dtype == "integer":
        return tokens.astype(np.int64)
    if dtype in ("number", "empty"):
        present = tokens.fillna("nan")
        return (present.str.replace(decimal, ".", regex=False) if decimal != "." else present).astype(float)
    if dtype in ("bool", "bools"):
        return tokens.isin(TRUE_TOKENS).astype(object).where(tokens.notna(), None)
    return tokens


def combined_dtype(dtypes: list[str]) -> str:
    """The dtype of a column once the files are concatenated: float, int, bool or object."""
    if all(dtype in ("integer",) for dtype in dtypes):
        return "int"
    if all(dtype in ("integer", "number", "empty") for dtype in dtypes):
        return "float"
    if all(dtype == "bool" for dtype in dtypes):
        return "bool"
    return "object"


# -- the plan the workers follow ---------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What a worker needs to read its rows as pandas would, and to make each row's decisions."""

    target: str
    id_column: str
    columns: list[str]  # the columns every file has, in the first file's order
    positions: list[list[int]]  # per file: where each of those columns is in it
    file_dtypes: list[list[str]]  # per file: the dtype pandas gives each of those columns
    decimals: list[str]
    dtypes: list[str]  # each column's dtype once the files are concatenated
    kinds: dict[str, str]  # each feature column's kind: numeric, date, text or empty

    @property
    def features(self) -> list[str]:
        return [c for c in self.columns if c not in (self.target, self.id_column)]

    @property
    def split_columns(self) -> list[str]:
        keys = [self.id_column] if self.id_column else [c for c in self.columns if c != self.target]
        return sorted(keys, key=str)


def frame_of(plan: Plan, file: int, rows: list[tuple[str | None, ...]]) -> pd.DataFrame:
    """Rows of one file as pandas would hold them after reading each file and concatenating."""
    tokens = tokens_of(rows, max(plan.positions[file], default=-1) + 1)
    data: dict[str, Any] = {}
    for position, (column, dtype) in enumerate(zip(plan.columns, plan.dtypes, strict=True)):
        values = values_of(
            tokens[plan.positions[file][position]], plan.file_dtypes[file][position], plan.decimals[file]
        )
        if dtype == "int":
            data[column] = values.to_numpy(dtype=np.int64)
        elif dtype == "float":
            data[column] = values.astype(float).to_numpy()
        elif dtype == "bool":
            data[column] = values.astype(bool).to_numpy()
        else:
            # A Series of dtype object stays one (pandas 3 makes an array of strings its own string dtype).
            data[column] = pd.Series(values.tolist(), dtype=object).where(values.notna().to_numpy(), None)
    return pd.DataFrame(data)


def batches(
    plan: Plan, rows: Iterable[tuple[int, tuple[str | None, ...]]], index: int
) -> Iterator[tuple[list[int], pd.DataFrame]]:
    """The partition's rows CHUNK_ROWS at a time (a partition holds rows of one file): their order
    numbers, and the rows as a pandas frame."""
    start = index << ORDER_BITS
    for batch in chunked(rows):
        yield list(range(start, start + len(batch))), frame_of(plan, batch[0][0], [tokens for _, tokens in batch])
        start += len(batch)


def target_of(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """preprocess.clean_target's value of each cell (as text; missing: None), and that value as a number."""
    if values.dtype == object:
        text = values.astype(str).str.strip().where(values.notna())
        text = text.where(text != "")
        return text.astype(object).where(text.notna(), None), pd.to_numeric(text, errors="coerce")
    numbers = values.astype(float)
    finite = np.isfinite(numbers)
    text = pd.Series([str(v) for v in values.tolist()], dtype=object).where(finite, None)
    return text, numbers.where(finite)


def texts_of(values: pd.Series) -> list[str]:
    """preprocess.cell_text of each cell (numbers of a float column without its type tests)."""
    if values.dtype == float:
        return [pp.number_text(value) for value in values.tolist()]
    return [pp.cell_text(value) for value in values.tolist()]


def split_names(plan: Plan, frame: pd.DataFrame) -> tuple[list[str], list[int]]:
    """Each row's split by preprocess.py's scheme (its row_buckets, in pure Python), and a digest of its text."""
    columns = plan.split_columns
    names_text = json.dumps([str(column) for column in columns], separators=(",", ":"))
    cells = [texts_of(frame[column]) for column in columns]
    names, digests = [], []
    for row in zip(*cells, strict=True) if cells else [() for _ in range(len(frame))]:
        digest = hashlib.sha256(",".join((names_text, *row)).encode("utf-8")).digest()
        bucket = int.from_bytes(digest[:8], "big") % 100
        names.append(next(name for name, upper in pp.SPLIT_BUCKETS if bucket < upper))
        digests.append(int.from_bytes(digest[:8], "big", signed=True))
    return names, digests


# -- each row's decisions and what its cells hold (the workers) --------------------------------------


def schema_of(plan: Plan) -> StructType:
    fields = [
        StructField("ord", LongType()),
        StructField("kept", BooleanType()),
        StructField("split", StringType()),
        StructField("label_text", StringType()),
        StructField("label_number", DoubleType()),
        StructField("digest", LongType()),
    ]
    for position, column in enumerate(plan.features):
        kind = plan.kinds.get(column, "empty")
        if kind == "numeric":
            fields += [StructField(f"n{position}", DoubleType()), StructField(f"s{position}", IntegerType())]
            fields += [StructField(f"b{position}", StringType())]
        elif kind == "date":
            fields += [StructField(f"d{position}_{part}", IntegerType()) for part in DATE_PARTS]
        elif kind == "text":
            fields.append(StructField(f"t{position}", StringType()))
    return StructType(fields)


FINITE, MISSING, INFINITE, UNREADABLE = 0, 1, 2, 3


def numeric_cells(values: pd.Series) -> tuple[list[Any], list[int], list[Any]]:
    """Each cell as preprocess._numbers reads it: the number (finite only), its state, and its text if unreadable."""
    text = pp._text(values) if values.dtype == object else None
    raw = (pd.to_numeric(text, errors="coerce") if text is not None else values).astype(float)
    state = np.where(np.isfinite(raw), FINITE, np.where(np.isinf(raw), INFINITE, MISSING))
    bad: list[Any] = [None] * len(values)
    if text is not None:
        unreadable = (raw.isna() & text.notna()).to_numpy()
        state[unreadable] = UNREADABLE
        bad = [str(t) if u else None for t, u in zip(text.tolist(), unreadable, strict=True)]
    numbers = [float(v) if s == FINITE else None for v, s in zip(raw.tolist(), state.tolist(), strict=True)]
    return numbers, state.tolist(), bad


def date_cells(values: pd.Series) -> list[list[Any]]:
    moments = pp._parse_dates(values)
    return [[None if pd.isna(v) else int(v) for v in getattr(moments.dt, part).tolist()] for part in DATE_PARTS]


def text_cells(values: pd.Series) -> list[Any]:
    text = pp._text(values)
    return [None if pd.isna(v) else str(v) for v in text.tolist()]


def row_records(
    plan: Plan, index: int, rows: Iterable[tuple[int, tuple[str | None, ...]]]
) -> Iterator[tuple[Any, ...]]:
    """One record per row (schema_of): its order, whether it has a target, its split, and its cells' states."""
    for orders, frame in batches(plan, rows, index):
        label_text, label_number = target_of(frame[plan.target])
        kept = label_text.notna().tolist()
        names, digests = split_names(plan, frame)
        columns: list[list[Any]] = [
            orders,
            kept,
            [n if k else None for n, k in zip(names, kept, strict=True)],
            label_text.tolist(),
            [None if pd.isna(v) else float(v) for v in label_number.tolist()],
            digests,
        ]
        for column in plan.features:
            kind = plan.kinds.get(column, "empty")
            if kind == "numeric":
                columns.extend(numeric_cells(frame[column]))
            elif kind == "date":
                columns.extend(date_cells(frame[column]))
            elif kind == "text":
                columns.append(text_cells(frame[column]))
        yield from zip(*columns, strict=True)


# -- the decisions, from statistics (the driver) -----------------------------------------------------


def counted(condition: Any) -> Any:
    return F.sum(F.when(condition, 1).otherwise(0))


def first_statistics(records: DataFrame, plan: Plan) -> dict[str, Any]:
    """One pass: rows, the target's summary, each split's size, and the counts each column's report needs."""
    kept, train = F.col("kept"), F.col("kept") & (F.col("split") == "train")
    label = F.col("label_number") if plan.dtypes[plan.columns.index(plan.target)] != "object" else F.col("label_text")
    numeric_label = F.col("label_number").isNotNull()
    columns = [
        F.count(F.lit(1)).alias("rows_read"),
        counted(kept).alias("used"),
        *(counted(kept & (F.col("split") == name)).alias(name) for name, _ in pp.SPLIT_BUCKETS),
        F.countDistinct(F.when(kept, label)).alias("distinct"),
        counted(kept & numeric_label).alias("numeric"),
        counted(kept & numeric_label & (F.col("label_number") == F.floor("label_number"))).alias("whole"),
        F.min_by(F.col("label_text"), F.when(kept, F.col("ord"))).alias("first"),
        F.min_by(F.col("label_text"), F.when(kept & ~numeric_label, F.col("ord"))).alias("text_example"),
    ]
    for position, column in enumerate(plan.features):
        kind = plan.kinds.get(column, "empty")
        if kind == "numeric":
            state = F.col(f"s{position}")
            columns += [
                counted(kept & (state == value)).alias(f"s{position}_{value}")
                for value in (MISSING, INFINITE, UNREADABLE)
            ]
            columns.append(counted(train & (state == FINITE)).alias(f"s{position}_train"))
        elif kind == "date":
            columns.append(counted(kept & F.col(f"d{position}_year").isNull()).alias(f"d{position}_missing"))
            columns.append(counted(kept & (F.col(f"d{position}_hour") != 0)).alias(f"d{position}_hours"))
        elif kind == "text":
            text = F.col(f"t{position}")
            columns.append(counted(kept & text.isNull()).alias(f"t{position}_missing"))
            columns.append(counted(train & text.isNotNull()).alias(f"t{position}_train"))
            columns.append(F.countDistinct(F.when(train, text)).alias(f"t{position}_distinct"))
    return dict(records.agg(*columns).first().asDict())


def medians(records: DataFrame, plan: Plan, stats: dict[str, Any]) -> dict[int, float]:
    """The training median of each numeric column: the mean of the two middle values when their count is
    even, as pandas takes it (exact up to MEDIAN_ACCURACY values, percentile_approx's rank beyond)."""
    train = F.col("kept") & (F.col("split") == "train")
    wanted = {}
    for position, column in enumerate(plan.features):
        count = stats.get(f"s{position}_train", 0) if plan.kinds.get(column) == "numeric" else 0
        if count:
            upper = 0.5 if count % 2 else (count // 2 + 1) / count
            values = F.when(train & (F.col(f"s{position}") == FINITE), F.col(f"n{position}"))
            wanted[position] = F.percentile_approx(values, F.array(F.lit(0.5), F.lit(upper)), MEDIAN_ACCURACY)
    if not wanted:
        return {}
    row = records.agg(*(expression.alias(str(p)) for p, expression in wanted.items())).first()
    return {p: (row[str(p)][0] + row[str(p)][1]) / 2 for p in wanted}


def date_medians(records: DataFrame, position: int, parts: list[str]) -> dict[str, float]:
    """The exact training median of each part of a date column, from how often each value occurs."""
    train = F.col("kept") & (F.col("split") == "train")
    found = {}
    for part in parts:
        name = f"d{position}_{part}"
        counts = sorted(records.where(train & F.col(name).isNotNull()).groupBy(name).count().collect())
        found[part] = _median_of_counts([(row[0], row[1]) for row in counts])
    return found


def _median_of_counts(counts: list[tuple[int, int]]) -> float:
    total = sum(count for _, count in counts)
    if not total:
        return 0.0
    wanted = [(total - 1) // 2, total // 2]  # the middle one or two, counted from 0
    middle, seen = [], 0
    for value, count in counts:
        middle += [float(value) for rank in wanted if seen <= rank < seen + count]
        seen += count
    return (middle[0] + middle[1]) / 2


def text_counts(records: DataFrame, position: int, distinct: int) -> pd.Series:
    """The most frequent MAX_CATEGORIES training values of a text column (ties by value), with how many there are."""
    name = f"t{position}"
    train = F.col("kept") & (F.col("split") == "train") & F.col(name).isNotNull()
    top = records.where(train).groupBy(name).count().orderBy(F.desc("count"), F.asc(name)).limit(pp.MAX_CATEGORIES)
    rows = top.collect()
    counts = pd.Series([row[1] for row in rows], index=[row[0] for row in rows], dtype=int)
    counts.attrs["distinct"] = distinct
    return counts


def unreadable_examples(records: DataFrame, position: int) -> list[str]:
    """The first 3 distinct texts of a numeric column's unreadable cells, in the order of the rows."""
    bad = F.col("kept") & (F.col(f"s{position}") == UNREADABLE)
    first = records.where(bad).groupBy(f"b{position}").agg(F.min("ord").alias("at")).orderBy("at").limit(3)
    return [row[0] for row in first.collect()]


def fit_encoder(records: DataFrame, plan: Plan, stats: dict[str, Any]) -> Any:
    """preprocess.Encoder, fitted from the statistics each column's kind needs."""
    encoder = pp.Encoder()
    fills = medians(records, plan, stats)
    for position, column in enumerate(plan.features):
        kind = plan.kinds.get(column, "empty")
        if kind == "empty":
            encoder.record_empty(column)
        elif kind == "numeric":
            counts = [stats[f"s{position}_{state}"] for state in (MISSING, INFINITE, UNREADABLE)]
            examples = unreadable_examples(records, position) if counts[2] else []
            encoder.record_numeric(column, fills.get(position, 0.0), *counts, examples)
        elif kind == "date":
            parts = list(DATE_PARTS[:4]) + (["hour"] if stats[f"d{position}_hours"] else [])
            encoder.record_date(column, date_medians(records, position, parts), stats[f"d{position}_missing"])
        else:
            distinct, rows = stats[f"t{position}_distinct"], stats[f"t{position}_train"]
            identifier = rows >= pp.MIN_ROWS_FOR_IDENTIFIER and distinct >= pp.IDENTIFIER_SHARE * rows
            counts = pd.Series(dtype=int) if identifier else text_counts(records, position, distinct)
            counts.attrs["distinct"] = distinct
            encoder.record_text(column, stats[f"t{position}_train"], counts, stats[f"t{position}_missing"])
    encoder.check_features()
    return encoder


def problem_type(stats: dict[str, Any], requested: str, target: str) -> tuple[str, str]:
    used = stats["used"]
    summary = pp.TargetSummary(
        distinct=stats["distinct"],
        is_numeric=stats["numeric"] == used,
        whole=stats["numeric"] == used and stats["whole"] == used,
        first=str(stats["first"]),
        text_example=stats["text_example"],
    )
    chosen, rule = pp.decide_problem_type(summary, requested, target)
    return str(chosen), str(rule)


def label_classes(records: DataFrame, chosen: str, numeric: bool) -> tuple[dict[Any, int], dict[str, str] | None]:
    """preprocess.encode_label's mapping: each class's key (a number, or the text) to its index, and the names."""
    if chosen == "regression":
        return {}, None
    key = "label_number" if numeric else "label_text"
    classes = sorted(row[0] for row in records.where("kept").select(key).distinct().collect())
    names = [pp._number_text(value) if numeric else str(value) for value in classes]
    return {value: n for n, value in enumerate(classes)}, {str(n): name for n, name in enumerate(names)}


def baseline(records: DataFrame, chosen: str, index: dict[Any, int], numeric: bool) -> dict[str, Any]:
    train = records.where(F.col("kept") & (F.col("split") == "train"))
    if chosen == "regression":
        return {"prediction": "training mean", "mean": float(train.agg(F.avg("label_number")).first()[0])}
    key = "label_number" if numeric else "label_text"
    counts = {row[0]: row[1] for row in train.groupBy(key).count().collect()}
    total = sum(counts.values())
    shares = [counts.get(value, 0) / total for value in sorted(index, key=index.__getitem__)]
    return {"prediction": "training class shares", "class_shares": [float(share) for share in shares]}


def check_rows(records: DataFrame, plan: Plan, stats: dict[str, Any]) -> None:
    """preprocess.py's refusals of the rows, in its order: the target, too few rows (then, after the
    problem type, empty splits: see check_splits)."""
    total, used = stats["rows_read"], stats["used"]
    dropped = total - used
    if dropped * 2 > total:
        raise pp.DataRefused(
            f"{dropped:,} of {total:,} rows have no value in target column {plan.target!r}: "
            "more than half of the rows would be lost"
        )
    if used < pp.MIN_ROWS:
        raise pp.DataRefused(f"only {used} usable data rows; at least {pp.MIN_ROWS} are needed to train and evaluate")


def check_splits(records: DataFrame, plan: Plan, stats: dict[str, Any]) -> None:
    empty = [name for name, _ in pp.SPLIT_BUCKETS if stats[name] == 0]
    if empty:
        distinct = records.where("kept").select("digest").distinct().count()
        raise pp.empty_split(empty[0], stats["used"], distinct, plan.id_column)


def split_starts(records: DataFrame) -> dict[tuple[int, int], int]:
    """Where each partition's rows of each split start in that split: one count per partition and split."""
    counted_rows = records.where("kept").groupBy(F.spark_partition_id().alias("partition"), "split").count()
    starts, seen = {}, dict.fromkeys(SPLIT_INDEX.values(), 0)
    for row in sorted(counted_rows.collect(), key=lambda row: row["partition"]):
        split = SPLIT_INDEX[row["split"]]
        starts[(row["partition"], split)] = seen[split]
        seen[split] += row["count"]
    return starts


def smoke_rows(records: DataFrame, rows: Any, plan: Plan) -> pd.DataFrame:
    """The first SMOKE_ROWS rows of the test split, in the order of the files, as pandas reads them
    (preprocess.smoke_sample makes the smoke sample of them): fetched by their order numbers."""
    test = F.col("kept") & (F.col("split") == "test")
    wanted = [row["ord"] for row in records.where(test).orderBy("ord").select("ord").limit(pp.SMOKE_ROWS).collect()]
    chosen = set(wanted)
    found = dict(rows.mapPartitionsWithIndex(lambda index, part: ordered_rows(index, part, chosen)).collect())
    frames = [frame_of(plan, found[order][0], [found[order][1]]) for order in wanted]
    return pd.concat(frames, ignore_index=True) if frames else frame_of(plan, 0, [])


def baseline_rows(records: DataFrame, rows: Any, plan: Plan) -> pd.DataFrame:
    """At most BASELINE_ROWS rows of the training split, chosen by their digest (a hash of the row: no
    order of the files favoured), as pandas reads them: the drift baseline's statistics are theirs."""
    train = F.col("kept") & (F.col("split") == "train")
    wanted = [row["ord"] for row in records.where(train).orderBy("digest").select("ord").limit(BASELINE_ROWS).collect()]
    chosen = set(wanted)
    found = rows.mapPartitionsWithIndex(lambda index, part: ordered_rows(index, part, chosen)).collect()
    by_file: dict[int, list[Any]] = {}
    for _, (file, row) in sorted(found, key=lambda item: item[0]):
        by_file.setdefault(file, []).append(row)
    frames = [frame_of(plan, file, file_rows) for file, file_rows in sorted(by_file.items())]
    return pd.concat(frames, ignore_index=True) if frames else frame_of(plan, 0, [])


def ordered_rows(index: int, rows: Iterable[tuple[int, Any]], chosen: set[int]) -> Iterator[tuple[int, Any]]:
    """The partition's rows whose order number (as `batches` numbers them) is chosen."""
    start = index << ORDER_BITS
    for number, row in enumerate(rows):
        if start + number in chosen:
            yield start + number, row


# -- the splits, written a partition at a time (the workers) -----------------------------------------


@dataclass(frozen=True)
class Output:
    """What a worker needs to encode and write its rows."""

    plan: Plan
    encoder: Any  # preprocess.Encoder, fitted
    classes: dict[Any, int]  # a class's key to its index (empty: regression)
    numeric_label: bool
    part_files: int
    starts: dict[tuple[int, int], int]  # (partition, split index) -> the split's rows in earlier partitions


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < pp.EXACT_INTEGERS else repr(float(value))


def encoded_lines(
    output: Output, index: int, rows: Iterable[tuple[int, tuple[str | None, ...]]]
) -> Iterator[tuple[int, str]]:
    """Each kept row as a CSV line (label first), keyed by its part file: split index * part files + part.
    Row k of a split (counted over every partition in order) goes to part k mod N, as in preprocess.py."""
    plan, parts = output.plan, output.part_files
    dealt = {split: output.starts.get((index, split), 0) for split in SPLIT_INDEX.values()}
    for _, batch in batches(plan, rows, index):
        label_text, label_number = target_of(batch[plan.target])
        kept = label_text.notna().to_numpy()
        names, _ = split_names(plan, batch)
        features = output.encoder.transform(batch.loc[kept, plan.features]).astype(np.float32)
        if output.classes:
            keys = label_number[kept] if output.numeric_label else label_text[kept]
            labels = [float(output.classes[key]) for key in keys.tolist()]
        else:
            labels = label_number[kept].tolist()
        for name, label, row in zip(
            [n for n, k in zip(names, kept, strict=True) if k], labels, features.tolist(), strict=True
        ):
            split = SPLIT_INDEX[name]
            line = ",".join(
                [number_text(label), *(number_text(v) if v.is_integer() else str(np.float32(v)) for v in row)]
            )
            yield split * parts + dealt[split] % parts, line
            dealt[split] += 1


def write_part(folders: dict[str, str], parts: int, key: int, lines: Iterable[tuple[int, str]]) -> Iterator[int]:
    """Partition `key` holds the lines of one part file of one split: write them there."""
    name = pp.SPLIT_BUCKETS[key // parts][0]
    path = os.path.join(folders[name], pp.part_file_names(name, parts)[key % parts])
    count = 0
    with open(path, "w", encoding="utf-8") as sink:
        for _, line in lines:
            sink.write(line + "\n")
            count += 1
    yield count


def write_splits(rows: Any, output: Output, base_dir: Path) -> None:
    parts = output.part_files
    folders = {}
    for name, _ in pp.SPLIT_BUCKETS:
        (base_dir / name).mkdir(parents=True, exist_ok=True)
        folders[name] = real_folder(base_dir / name)
    keyed = rows.mapPartitionsWithIndex(lambda index, part: encoded_lines(output, index, part))
    buckets = len(pp.SPLIT_BUCKETS) * parts
    placed = keyed.partitionBy(buckets, lambda key: key)
    placed.mapPartitionsWithIndex(lambda key, lines: write_part(folders, parts, key, lines)).collect()


# -- the step ----------------------------------------------------------------------------------------


def read_tables(spark: SparkSession, files: list[CsvFile]) -> list[DataFrame]:
    """Each file as a table of texts (a cell pandas reads as missing is null or one of its NA texts)."""
    tables = []
    for file in files:
        schema = StructType([StructField(f"c{n}", StringType()) for n in range(len(file.columns))])
        tables.append(
            spark.read.csv(
                os.path.join(real_folder(file.path.parent), file.path.name),
                schema=schema,
                sep=file.separator,
                header=True,
                quote='"',
                escape='"',
                ignoreLeadingWhiteSpace=True,  # pandas' skipinitialspace
                enforceSchema=True,
                mode="PERMISSIVE",
            )
        )
    return tables


def rows_of(spark: SparkSession, tables: list[DataFrame]) -> Any:
    """Every file's rows as (file number, cells as text), in file order then row order."""
    return spark.sparkContext.union(
        [table.rdd.map(lambda row, number=number: (number, tuple(row))) for number, table in enumerate(tables)]
    )


def profile(tables: list[DataFrame], files: list[CsvFile], target: str) -> dict[str, tuple[str, str]]:
    """Each file's rows and the dtype of its columns, and every column's kind (refused when two files disagree)."""
    kinds_of_files = []
    for table, file in zip(tables, files, strict=True):
        width, decimal = len(file.columns), file.decimal
        parts = table.rdd.map(tuple).mapPartitions(lambda part, w=width, d=decimal: profile_rows(part, w, d)).collect()
        file.rows, merged = merge_profiles(parts, width)
        kinds = {}
        for column, stats in zip(file.columns, merged, strict=True):
            file.dtypes[column] = file_dtype(
                stats["present"], stats["numbers"], stats["integers"], stats["bools"], file.rows
            )
            if column != target:
                kinds[column] = kind_of(file.dtypes[column], stats, stats["sample"])
        kinds_of_files.append((file.path.name, kinds))
    kinds_of_columns: dict[str, tuple[str, str]] = pp.merge_kinds(kinds_of_files)
    return kinds_of_columns


def profile_rows(rows: Iterable[tuple[str | None, ...]], width: int, decimal: str) -> list[dict[str, Any]]:
    """What each column of a partition holds: counts of cells that are present, numbers, whole
    numbers, booleans, not blank and readable by pd.to_numeric, and its first SAMPLE present texts."""
    stats: list[dict[str, Any]] = [dict.fromkeys(COUNTS, 0) | {"sample": []} for _ in range(width)]
    numbers, count = number_pattern(decimal), 0
    for batch in chunked(rows):
        count += len(batch)
        for column, tokens in zip(stats, tokens_of(batch, width), strict=True):
            present = tokens.dropna()
            text = present.str.strip()
            nonblank = text[text != ""]
            column["present"] += len(present)
            column["numbers"] += int(present.str.fullmatch(numbers).sum())
            column["integers"] += int(present.str.fullmatch(r"\s*[+-]?[0-9]+\s*").sum())
            column["bools"] += int(present.isin(TRUE_TOKENS + FALSE_TOKENS).sum())
            column["nonblank"] += len(nonblank)
            column["numeric_text"] += int(nonblank.str.fullmatch(NUMERIC_TEXT).sum())
            column["sample"].extend(nonblank.head(SAMPLE - len(column["sample"])).tolist())
    return [{"rows": count, "columns": stats}]


def merge_profiles(parts: list[dict[str, Any]], width: int) -> tuple[int, list[dict[str, Any]]]:
    """The profiles of a file's partitions (in the file's order) as one."""
    merged = []
    for position in range(width):
        columns = [part["columns"][position] for part in parts]
        total: dict[str, Any] = {key: sum(c[key] for c in columns) for key in COUNTS}
        total["sample"] = [text for c in columns for text in c["sample"]][:SAMPLE]  # the file's first, in order
        merged.append(total)
    return sum(part["rows"] for part in parts), merged


def plan_of(files: list[CsvFile], target: str, id_column: str, kinds: dict[str, tuple[str, str]]) -> Plan:
    common, _ = pp.align_columns([(file.path.name, file.columns) for file in files])
    return Plan(
        target=target,
        id_column=id_column,
        columns=common,
        positions=[[file.columns.index(column) for column in common] for file in files],
        file_dtypes=[[file.dtypes[column] for column in common] for file in files],
        decimals=[file.decimal for file in files],
        dtypes=[combined_dtype([file.dtypes[column] for file in files]) for column in common],
        kinds={column: kind for column, (kind, _) in kinds.items() if column in common},
    )


def scanned(input_dir: Path, target: str) -> list[CsvFile]:
    """The files, refused before Spark starts when their bytes or their header say they cannot train."""
    files = [scan(path) for path in pp.input_files(input_dir)]
    for file in files:
        if target not in file.columns:
            raise pp.DataRefused(pp.missing_target(target, file.columns, file.path.name))
    return files


def prepare(
    spark: SparkSession, files: list[CsvFile], args: argparse.Namespace
) -> tuple[dict[str, Any], Any, Output, Any]:
    """The report, the rows, what writing them needs, and what the endpoint serves (preprocess.Served);
    refused as preprocess.prepare refuses."""
    target, id_column = args.target_column, args.id_column
    tables = read_tables(spark, files)
    kinds = profile(tables, files, target)
    rows = rows_of(spark, tables)
    common, extra = pp.align_columns([(file.path.name, file.columns) for file in files])
    if sum(file.rows for file in files) == 0:
        names = ", ".join(file.path.name for file in files)
        raise pp.DataRefused(f"{names} {'has' if len(files) == 1 else 'have'} a header but no data rows")
    infos = [
        {**file.info, "extra_columns": sorted(c for c, n in extra.items() if file.path.name in n)} for file in files
    ]
    report = pp.files_report(infos, extra, kinds, common)
    report.pop("kinds")
    if id_column and id_column not in common:
        raise pp.DataRefused(f"IdColumn {id_column!r} is not a column of the data (or not of every file)")
    plan = plan_of(files, target, id_column, kinds)
    records = spark.createDataFrame(
        rows.mapPartitionsWithIndex(lambda i, part: row_records(plan, i, part)), schema_of(plan)
    )
    records = records.persist(StorageLevel.MEMORY_AND_DISK)  # spilled to disk beyond the executor's share
    stats = first_statistics(records, plan)
    check_rows(records, plan, stats)
    chosen, rule = problem_type(stats, args.problem_type, target)
    numeric = stats["numeric"] == stats["used"]
    classes, mapping = label_classes(records, chosen, numeric)
    check_splits(records, plan, stats)
    encoder = fit_encoder(records, plan, stats)
    rows_report = {"rows_read": stats["rows_read"], "rows_without_target": stats["rows_read"] - stats["used"]}
    rows_report |= {"used": stats["used"], **{name: stats[name] for name, _ in pp.SPLIT_BUCKETS}}
    decisions = pp.Decisions(target, args.problem_type, chosen, rule, id_column, mapping)
    report.update(pp.accepted_report(decisions, rows_report, baseline(records, chosen, classes, numeric), encoder))
    parts = max(args.part_files, 1)
    pp.check_shards(rows_report, parts)
    starts = split_starts(records) if parts > 1 else {}  # one part file: every row goes to it
    served = pp.served(
        encoder, decisions, plan.columns, smoke_rows(records, rows, plan), baseline_rows(records, rows, plan)
    )
    return report, rows, Output(plan, encoder, classes, numeric, parts, starts), served


@contextmanager
def spark_session() -> Iterator[SparkSession]:
    """The job's Spark session (spark-submit's master and settings), stopped when done."""
    spark = SparkSession.builder.appName("preprocess").getOrCreate()
    try:
        yield spark
    finally:
        spark.stop()


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-column", required=True)
    parser.add_argument("--problem-type", default="auto", choices=pp.PROBLEM_TYPES)
    parser.add_argument("--id-column", default="", help="split by this column's hash (default: the features')")
    parser.add_argument("--part-files", type=int, default=1, help="write each split as at least this many files")
    parser.add_argument("--base-dir", type=Path, default=Path("/opt/ml/processing"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    input_dir = args.base_dir / "input" / "data"
    lineage: dict[str, Any] = {}
    try:
        code = pp.serving_code(args.base_dir)
        lineage = pp.objects_read(input_dir, *pp.data_input(args.base_dir))
        files = scanned(input_dir, args.target_column)
        with spark_session() as spark:
            report, rows, output, served = prepare(spark, files, args)
            write_splits(rows, output, args.base_dir)
        pp.write_report(args.base_dir, {**report, "lineage": lineage, "engine": ENGINE})
        pp.write_transform(args.base_dir, served, code)
        pp.write_baseline(args.base_dir, served.baseline_rows)
    except pp.DataRefused as refused:
        return int(pp.write_refusal(args.base_dir, refused, {"target": args.target_column, "engine": ENGINE}, lineage))
    except Exception as error:
        pp.write_exit_message(args.base_dir, error)
        raise
    print(pp.summary(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
