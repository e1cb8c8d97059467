# `make demo` and `make test` work on a fresh clone: they install uv (if missing) and the locked
# environment in .venv first.
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo .tools/bin/uv)
RUN := $(UV) run --frozen
REGION := us-east-1
export SAM_CLI_TELEMETRY := 0
export UV_PYTHON_DOWNLOADS := never
export AWS_DEFAULT_REGION ?= $(REGION)

.PHONY: demo test lint format typecheck template-check security unit pytest bench install clean

demo: install ## Upload -> queue -> function -> pipeline run, all on this machine (moto)
	$(RUN) python -m emulator.demo

test: install lint typecheck template-check security pytest ## Everything CI runs

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock | $(filter .tools/bin/uv,$(UV))
	$(UV) sync --frozen
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

pytest: install
	$(RUN) pytest

unit: install
	$(RUN) pytest -m "not end_to_end"

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .aws-sam

bench: install ## Speed and cost figures as ratios against baselines measured in the same run
	$(RUN) python -m bench
