"""Shared test helpers (importable as `support` from any test module): paths and seeded frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import Column, ColumnKind, Contract

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"


def make_mixed_frame(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    """Every column kind, nulls, a key, an email column and an ordered date pair: small and seeded."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, rows), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 60, rows), unit="D")
    age = rng.integers(18, 80, rows)
    income = np.round(age * 900 + rng.normal(0, 5000, rows), 2)
    colour = rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    colour[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "customer_id": pd.array(np.arange(1000, 1000 + rows), dtype="Int64"),
            "age": pd.array(age, dtype="Int64"),
            "income": income,
            "colour": colour,
            "member": pd.array(rng.random(rows) < 0.4, dtype="boolean"),
            "email": [f"person{i}@example.com" for i in range(rows)],
            "start_date": start,
            "end_date": end,
        }
    )


def mixed_contract() -> Contract:
    return Contract(
        dataset="mixed",
        primary_key="customer_id",
        columns=[
            Column(name="customer_id", kind=ColumnKind.IDENTIFIER, id_type="integer", unique=True),
            Column(name="age", kind=ColumnKind.INTEGER, min=18, max=79),
            Column(name="income", kind=ColumnKind.FLOAT, min=-20000.0, max=100000.0),
            Column(
                name="colour", kind=ColumnKind.CATEGORICAL, nullable=True, values=["blue", "green", "red"]
            ),
            Column(name="member", kind=ColumnKind.BOOLEAN),
            Column(name="email", kind=ColumnKind.TEXT, pii="email"),
            Column(name="start_date", kind=ColumnKind.DATETIME, format="%Y-%m-%d"),
            Column(name="end_date", kind=ColumnKind.DATETIME, format="%Y-%m-%d"),
        ],
        rules=["start_date <= end_date"],
    )


def fresh_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """New identifiers and e-mails, as a generator makes them by rule (make_mixed_frame reuses both):
    only the learned columns are copied."""
    out = frame.copy()
    out["customer_id"] = pd.array(np.arange(900_000, 900_000 + len(out)), dtype="Int64")
    out["email"] = [f"fake{i}@example.org" for i in range(len(out))]
    return out


def independent_draws(rows: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train, holdout and a fresh "synthetic" sample: three independent draws of one population (seeds
    0, 1 and 2), the synthetic one with new keys and e-mails."""
    return (
        make_mixed_frame(rows, seed=0),
        make_mixed_frame(rows, seed=1),
        fresh_keys(make_mixed_frame(rows, 2)),
    )
