# `make demo` and `make test` work on a fresh clone: they install uv (if missing) and the locked
# environment in .venv first.
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo .tools/bin/uv)
RUN := $(UV) run --frozen --all-extras
REGION := us-east-1
export SAM_CLI_TELEMETRY := 0
export UV_PYTHON_DOWNLOADS := never
export AWS_DEFAULT_REGION ?= $(REGION)

.PHONY: demo local local-down test lint format typecheck template-check security unit pytest bench install step-envs clean

# `make demo DATA=my.csv TARGET=price`: the same run on your own file (DATA may list several files).
# STRICT=1: exit non-zero when any run did not succeed (for CI). DRIFT=1: then prod gets shifted rows,
# its drift check finds them, and the drift retrain runs (and replaces prod if it wins).
DEMO_ARGS := $(foreach file,$(DATA),--data "$(file)") $(if $(TARGET),--target "$(TARGET)") \
	$(if $(PROBLEM_TYPE),--problem-type "$(PROBLEM_TYPE)") $(if $(JSON),--json "$(JSON)") \
	$(if $(TRAINING_DATA),--training-data "$(TRAINING_DATA)") $(if $(ID_COLUMN),--id-column "$(ID_COLUMN)") \
	$(if $(NO_AUTO_APPROVE),--no-auto-approve) $(if $(STRICT),--strict) \
	$(if $(PROCESSING_ENGINE),--processing-engine "$(PROCESSING_ENGINE)") \
	$(if $(SPARK_THRESHOLD_BYTES),--spark-threshold-bytes "$(SPARK_THRESHOLD_BYTES)") \
	$(if $(TRAINING_INSTANCE_COUNT),--training-instance-count "$(TRAINING_INSTANCE_COUNT)") \
	$(if $(DRIFT),--drift)

# The Spark look-alike is built when a run may need it: PROCESSING_ENGINE=spark, the tests, the benchmarks.
SPARK ?= $(filter spark,$(PROCESSING_ENGINE))$(SPARK_THRESHOLD_BYTES)
test bench: SPARK = 1
test: SAMPLES = 1

demo: install step-envs ## Upload -> queue -> function -> pipeline run, all on this machine (moto)
	$(RUN) python -m emulator.demo $(DEMO_ARGS)

# A local stack that stays up (moto, the functions, the pipeline runner) for `aws --endpoint-url` and
# `retrain-trigger`; `make local-down` stops it.
local: install step-envs
	$(RUN) retrain-trigger local up $(if $(TARGET),--target "$(TARGET)")

local-down: install
	$(RUN) retrain-trigger local down

test: install step-envs lint typecheck template-check security pytest ## Everything CI runs

install: .venv/.installed

# Look-alikes of the SageMaker images the pipeline's steps run in: their Python and libraries
# (pipeline/images.py), from interpreters on this machine. A missing one is named, with how to get it.
# `make step-envs SPARK=1` adds the Spark image's (with a JDK, 583 MB): only Spark's tests and bench need it.
# `make step-envs SAMPLES=1` adds those of the images the AWS samples use (scikit-learn 1.2-1, XGBoost 1.7-1).
step-envs: install
	UV=$(UV) $(RUN) python -m emulator.step_environments $(if $(SPARK),--spark) $(if $(SAMPLES),--samples)

.venv/.installed: pyproject.toml uv.lock | $(filter .tools/bin/uv,$(UV))
	$(UV) sync --frozen --all-extras
	@touch $@

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: install
	$(RUN) mypy

template-check: install
	$(RUN) cfn-lint template.yaml
	$(RUN) sam validate --lint --template template.yaml --region $(REGION)

# checkov pins libraries the project's own (SageMaker SDK) cannot use: it runs in its own tool
# environment. --skip-download: it never calls its vendor's API.
CHECKOV_VERSION := 3.3.30
security:
	UV_PYTHON_DOWNLOADS=never $(UV) tool run --from checkov==$(CHECKOV_VERSION) checkov \
		--file template.yaml --framework cloudformation --compact --quiet --skip-download

# Two workers (CI has two cores; most tests wait on a step's own process), a test file per worker:
# a file's module fixtures (a Spark or a multi-host run shared by its tests) are built once.
pytest: install step-envs
	$(RUN) pytest -n 2 --dist loadgroup --durations=40

unit: install step-envs
	$(RUN) pytest -m "not end_to_end"

clean:
	rm -rf .venv .tools .step-envs .pytest_cache .mypy_cache .ruff_cache .aws-sam

bench: install step-envs ## Speed and cost figures as ratios against baselines measured in the same run
	$(RUN) python -m bench
