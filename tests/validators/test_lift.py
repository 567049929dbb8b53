"""Utility lift: the fixed model on real rows vs real + synthetic rows vs real + SMOTE rows, scored on a
real holdout. Small seeded frames where the answer is known: rows from the true distribution help a
rare class, rows with wrong labels hurt."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators.lift import METRICS, utility_lift

CONTRACT = Contract(
    dataset="rare",
    primary_key="row_id",
    columns=[
        Column(name="row_id", kind=ColumnKind.IDENTIFIER, id_type="integer", unique=True),
        Column(name="x1", kind=ColumnKind.FLOAT),
        Column(name="x2", kind=ColumnKind.FLOAT, nullable=True),
        Column(name="group", kind=ColumnKind.CATEGORICAL, values=["a", "b", "c"]),
        Column(name="score", kind=ColumnKind.FLOAT),
        Column(name="y", kind=ColumnKind.CATEGORICAL, values=["common", "rare"]),
    ],
)


def draw(rows: int, seed: int, rare_share: float | None = None) -> pd.DataFrame:
    """The rare class sits in one corner of (x1, x2) and mostly in group "a"; `rare_share` forces it."""
    rng = np.random.default_rng(seed)
    rare = rng.random(rows) < (0.08 if rare_share is None else rare_share)
    x1 = np.where(rare, rng.normal(1.5, 0.7, rows), rng.normal(0, 1, rows))
    x2 = np.where(rare, rng.normal(-1.0, 0.7, rows), rng.normal(0, 1, rows))
    x2[rng.random(rows) < 0.05] = np.nan
    group = np.where(rare & (rng.random(rows) < 0.7), "a", rng.choice(["a", "b", "c"], rows))
    return pd.DataFrame(
        {
            "row_id": np.arange(rows) + seed * 10_000,
            "x1": x1,
            "x2": x2,
            "group": group,
            "score": rng.normal(size=rows),
            "y": np.where(rare, "rare", "common"),
        }
    )


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return draw(300, seed=1)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return draw(600, seed=2)


def test_rows_from_the_true_distribution_lift_the_rare_class_and_smote_is_measured_too(train, holdout):
    more_rare = draw(100, seed=3, rare_share=1.0)
    lift = utility_lift(train, holdout, more_rare, CONTRACT, "y")
    assert lift.minority == "rare"
    assert lift.rows == {"train": 300, "synthetic": 100, "holdout": 600}
    assert lift.lift["balanced_accuracy"] > 0.05 and lift.lift["roc_auc"] > 0 and lift.lift["minority_f1"] > 0
    assert lift.smote is not None and set(lift.smote_lift) == set(METRICS)
    assert lift.smote_lift["balanced_accuracy"] > 0  # SMOTE also moves the decision toward the rare class
    for scores in (lift.real, lift.augmented, lift.smote):
        assert set(scores) == set(METRICS) and all(0 <= v <= 1 for v in scores.values())
    assert lift.to_dict()["lift"] == lift.lift and lift.to_dict()["minority_class"] == "rare"


def test_rows_with_wrong_labels_lower_the_lift(train, holdout):
    wrong = draw(300, seed=4, rare_share=0.0).assign(y="rare")  # common rows labelled rare
    lift = utility_lift(train, holdout, wrong, CONTRACT, "y")
    assert lift.lift["roc_auc"] < -0.01 and lift.lift["minority_f1"] < 0


def test_the_same_seed_gives_the_same_scores(train, holdout):
    more = draw(100, seed=5, rare_share=0.5)
    first = utility_lift(train, holdout, more, CONTRACT, "y", seed=7)
    assert first == utility_lift(train, holdout, more, CONTRACT, "y", seed=7)


def test_a_numeric_target_is_a_regression_with_r2_and_mae_lifts_and_no_smote():
    train, holdout, more = draw(300, seed=1), draw(200, seed=2), draw(150, seed=3)
    lift = utility_lift(train, holdout, more, CONTRACT, "x1")
    assert lift.task == "regression" and lift.metrics == ("r2", "mae") and lift.smote is None
    assert lift.lift["r2"] == round(lift.augmented["r2"] - lift.real["r2"], 4)
    assert lift.lift["mae"] == round((lift.real["mae"] - lift.augmented["mae"]) / lift.real["mae"], 4)
    assert any("no SMOTE baseline" in note for note in lift.notes)


def test_smote_skips_a_class_it_cannot_grow_and_says_so(holdout):
    train = draw(200, seed=6, rare_share=0.0)
    train.loc[0, "y"] = "rare"  # one rare training row: SMOTE needs two
    more_rare = draw(50, seed=7, rare_share=1.0)
    lift = utility_lift(train, holdout, more_rare, CONTRACT, "y")
    assert lift.smote is None
    assert any("cannot grow a class with 1 training row" in note for note in lift.notes)
