"""One definition of the reports and their vocabulary (pipeline/steps/reports.py), the split that no
library version can move, and the step scripts' own copies of both."""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.step_environments import environment
from pipeline.images import DISTRIBUTION_OF_MODULE, SKLEARN, SPARK, XGBOOST, StepImage
from pipeline.steps import evaluate, preprocess, reports
from tests.pipeline.conftest import STEPS

ROOT = Path(__file__).resolve().parents[2]
ALGORITHM = ROOT / "emulator" / "images" / "xgboost_algorithm.py"

# -- the split -------------------------------------------------------------------------------------

# A table as users have it: numbers written several ways, padded text, missing cells, columns in any order.
GOLDEN_CSV = """\
size,colour,target,count,note
1,red,3.5,007,
1.0, red ,9,7.0,
2.50,blue,1,1e3,x
-0,green,2,0.1,
1234567890123,  ,4,-3.25,"quoted, text"
0.30000000000000004,Rouge,5,12,é
,blue,6,,y
7,red,7,8,True
0.32383276483316237,blue,8,-0.00066900062392749367,z
"""
# The buckets (0-99) of those rows, computed once with hashlib alone: a change of scheme moves them.
# Rows 1 and 2 are one row spelled two ways. pandas 2.2 reads the last row's numbers to other doubles
# unless told not to (0.3238327648331624 and -0.0006690006239274936): that row then went to train.
GOLDEN_BUCKETS = [31, 31, 61, 79, 53, 53, 80, 21, 81]
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def canonical_cell(text: str) -> str:
    """The scheme, written from its definition with the standard library only."""
    text = text.strip()
    if not text:
        return "null"
    if NUMBER.fullmatch(text):
        number = float(text)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)
    return json.dumps(text)


def expected_buckets(table: str, leave_out: str) -> list[int]:
    rows = list(csv.DictReader(io.StringIO(table)))
    columns = sorted(name for name in rows[0] if name != leave_out)
    names = json.dumps(columns, separators=(",", ":"))
    texts = [",".join([names, *(canonical_cell(row[c]) for c in columns)]) for row in rows]
    return [int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % 100 for text in texts]


SPLIT_IN_PYTHON = (
    "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import preprocess\n"
    "frame, _ = preprocess.read_file(Path(sys.argv[2]))\n"
    "names = preprocess.split_of_rows(frame.drop(columns=['target']))\n"
    "print(json.dumps(names.tolist()))\n"
)


def split_names(buckets: list[int]) -> list[str]:
    return ["train" if b < 70 else "validation" if b < 85 else "test" for b in buckets]


def test_the_golden_table_splits_the_same_in_the_preprocess_image_and_in_the_projects_python(
    image_environments, tmp_path
):
    data = tmp_path / "golden.csv"
    data.write_text(GOLDEN_CSV, encoding="utf-8")
    assert expected_buckets(GOLDEN_CSV, leave_out="target") == GOLDEN_BUCKETS

    splits = in_both_pythons(SPLIT_IN_PYTHON, data)

    assert list(splits.values()) == [split_names(GOLDEN_BUCKETS)] * 2


def in_both_pythons(code: str, data: Path) -> dict[str, Any]:
    """What ``code`` prints (JSON) about ``data`` in the Preprocess image's Python (pandas 2.2.3) and
    in the project's, by interpreter."""
    return {
        python: json.loads(
            subprocess.run(
                [python, "-c", code, str(STEPS), str(data)], capture_output=True, text=True, check=True
            ).stdout
        )
        for python in (str(environment(SKLEARN).python), sys.executable)
    }


READ_IN_PYTHON = (
    "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import preprocess\n"
    "frame, _ = preprocess.read_file(Path(sys.argv[2]))\n"
    "print(json.dumps(preprocess.column_texts(frame['x']).to_pylist()))\n"
)


@pytest.mark.parametrize("last_cell", ["", " NA"], ids=["Arrow's reading", "pandas' round_trip reading"])
def test_numbers_of_many_digits_are_read_as_float_reads_them_in_the_preprocess_image_and_the_projects_python(
    image_environments, tmp_path, last_cell
):
    # pandas 2.2 reads about one such number in three to another double, unless told not to; Arrow
    # cannot read a padded " NA", so that file is read again by pandas with float_precision="round_trip".
    rng = random.Random(21)  # noqa: S311 (reproducible test data)
    numbers = [repr(rng.uniform(-1, 1)) for _ in range(300)] + ["0.41809884672577885", "-0.00011051689550249007"]
    numbers += [f"{rng.uniform(-1, 1):.19f}" for _ in range(100)] + [f"-0.000{rng.randrange(10**16, 10**17)}"]
    cells = [*numbers, last_cell] if last_cell else numbers
    data = tmp_path / "numbers.csv"
    data.write_text("x,y\n" + "".join(f"{cell},{row}\n" for row, cell in enumerate(cells)), encoding="utf-8")

    texts = in_both_pythons(READ_IN_PYTHON, data)

    expected = [canonical_cell(number) for number in numbers] + (["null"] if last_cell else [])
    assert list(texts.values()) == [expected] * 2


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_number_and_its_text_are_the_same_value(number):
    as_number = preprocess.cell_text(number)

    assert preprocess.cell_text(repr(number)) == as_number
    assert preprocess.cell_text(f"  {number!r} ") == as_number
    assert as_number == canonical_cell(repr(number))
    assert float(as_number) == number or (number == 0 and as_number == "0")


@given(st.lists(st.floats() | st.integers(min_value=-(2**60), max_value=2**60).map(float), max_size=50))
def test_a_numeric_column_gets_the_texts_of_its_numbers_one_by_one(numbers):
    import numpy as np

    texts = preprocess.float_texts(np.asarray(numbers, dtype=float)).to_pylist()

    assert texts == [preprocess.number_text(n) for n in numbers]


# Where Arrow writes the numbers (positionally, its shortest digits), and around the edges of that range.
POSITIONAL = st.floats(min_value=preprocess.POSITIONAL_LOW, max_value=preprocess.POSITIONAL_HIGH) | st.floats(
    min_value=preprocess.POSITIONAL_LOW / 10, max_value=preprocess.POSITIONAL_HIGH * 10
)


@given(st.lists(POSITIONAL | POSITIONAL.map(lambda number: -number), min_size=1, max_size=50))
def test_numbers_written_by_arrow_have_the_texts_repr_gives_them(numbers):
    import numpy as np

    texts = preprocess.float_texts(np.asarray(numbers, dtype=float)).to_pylist()

    assert texts == [preprocess.number_text(n) for n in numbers]
    assert texts == [canonical_cell(repr(n)) for n in numbers]


@given(
    st.lists(st.sampled_from([0.0, -0.0, 7.0, 0.1, -2.5, 2.0**53, 1e16, math.nan, math.inf, -math.inf]), max_size=60)
)
def test_a_numeric_column_of_repeated_values_gets_each_cells_own_text(numbers):
    import pandas as pd

    texts = preprocess.column_texts(pd.Series(numbers, dtype=float)).to_pylist()

    assert texts == [preprocess.number_text(n) for n in numbers]


NUMBER_SPELLINGS = st.floats(allow_nan=False).map(repr) | st.integers().map(str) | st.from_regex(NUMBER, fullmatch=True)


@given(
    st.lists(st.none() | st.text() | NUMBER_SPELLINGS | NUMBER_SPELLINGS.map(lambda text: f" {text}\t"), max_size=50)
)
def test_a_text_column_gets_each_cells_own_text(strings):
    texts = preprocess.string_texts(strings)

    assert texts == [preprocess.cell_text(string) for string in strings]


def test_values_pandas_takes_for_one_keep_their_own_texts():
    import pandas as pd

    # pandas' factorize takes "" and "\x00" for one string, and True, 1 and 1.0 for one value.
    strings = pd.Series(["", "\x00", "a\x00b", "a\x00c", None], dtype=object)
    mixed = pd.Series([True, 1, 1.0, "1", None], dtype=object)

    assert preprocess.column_texts(strings).to_pylist() == ["null", '"\\u0000"', '"a\\u0000b"', '"a\\u0000c"', "null"]
    assert preprocess.column_texts(mixed).to_pylist() == ['"True"', "1", "1", "1", "null"]


@given(st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1))
def test_whole_numbers_have_one_form_whatever_their_type_or_spelling(whole):
    forms = {preprocess.cell_text(whole), preprocess.cell_text(float(whole)), preprocess.cell_text(f"{whole}.0")}

    assert forms == {str(whole)}


@given(st.text())
def test_any_text_is_stripped_and_quoted_or_read_as_the_number_it_spells(text):
    cell = preprocess.cell_text(text)

    assert cell == canonical_cell(text)
    assert json.loads(cell) is None or cell == canonical_cell(text.strip())


@pytest.mark.parametrize("missing", [None, math.nan, "", "   "])
def test_every_missing_value_is_one_token(missing):
    assert preprocess.cell_text(missing) == "null"


# -- the encoder the endpoint reads back -----------------------------------------------------------

MESSY_CELLS = {
    "numeric": st.none() | st.floats(allow_nan=True, width=32) | st.sampled_from([math.inf, -math.inf, 0.1, 1e300]),
    "spelled": st.none() | st.sampled_from(["1", "1.5", " 2 ", "oops", "", "inf", "-3e2", "n/a"]),
    "category": st.none() | st.sampled_from(["red", "blue", " green ", "", "1", "True", "é"]) | st.text(max_size=3),
    "date": st.none() | st.sampled_from(["2024-01-31", "2024-02-29 13:45", "31/12/2023", "soon", ""]),
    "flag": st.booleans(),
}


@st.composite
def messy_frames(draw: Any) -> tuple[Any, Any, Any]:
    """A training frame of every kind of column (with its training rows), and other rows of the same columns."""
    import pandas as pd

    rows = draw(st.integers(min_value=1, max_value=20))

    def frame(count: int) -> Any:
        return pd.DataFrame(
            {
                name: pd.Series([draw(cells) for _ in range(count)], dtype=bool if name == "flag" else object)
                for name, cells in MESSY_CELLS.items()
            }
        ).astype({"numeric": float})

    train = pd.Series(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)))
    return frame(rows), train, frame(draw(st.integers(min_value=1, max_value=6)))


@settings(max_examples=30, deadline=None)  # each example fits and transforms pandas frames: ~0.1 s
@given(messy_frames())
def test_a_fitted_encoder_saved_and_read_back_makes_the_same_features(frames):
    from hypothesis import assume

    training, train, other = frames
    encoder = preprocess.Encoder()
    try:
        encoder.fit(training, {c: preprocess.column_kind(training[c]) for c in training.columns}, train)
    except preprocess.DataRefused:
        assume(False)  # nothing usable to encode: Preprocess refuses such data
    document = json.loads(json.dumps(encoder.saved()))  # as encoder.json holds it

    restored = preprocess.Encoder.restored(document)

    assert restored.feature_names() == encoder.feature_names()
    for rows in (training, other):
        before, after = encoder.transform(rows), restored.transform(rows)
        assert before.tobytes() == after.tobytes()  # the same doubles, bit for bit


def test_a_smoke_row_s_cell_the_endpoint_cannot_read_is_sent_empty_and_makes_the_same_features():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "age": pd.Series(["41", "oops", "", "7"], dtype=object),
            "when": ["2024-01-01", "soon", "2024-02-01 10:00", None],
            "city": ["a", None, "b, c", "a"],
            "target": [1, 2, 3, 4],
        }
    )
    encoder = preprocess.Encoder()
    encoder.fit(frame, {"age": "numeric", "when": "date", "city": "text"}, pd.Series([True] * 4))

    body, features = preprocess.smoke_sample(frame, "target", encoder)

    assert body == 'age,when,city\n41,2024-01-01,a\n,,\n,2024-02-01 10:00,"b, c"\n7,,a\n'
    assert np.array_equal(features, encoder.transform(frame))
    header, *rows = list(csv.reader(io.StringIO(body)))
    cells = {column: [row[header.index(column)] for row in rows] for column in preprocess.used_columns(encoder)}
    assert np.array_equal(encoder.transform(preprocess.request_frame(cells, encoder, ".")), features)


def test_a_package_s_model_container_is_the_one_that_is_no_serving_stage():
    stage = {"RETRAIN_SERVING_STAGE": "features"}
    containers = [
        {"Image": "sklearn", "ModelDataUrl": "s3://b/transform/model.tar.gz", "Environment": stage},
        {"Image": "xgboost", "ModelDataUrl": "s3://b/output/model.tar.gz"},
        {"Image": "sklearn", "ModelDataUrl": "s3://b/transform/model.tar.gz", "Environment": {**stage, "x": "y"}},
    ]

    assert evaluate.model_container(containers)["Image"] == "xgboost"
    assert evaluate.model_container(containers[1:2]) == containers[1]  # packages registered before the pipeline


def test_a_smoke_check_has_one_expected_answer_per_row_of_its_body():
    check = {
        "content_type": "text/csv",
        "accept": "text/csv",
        "body": 'age,city\n1,"Paris, France"\n2,Lyon\n',
        "expected": ["gold", "silver"],
        "problem_type": "multiclass",
        "tolerance": 0.0,
    }

    assert reports.smoke_check_problems(check) == []
    assert reports.smoke_check_problems({**check, "expected": ["gold"]}) == [
        "expected holds 1 answers for the body's 2 rows"
    ]
    assert reports.smoke_check_problems({**check, "accept": "application/json"}) == [
        "accept is 'application/json', not one of text/csv"
    ]


# -- the step scripts' copies of the vocabulary ----------------------------------------------------


def constant_of(script: Path, name: str) -> Any:
    """A constant a script assigns, read without importing it (the Spark script imports pyspark)."""
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]:
            return ast.literal_eval(node.value)
    raise LookupError(name)


def test_the_step_scripts_copies_of_the_vocabulary_are_reports_own():
    assert preprocess.PROBLEM_TYPES == reports.REQUESTABLE_PROBLEM_TYPES
    assert tuple(preprocess.OBJECTIVES) == reports.PROBLEM_TYPES
    assert preprocess.SPLIT_SCHEME == reports.SPLIT_SCHEME
    assert (preprocess.ENGINE, constant_of(STEPS / "preprocess_spark.py", "ENGINE")) == reports.ENGINES
    assert evaluate.LABELS == reports.METRIC_LABELS
    assert evaluate.PRIMARY_METRIC == reports.PRIMARY_METRIC
    assert evaluate.LOWER_IS_BETTER == reports.LOWER_IS_BETTER
    assert evaluate.REGISTRY_SECTIONS == reports.REGISTRY_SECTIONS
    assert evaluate.LEGACY_SPLIT_SCHEME == reports.LEGACY_SPLIT_SCHEME


def test_the_serving_files_have_one_name_in_every_script():
    from pipeline import definition

    names = ("TRANSFORM_OUTPUT", "TRANSFORM_ARCHIVE", "ENCODER_FILE", "SMOKE_ROWS_FILE", "SMOKE_FEATURES_FILE")
    for name in names:
        assert getattr(preprocess, name) == getattr(evaluate, name) == getattr(reports, name), name
    assert evaluate.SMOKE_CHECK_FILE == reports.SMOKE_CHECK_FILE
    assert (
        reports.SMOKE_CHECK["content_type"][0],
        reports.SMOKE_CHECK["accept"][0],
    ) == (evaluate.SMOKE_CONTENT_TYPE, evaluate.SMOKE_ACCEPT)
    assert reports.ENCODER_DOCUMENT["format"] == (preprocess.ENCODER_FORMAT,)
    assert Path(definition.SERVING_ENVIRONMENT["SAGEMAKER_SUBMIT_DIRECTORY"]).name == preprocess.CODE_FOLDER
    assert definition.SERVING_CODE_DIR.endswith(f"/input/{preprocess.SERVING_CODE_FOLDER}")
    serving = STEPS / "serving.py"
    assert definition.SERVING_STAGE_ENV == constant_of(serving, "STAGE_ENV") == evaluate.SERVING_STAGE_ENV
    stages = (constant_of(serving, "FEATURES"), constant_of(serving, "LABELS"))
    assert stages == (definition.FEATURES_STAGE, definition.LABELS_STAGE)
    assert definition.SERVING_ENVIRONMENT["SAGEMAKER_PROGRAM"] == serving.name == preprocess.SERVING_SCRIPT
    assert serving.stem == evaluate.SERVING_MODULE


def test_a_metric_without_a_label_is_shown_by_its_name_instead_of_failing_the_step(image_environments):
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import evaluate; "
        "print(evaluate.describe({'pr_auc': 0.81234, 'rmse': None}))"
    )
    described = subprocess.run(
        [str(environment(XGBOOST).python), "-c", code, str(STEPS)], capture_output=True, text=True, check=True
    )

    assert described.stdout.strip() == "pr auc 0.8123, RMSE n/a"
    assert reports.describe_metrics({"pr_auc": 0.81234, "rmse": None}) == described.stdout.strip()


def test_a_report_that_does_not_conform_is_described_line_by_line():
    report = {"accepted": True, "reason": "", "target": "y", "problem_type": {"chosen": "ranking"}}

    problems = reports.data_report_problems(report)

    assert "problem_type.chosen is 'ranking', not one of regression, binary, multiclass" in problems
    assert "problem_type.requested is missing" in problems
    assert "split is missing" in problems
    assert reports.data_report_problems({"accepted": False, "reason": "empty", "target": "y"}) == []
    assert reports.evaluation_problems([]) == ["the report is list, not an object"]


# -- what each step script may import --------------------------------------------------------------


def imported_distributions(script: Path) -> set[str]:
    """The distributions a script imports (the standard library left out)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    # A step's own modules are shipped with it (the Spark step's --py-files): preprocess.py beside it.
    own = {path.stem for path in STEPS.glob("*.py")}
    third_party = modules - set(sys.stdlib_module_names) - {"__future__"} - own
    return {DISTRIBUTION_OF_MODULE.get(module, module) for module in third_party}


def not_in_image(script: Path, image: StepImage) -> set[str]:
    return {distribution for distribution in imported_distributions(script) if not image.holds(distribution)}


def test_each_step_script_imports_only_libraries_its_image_holds(image_of_script):
    from pipeline.images import image_for

    for script, image_uri in image_of_script.items():
        assert not_in_image(STEPS / script, image_for(image_uri)) == set(), script
    assert not_in_image(ALGORITHM, XGBOOST) == set()
    # pyspark is the image's own Spark (imitated by the PyPI wheel); pyarrow is not there.
    assert imported_distributions(STEPS / "preprocess_spark.py") == {"numpy", "pandas", "pyspark"}
    assert not_in_image(STEPS / "preprocess_spark.py", SPARK) == set()
    assert not SPARK.holds("pyarrow")
    assert imported_distributions(STEPS / "evaluate.py") == {"numpy", "xgboost", "scipy", "boto3"}
    # The serving script runs in the Preprocess image (the model package's scikit-learn containers).
    assert not_in_image(STEPS / "serving.py", SKLEARN) == set()
    assert imported_distributions(STEPS / "serving.py") == {"numpy"}  # and preprocess.py, packed beside it


def test_a_script_importing_a_library_its_image_lacks_is_caught(tmp_path):
    script = tmp_path / "step.py"
    script.write_text("import json\nimport pandas as pd\nfrom sklearn.metrics import r2_score\nimport polars\n")

    assert not_in_image(script, SKLEARN) == {"polars"}
    assert not_in_image(script, XGBOOST) == {"polars"}
    assert imported_distributions(script) == {"pandas", "scikit-learn", "polars"}


# -- the pipeline's code stays readable ------------------------------------------------------------


def test_no_function_in_the_pipeline_is_over_50_lines():
    long = []
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno:
                lines = node.end_lineno - node.lineno + 1
                if lines > 50:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
