"""Shared fixtures: small seeded frames built in code, the demo table, and the Adult path."""

from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core: one math thread each (torch, OpenMP, BLAS read these when
    # they are imported, below), or the workers' thread pools spin against each other.
    for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import logging
import sys
import tempfile

import pandas as pd
import pytest
from support import ADULT, REPO, make_mixed_frame, mixed_contract

from synthwright.data_contracts.model import Contract

# Prefect, if a test starts it, stays offline.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Models are signed with a key of the test session's own, never the user's (synthwright.trust).
os.environ["SYNTHWRIGHT_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="synthwright-key-"), "model-key")

__all__ = ["ADULT", "REPO", "make_mixed_frame", "mixed_contract"]


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory):
    """Module- and session-scoped fixtures that run pipelines cache here, never in the user's cache."""
    folder = tmp_path_factory.mktemp("session-cache")
    previous = os.environ.get("SYNTHWRIGHT_CACHE_DIR")
    os.environ["SYNTHWRIGHT_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("SYNTHWRIGHT_CACHE_DIR", None)
    else:
        os.environ["SYNTHWRIGHT_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def prefect_console_to_process_stderr():
    """Prefect binds its console log handlers to the sys.stderr of the moment its logging is set up;
    under capsys that stream is closed when the test ends, and later tests would print "--- Logging
    error ---" into their own output. Point them at the process's stderr (captured by pytest at the
    file-descriptor level, never closed), before and after each test."""

    def repoint() -> None:
        handlers_module = sys.modules.get("prefect.logging.handlers")
        if handlers_module is None:  # Prefect not imported: nothing to do
            return
        loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
        for logger in loggers:
            for handler in getattr(logger, "handlers", []):
                if isinstance(handler, handlers_module.PrefectConsoleHandler):
                    handler.stream = handler.console.file = sys.__stderr__  # not setStream: it flushes

    repoint()
    yield
    repoint()


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Each test caches pipeline steps in its own folder: no test reuses another's (or the user's) fits."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SYNTHWRIGHT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


@pytest.fixture
def mixed() -> Contract:
    return mixed_contract()


@pytest.fixture(scope="session")
def placements():
    """The demo table (215 rows) ingested with its example contract."""
    from synthwright.data_contracts.io import load_contract
    from synthwright.pipelines.ingest import builtin_path, ingest

    contract = load_contract(REPO / "data_contracts" / "examples" / "student_placements.yaml")
    return ingest(builtin_path("student_placements"), contract=contract)


@pytest.fixture(scope="session")
def adult_path():
    if not ADULT.exists():
        pytest.fail(f"{ADULT} is missing: the shared datasets folder must sit beside the checkout")
    return ADULT


SLOWEST_FIRST = (
    "tests/flows/",
    "tests/pipelines/test_run.py",
    "tests/reliability/",
    "tests/test_packaging.py",
)
"""Files that run whole pipelines, servers or subprocesses (about two thirds of the suite's time)."""


def pytest_collection_modifyitems(config, items):
    """With several workers (`make test`: a file per worker), the slowest files go out first, so the
    run does not end waiting on one of them while the other workers sit idle. The order within a file,
    and a plain serial run, are left as they are."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return

    def rank(item) -> int:
        path = item.nodeid.split("::")[0]
        return next(
            (i for i, prefix in enumerate(SLOWEST_FIRST) if path.startswith(prefix)), len(SLOWEST_FIRST)
        )

    items.sort(key=rank)  # stable: collection order within each rank
