"""Flow tests share one Prefect test server (a real server process on 127.0.0.1 with a temporary
database); tests that prove the embedded mode start without it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_api_url():
    """Start the session's Prefect test server; yields its API URL (for subprocesses to use too)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield PREFECT_API_URL.value()
