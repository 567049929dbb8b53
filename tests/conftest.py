"""Shared fixtures: small seeded frames built in code, the demo table, and the Adult path."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from support import ADULT, REPO, make_mixed_frame, mixed_contract

from data_contracts.model import Contract

# Prefect, if a test starts it, stays offline.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

__all__ = ["ADULT", "REPO", "make_mixed_frame", "mixed_contract"]


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()


@pytest.fixture
def mixed() -> Contract:
    return mixed_contract()


@pytest.fixture(scope="session")
def placements():
    """The demo table (215 rows) ingested with its example contract."""
    from data_contracts.io import load_contract
    from pipelines.ingest import builtin_path, ingest

    contract = load_contract(REPO / "data_contracts" / "examples" / "student_placements.yaml")
    return ingest(builtin_path("student_placements"), contract=contract)


@pytest.fixture(scope="session")
def adult_path():
    if not ADULT.exists():
        pytest.fail(f"{ADULT} is missing: the shared datasets folder must sit beside the checkout")
    return ADULT
