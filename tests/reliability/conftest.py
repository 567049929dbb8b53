"""Reliability tests that run a pipeline share one Prefect test server, as the flow tests do (the same
fixture as tests/flows/conftest.py: a real server process on 127.0.0.1 with a temporary database)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_api_url():
    """Start the session's Prefect test server; yields its API URL (for subprocesses to use too)."""
    from prefect.settings import PREFECT_API_URL  # noqa: TID251 — the fixture starts Prefect
    from prefect.testing.utilities import prefect_test_harness  # noqa: TID251

    with prefect_test_harness(server_startup_timeout=90):
        yield PREFECT_API_URL.value()


@pytest.fixture(autouse=True)
def _restore_logging():
    """`fit`, `evaluate` and `run` add a stderr log handler bound to the test's captured stream; a later
    test logging into it once closed would print "--- Logging error ---" with a traceback."""
    from cli_support import logging_restored

    with logging_restored():
        yield
