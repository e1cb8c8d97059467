"""The built-in XGBoost algorithm's training, as its 3.2-0 image runs it (Python 3.12, xgboost 3.2.0).

    python xgboost_algorithm.py --hyperparameters hyperparameters.json --input-data-config inputdataconfig.json
        [--resource-config resourceconfig.json] --channel train=DIR [--channel validation=DIR]
        --model-dir DIR --failure-file FILE

The JSON files are those SageMaker writes to /opt/ml/input/config/ (without resourceconfig.json: one
host). Read from the algorithm's
source: aws/sagemaker-xgboost-container, master at cb8df91cd44c7b01c53ccf321fd3fdf3eb78adae, the
branch the 3.2-0 image's wheel is built from (aws/deep-learning-containers,
.github/config/image/xgboost/sagemaker.yml). What it imitates, with where each rule is read:
- the hyperparameters (src/sagemaker_algorithm_toolkit/hyperparameter_validation.py and
  src/sagemaker_xgboost_container/algorithm_mode/hyperparameter_validation.py): each value parsed as
  JSON when it is JSON; aliases; num_round required; an unknown name refused as extraneous; each
  value parsed (int, float, a comma-separated list) and checked against its range; the
  multi: objectives require num_class; the auc metric only with binary: and rank: objectives;
- the channels (src/sagemaker_algorithm_toolkit/channel_validation.py, algorithm_mode/
  channel_validation.py): train required; train, validation and code accepted, any other refused as
  extraneous; the content type defaults to text/libsvm and must be one of the accepted ones
  exactly, with the File input mode;
- the data (src/sagemaker_xgboost_container/data_utils.py): a hidden file (name beginning with `.`)
  refused; CSV read by xgboost with label_column=0 and the delimiter sniffed (csv.Sniffer) from the
  first line of a file, with no header handling (a header row is read as a row of data); libsvm
  lines checked up to the first with two features, then read by xgboost; parquet through pyarrow;
  an empty channel refused (algorithm_mode/train.py);
- the model: `Booster.save_model` to `xgboost-model` in the model directory (train.py, xgb_constants.py);
- a failure: the failure file holds "framework error: ", the traceback and the message, as
  sagemaker-containers' trainer writes /opt/ml/output/failure (aws/sagemaker-containers,
  src/sagemaker_containers/_trainer.py), whose first 1,024 characters SageMaker reports;
- several hosts (src/sagemaker_xgboost_container/algorithm_mode/train.py, sagemaker_train, and
  distributed.py): see "several hosts" below, each rule beside the code that follows it.
Not imitated: recordio-protobuf, Pipe mode, GPU and Dask training, checkpoints, k-fold, the
custom evaluation metrics (computed only for the training log), early stopping, and the ranges of
updater, tree_method, predictor, monotone_constraints and interaction_constraints.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xgboost


class UserError(Exception):
    """The toolkit's UserError: a failure the user can avoid (bad hyperparameters, channels or data)."""


# -- hyperparameters ---------------------------------------------------------------------------------
# name -> (parser, range). A range is (low, low_closed, high, high_closed) for numbers, or the allowed
# values; None: any value (not imitated).
INF = float("inf")
AT_LEAST_0 = (0, True, INF, False)
ZERO_TO_ONE = (0, True, 1, True)
ABOVE_0_TO_1 = (0, False, 1, True)
OBJECTIVES = (
    "aft_loss_distribution",
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
    "reg:linear",
    "reg:squarederror",
    "reg:logistic",
    "reg:gamma",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
    "reg:absoluteerror",
    "reg:tweedie",
    "survival:aft",
    "survival:cox",
)
# xgb_constants.py: XGB_MAXIMIZE_METRICS + XGB_MINIMIZE_METRICS; metrics/custom_metrics.py: CUSTOM_METRICS.
EVAL_METRICS = (
    *("accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg"),
    *("precision", "r2", "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro"),
    *("aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik"),
    *("interval-regression-accuracy", "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse"),
    *("poisson-nloglik", "rmse", "rmsle", "tweedie-nloglik"),
)
CUSTOM_METRICS = (
    *("accuracy", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "mse", "rmse", "mae", "precision"),
    *("precision_macro", "precision_micro", "r2", "recall", "recall_macro", "recall_micro"),
)
HYPERPARAMETERS: dict[str, tuple[Any, Any]] = {
    "num_round": (int, (1, True, INF, False)),
    "csv_weights": (int, ZERO_TO_ONE),
    "early_stopping_rounds": (int, (1, True, INF, False)),
    "booster": (str, ("gbtree", "gblinear", "dart")),
    "verbosity": (int, (0, True, 3, True)),
    "nthread": (int, (1, True, INF, False)),
    "eta": (float, ZERO_TO_ONE),
    "gamma": (float, AT_LEAST_0),
    "max_depth": (int, AT_LEAST_0),
    "min_child_weight": (float, AT_LEAST_0),
    "max_delta_step": (float, AT_LEAST_0),
    "subsample": (float, ABOVE_0_TO_1),
    "colsample_bytree": (float, ABOVE_0_TO_1),
    "colsample_bylevel": (float, ABOVE_0_TO_1),
    "colsample_bynode": (float, ABOVE_0_TO_1),
    "lambda": (float, AT_LEAST_0),
    "alpha": (float, AT_LEAST_0),
    "tree_method": (str, None),
    "sketch_eps": (float, (0, False, 1, False)),
    "scale_pos_weight": (float, (0, False, INF, False)),
    "updater": (str, None),
    "dsplit": (str, ("row", "col")),
    "refresh_leaf": (int, ZERO_TO_ONE),
    "process_type": (str, ("default", "update")),
    "grow_policy": (str, ("depthwise", "lossguide")),
    "max_leaves": (int, AT_LEAST_0),
    "max_bin": (int, AT_LEAST_0),
    "predictor": (str, None),
    "monotone_constraints": (str, None),
    "interaction_constraints": (str, None),
    "sample_type": (str, ("uniform", "weighted")),
    "normalize_type": (str, ("tree", "forest")),
    "rate_drop": (float, ZERO_TO_ONE),
    "one_drop": (int, ZERO_TO_ONE),
    "skip_drop": (float, ZERO_TO_ONE),
    "lambda_bias": (float, ZERO_TO_ONE),
    "tweedie_variance_power": (float, (1, False, 2, False)),
    "objective": (str, OBJECTIVES),
    "num_class": (int, (2, True, INF, False)),
    "base_score": (float, AT_LEAST_0),
    "_kfold": (int, (2, True, INF, False)),
    "_num_cv_round": (int, (1, True, INF, False)),
    "_tuning_objective_metric": (str, None),
    "eval_metric": (list, EVAL_METRICS),
    "seed": (int, (-(2**31), False, 2**31 - 1, False)),
    "num_parallel_tree": (int, (1, True, INF, False)),
    "save_model_on_termination": (str, ("true", "false")),
    "aft_loss_distribution": (str, ("normal", "logistic", "extreme")),
    "aft_loss_distribution_scale": (float, AT_LEAST_0),
    "deterministic_histogram": (str, ("true", "false")),
    "sampling_method": (str, ("uniform", "gradient_based")),
    "prob_buffer_row": (int, (1.0, False, INF, False)),
    "use_dask_gpu_training": (str, ("true", "false")),
}
ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
MULTI_OBJECTIVES = ("multi:softmax", "multi:softprob")


def _from_json(text: str) -> Any:
    """sagemaker-containers reads each hyperparameter as JSON, or as the text itself when it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _interval_text(low: float, low_closed: bool, high: float, high_closed: bool) -> str:
    left = ("[" if low_closed else "(") + (str(low) if low != -INF else "-inf")
    right = ("+inf" if high == INF else str(high)) + ("]" if high_closed else ")")
    return f"{left}, {right}"


def _in_range(value: Any, allowed: Any) -> bool:
    if allowed is None:
        return True
    if isinstance(allowed, tuple) and len(allowed) == 4 and isinstance(allowed[2], (int, float)):
        low, low_closed, high, high_closed = allowed
        return bool((value >= low if low_closed else value > low) and (value <= high if high_closed else value < high))
    return value in allowed


def _parse_one(name: str, value: Any) -> Any:
    if name not in HYPERPARAMETERS:
        raise UserError(f"Extraneous hyperparameter found: {name}")
    kind, allowed = HYPERPARAMETERS[name]
    try:
        parsed = value.split(",") if kind is list else (kind(value) if kind is not str else value)
    except (ValueError, TypeError, AttributeError) as error:
        raise UserError(f"Hyperparameter {name}: could not parse value (caused by {type(error).__name__})") from None
    if kind is list and not all(item in allowed for item in parsed):
        raise UserError(f"Hyperparameter {name}: value {parsed} not in range {list(allowed)}")
    if kind is not list and not _in_range(parsed, allowed):
        shown = _interval_text(*allowed) if len(allowed) == 4 and kind is not str else str(list(allowed))
        raise UserError(f"Hyperparameter {name}: {parsed} is not in {shown}")
    return parsed


def validate_hyperparameters(given: dict[str, str]) -> dict[str, Any]:
    values = {ALIASES.get(name, name): _from_json(str(text)) for name, text in given.items()}
    if "num_round" not in values:
        raise UserError("Missing required hyperparameter: num_round")
    parsed = {name: _parse_one(name, value) for name, value in values.items()}
    objective = parsed.get("objective")
    if objective in MULTI_OBJECTIVES and "num_class" not in parsed:
        raise UserError("Require input for parameter 'num_class' for multi-classification")
    metrics = parsed.get("eval_metric") or []
    if "auc" in metrics and not str(objective).startswith(("binary:", "rank:")):
        raise UserError("Metric 'auc' can only be applied for classification and ranking problems.")
    return parsed


# -- channels and data -----------------------------------------------------------------------------

CONTENT_TYPES = (
    *("csv", "libsvm", "parquet", "recordio-protobuf", "text/csv", "text/libsvm", "text/x-libsvm"),
    *("application/x-parquet", "application/x-recordio-protobuf"),
)
CHANNELS = ("train", "validation", "code")
FORMAT_OF = {
    "csv": "csv",
    "text/csv": "csv",
    "libsvm": "libsvm",
    "text/libsvm": "libsvm",
    "text/x-libsvm": "libsvm",
    "parquet": "parquet",
    "application/x-parquet": "parquet",
}


def validate_channels(data_config: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    if "train" not in data_config:
        raise UserError("Missing required channel: train")
    for name, channel in data_config.items():
        if name not in CHANNELS:
            raise UserError(f"Extraneous channel found: {name}")
        channel.setdefault("ContentType", "text/libsvm")
        allowed = ("text/python",) if name == "code" else CONTENT_TYPES
        mode = channel.get("TrainingInputMode", "File")
        distribution = channel.get("S3DistributionType", "FullyReplicated")
        if (
            channel["ContentType"] not in allowed
            or mode != "File"
            or distribution not in ("FullyReplicated", "ShardedByS3Key")
        ):
            raise UserError(f"Channel configuration for '{name}' channel is not supported: {channel}")
    return data_config


def data_files(folder: Path) -> list[Path]:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    hidden = [path for path in files if path.name.startswith(".")]
    if hidden:
        raise UserError("Hidden file found in the data path! Remove that before training.")
    return [path for path in files if path.stat().st_size > 0]


def sniff_delimiter(path: Path) -> str:
    with path.open(errors="ignore") as handle:
        line = handle.readline()
    try:
        return csv.Sniffer().sniff(line).delimiter
    except csv.Error as error:
        raise UserError(f"Could not determine delimiter on line {line[:50]}:\n{error}") from None


def libsvm_features(line: str) -> int:
    """How many `index:value` features a libsvm line holds; -1 when it is no libsvm line."""
    label, *features = line.split(" ")
    parts = label.split(":")
    if len(parts) > 2 or not all(_is_number(part) for part in parts):
        return -1
    if any(":" not in feature for feature in features) or (features and len(features[0].split(":")) != 2):
        return -1
    return len(features)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def validate_libsvm(path: Path) -> None:
    """Lines up to the first with more than one feature must be libsvm lines (xgboost crashes on others)."""
    with path.open(errors="ignore") as handle:
        for line in handle:
            features = libsvm_features(line)
            if features > 1:
                return
            if features < 0:
                raise UserError(
                    f"First line '{line[:50]}...' of file '{path.name}' is not 'LIBSVM' format. "
                    "Please ensure the file is in 'LIBSVM' format."
                )


def load_channel(name: str, folder: Path, content_type: str) -> xgboost.DMatrix | None:
    files = data_files(folder)
    if not files:
        return None
    data_format = FORMAT_OF.get(content_type.lower())
    if data_format is None:
        raise UserError(f"{content_type} is not imitated locally (only CSV, libsvm and parquet are)")
    if data_format == "parquet":
        import pyarrow.parquet  # type: ignore[import-untyped]  # in the image

        table = pyarrow.parquet.read_table(folder).to_pandas().to_numpy()
        return xgboost.DMatrix(table[:, 1:], label=table[:, 0])
    # Each file's first line must show a delimiter; the first file's is the one xgboost is given.
    delimiters = [sniff_delimiter(path) for path in files] if data_format == "csv" else []
    for path in files if data_format == "libsvm" else []:
        validate_libsvm(path)
    with tempfile.TemporaryDirectory(prefix=f"sagemaker_xgboost_input_{name}_") as linked:
        # As the algorithm does: every file linked into one folder that xgboost reads whole.
        for number, path in enumerate(files):
            os.symlink(path, Path(linked) / f"{number:05d}-{path.name}")
        options = f"format=csv&label_column=0&delimiter={delimiters[0]}" if delimiters else "format=libsvm"
        try:
            matrix = xgboost.DMatrix(f"{linked}?{options}")
        except xgboost.core.XGBoostError as error:
            raise UserError(f"Failed to load {data_format} data with exception:\n{error}") from None
    if matrix.get_label().size == 0:
        raise UserError("Got input data without labels. Please check the input data set.")
    return matrix


# -- training ----------------------------------------------------------------------------------------


def train(
    hyperparameters: dict[str, str],
    data_config: dict[str, Any],
    channels: dict[str, Path],
    model_dir: Path,
    *,
    resources: dict[str, Any] | None = None,
    network: Network | None = None,
) -> str:
    """``resources``: resourceconfig.json (current_host, hosts); None for one host."""
    values = validate_hyperparameters(hyperparameters)
    config = validate_channels({name: dict(channel) for name, channel in data_config.items()})
    matrices: dict[str, Any] = {
        name: load_channel(name, channels[name], config[name]["ContentType"])
        for name in ("train", "validation")
        if name in config
    }
    # train.py: missing_validation_data = validation_channel and not val_dmatrix
    missing_validation = "validation" in matrices and matrices["validation"] is None
    hosts = list((resources or {}).get("hosts") or ["algo-1"])
    if len(hosts) > 1:
        current = str((resources or {})["current_host"])
        hosts_of_job = Hosts(hosts, current, network or Network())
        return train_on_hosts(values, matrices, missing_validation, hosts_of_job, model_dir)
    # One host (train.py, `num_hosts == 1`): empty channels are refused.
    if matrices["train"] is None:
        raise UserError(f"No data in training channel path {channels['train']}")
    if missing_validation:
        raise UserError(f"No data in validation channel path {channels['validation']}")
    return train_job(values, matrices, model_dir, is_master=True)


def train_job(values: dict[str, Any], matrices: dict[str, Any], model_dir: Path, is_master: bool) -> str:
    """train.py, train_job: xgboost.train on this host's data; only the master writes the model."""
    values = dict(values)
    rounds = values.pop("num_round")
    # The custom metrics are computed by the algorithm for its log only; xgboost gets the others.
    metrics = [metric for metric in values.pop("eval_metric", []) if metric not in CUSTOM_METRICS]
    if metrics:
        values["eval_metric"] = metrics
    evals = [(matrix, name) for name, matrix in matrices.items() if matrix is not None]
    booster = xgboost.train(values, matrices["train"], num_boost_round=rounds, evals=evals, verbose_eval=False)
    model_dir.mkdir(parents=True, exist_ok=True)
    if is_master:
        booster.save_model(str(model_dir / "xgboost-model"))
    return f"xgboost {xgboost.__version__}, {rounds} rounds, objective {values.get('objective')}"


# -- several hosts -----------------------------------------------------------------------------------
# algorithm_mode/train.py (sagemaker_train, `num_hosts > 1`) and distributed.py (rabit_run, Rabit), at
# the commit above. Hosts are those of resourceconfig.json, sorted by name; the first sorted host is
# the master: it runs xgboost's own RabitTracker (sortby="task") on port 9099, and every host joins it
# through xgboost.collective with its index in the sorted list as its task id. The hosts first tell
# each other which of them has training data (and validation data, when the channel is given); a
# host without it leaves with success, writing no model. The others train together in a second ring
# on port 9100 (one host alone trains by itself), and only that ring's master writes xgboost-model.
TRACKER_PORT = 9099  # distributed.py: Rabit's port default; rabit_run's second ring uses port + 1
CONNECT_RETRY_TIMEOUT = 10  # rabit_run's connect_retry_timeout
CONNECT_ATTEMPTS = max(CONNECT_RETRY_TIMEOUT // 5, 6)  # Rabit.start: attempts, 5 s apart
WORKER_TIMEOUT = max(CONNECT_RETRY_TIMEOUT, 30)  # Rabit.start: dmlc_timeout


@dataclass(frozen=True)
class Network:
    """Locally only (--local-address, --local-port; SageMaker gives neither): every host name resolves
    to ``address``, and the first ring listens on ``port`` (the second on port + 1), so that jobs on one
    machine do not collide. The defaults are the container's: DNS, and 9099."""

    address: str | None = None
    port: int = TRACKER_PORT

    def resolve(self, host: str) -> str:
        """distributed.py, _dns_lookup: socket.gethostbyname, retried for up to 15 minutes."""
        if self.address:
            return self.address
        for _ in range(60):
            try:
                return socket.gethostbyname(host)
            except OSError:
                time.sleep(15)
        return socket.gethostbyname(host)


@dataclass(frozen=True)
class Hosts:
    names: list[str]  # resourceconfig.json's hosts
    current: str  # resourceconfig.json's current_host
    network: Network


def train_on_hosts(
    values: dict[str, Any],
    matrices: dict[str, Any],
    missing_validation: bool,
    hosts: Hosts,
    model_dir: Path,
) -> str:
    """train.py, `num_hosts > 1`, and distributed.py, rabit_run."""
    current, network = hosts.current, hosts.network
    for host in hosts.names:  # distributed.wait_hostname_resolution
        network.resolve(host)
    include = matrices["train"] is not None and not missing_validation
    if not include:
        logging.warning("Host %s has no training or validation data: not used in distributed training", current)
    with ring(hosts.names, current, network, network.port) as (_, exchange):
        told = exchange({"host": current, "include_in_training": include})
    with_data = [record["host"] for record in told if record["include_in_training"]]
    if not include:  # rabit_run: sys.exit(0), before it counts the hosts with data
        return f"host {current} not used in distributed training: it has no training or validation data"
    rows = {name: matrix.num_row() for name, matrix in matrices.items() if matrix is not None}
    share = f"{current}, " + ", ".join(f"{count} {name}" for name, count in rows.items()) + " rows: "
    if len(with_data) == 1:
        return share + train_job(values, matrices, model_dir, is_master=True)
    with ring(with_data, current, network, network.port + 1) as (is_master, _):
        return share + train_job(values, matrices, model_dir, is_master=is_master)


@contextmanager
def ring(hosts: list[str], current: str, network: Network, port: int) -> Iterator[tuple[bool, Any]]:
    """distributed.py, Rabit: the master's tracker, every host joined to it; yields whether this host
    is the master and the exchange of one JSON record per host (RabitHelper.synchronize)."""
    ordered = sorted(hosts)
    master = ordered[0]
    is_master = current == master
    tracker = None
    if is_master:
        tracker = xgboost.tracker.RabitTracker(
            n_workers=len(ordered), host_ip=network.resolve(master), port=port, sortby="task"
        )
        tracker.start()
        worker_args = dict(tracker.worker_args())
    else:
        worker_args = {"dmlc_tracker_uri": network.resolve(master), "dmlc_tracker_port": port}
    worker_args |= {"dmlc_task_id": str(ordered.index(current)), "dmlc_timeout": WORKER_TIMEOUT}
    try:
        context = _join(worker_args)
    except Exception:
        _cleanup(tracker)
        raise
    try:
        yield is_master, _exchange
    finally:
        try:
            context.__exit__(None, None, None)
        except Exception:  # Rabit.stop logs it and goes on
            logging.exception("CommunicatorContext exit failed")
        _cleanup(tracker)


def _cleanup(tracker: Any) -> None:
    """Rabit._cleanup: the master waits up to 5 s for its tracker, then frees it; neither may fail the job
    (both `except Exception: pass`), so a host slow to leave the ring never fails the training."""
    if tracker is None:
        return
    with suppress(Exception):
        tracker.wait_for(timeout=5)
    with suppress(Exception):
        tracker.free()


def _join(worker_args: dict[str, Any]) -> Any:
    """Rabit.start: xgboost does not retry a refused connection, so the whole join is retried."""
    for attempt in range(CONNECT_ATTEMPTS):
        try:
            context = xgboost.collective.CommunicatorContext(**worker_args)
            context.__enter__()
            return context
        except Exception:
            if attempt == CONNECT_ATTEMPTS - 1:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


def _exchange(record: dict[str, Any]) -> list[dict[str, Any]]:
    """RabitHelper.synchronize: each rank broadcasts its record in turn."""
    rank, size = xgboost.collective.get_rank(), xgboost.collective.get_world_size()
    text = json.dumps(record)
    return [json.loads(str(xgboost.collective.broadcast(text if rank == n else "", n))) for n in range(size)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hyperparameters", type=Path, required=True)
    parser.add_argument("--input-data-config", type=Path, required=True)
    parser.add_argument("--resource-config", type=Path, help="resourceconfig.json; without it, one host")
    parser.add_argument("--local-address", help="locally: the address every host name resolves to")
    parser.add_argument("--local-port", type=int, default=TRACKER_PORT, help="locally: the first ring's port")
    parser.add_argument("--channel", action="append", default=[], help="NAME=DIR")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--failure-file", type=Path, required=True)
    args = parser.parse_args(argv)
    channels = {name: Path(folder) for name, _, folder in (item.partition("=") for item in args.channel)}
    try:
        hyperparameters = json.loads(args.hyperparameters.read_text(encoding="utf-8"))
        data_config = json.loads(args.input_data_config.read_text(encoding="utf-8"))
        resources = json.loads(args.resource_config.read_text(encoding="utf-8")) if args.resource_config else None
        network = Network(args.local_address, args.local_port)
        print(train(hyperparameters, data_config, channels, args.model_dir, resources=resources, network=network))
    except Exception as error:  # noqa: BLE001 - the trainer reports every failure the same way
        failure = f"framework error: \n{traceback.format_exc()}\n{error}"
        args.failure_file.parent.mkdir(parents=True, exist_ok=True)
        args.failure_file.write_text(failure, encoding="utf-8")
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
