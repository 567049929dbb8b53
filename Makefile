# The README's two commands:  `make demo`  and  `make test`.
# Both create .venv if needed; torch's CPU wheel is installed before the package so that pip never
# pulls the multi-GB CUDA build (a user with a GPU installs their own torch into .venv first).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synthwright-installed
TORCH_VERSION ?= 2.13.0

.PHONY: demo test test-all lint setup browser bench-env clean

demo: setup
	$(BIN)/synthwright run pipelines/examples/adult.yaml

# The test files are spread over the machine's cores (pytest-xdist; at most 4 workers), a file per worker.
XDIST := -n auto --maxprocesses 4 --dist loadfile

test: setup browser
	$(BIN)/python -m pytest $(XDIST)

test-all: setup browser  ## slow tests too
	$(BIN)/python -m pytest $(XDIST) -m "not gpu"

# The report test opens an HTML report in headless Chromium (Debian's package; nothing is downloaded
# by playwright). Without root or apt the test is skipped, unless SYNTHWRIGHT_REQUIRE_BROWSER=1 (CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian's chromium for the report test"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null 2>&1 && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "could not install chromium (apt-get install chromium): the browser test will be skipped"; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "synthwright needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,llm,dask]'
	touch $(STAMP)

# The peers of benchmarks/suite.py (SDV, MOSTLY AI's engine) in an environment of their own: the engine
# pins psutil<6, which constraints.txt does not allow in .venv. Its torchvision/torchaudio wheels do not
# load with the CPU torch, so they are removed. Then: benchmarks/suite.py --peer-python .venv-bench/bin/python
BENCH_VENV ?= .venv-bench
bench-env:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -c 'import torch' 2>/dev/null || $(BENCH_VENV)/bin/python -m pip install --quiet torch==$(TORCH_VERSION)
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	$(BENCH_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio
	$(BENCH_VENV)/bin/python -c 'from mostlyai import engine; import sdv; print("bench environment ready:", "$(BENCH_VENV)")'

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .ruff_cache *.egg-info outputs
