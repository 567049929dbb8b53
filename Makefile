# The README's two commands:  `make demo`  and  `make test`.
# Both create .venv if needed; torch's CPU wheel is installed before the package so that pip never
# pulls the multi-GB CUDA build (a user with a GPU installs their own torch into .venv first).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synthwright-installed
TORCH_VERSION ?= 2.13.0

.PHONY: demo test test-all lint setup clean

demo: setup
	$(BIN)/synthwright run pipelines/examples/demo.yaml

test: setup
	$(BIN)/python -m pytest

test-all: setup  ## slow tests too
	$(BIN)/python -m pytest -m "not gpu"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "synthwright needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info outputs
