"""Utility: the fixed model trained on synthetic rows (TSTR) against trained on real rows (TRTR)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.validators.utility import Utility, infer_task, utility


def _contract(target_kind: ColumnKind, *, nullable_target: bool = False) -> Contract:
    return Contract(
        dataset="signal",
        primary_key="row_id",
        columns=[
            Column(name="row_id", kind=ColumnKind.IDENTIFIER, id_type="integer", unique=True),
            Column(name="x1", kind=ColumnKind.FLOAT),
            Column(name="x2", kind=ColumnKind.FLOAT, nullable=True),
            Column(name="group", kind=ColumnKind.CATEGORICAL, values=["a", "b", "c"]),
            Column(name="note", kind=ColumnKind.TEXT, pii="email"),
            Column(name="when", kind=ColumnKind.DATETIME),
            Column(name="y", kind=target_kind, nullable=nullable_target),
        ],
    )


def _frame(rows: int, seed: int, task: str) -> pd.DataFrame:
    """A learnable target: y depends on x1, x2 and group; `note` (personal data) spells the label out."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    group = rng.choice(["a", "b", "c"], rows)
    signal = 1.5 * x1 - x2 + np.where(group == "a", 1.0, 0.0) + rng.normal(0, 0.3, rows)
    if task == "binary":
        y = np.where(signal > 0.3, "yes", "no").astype(object)
    elif task == "multiclass":
        y = np.select([signal < -0.7, signal < 1.0], ["low", "mid"], "high").astype(object)
    else:
        y = signal
    x2 = x2.copy()
    x2[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "row_id": pd.array(np.arange(rows) + 10 * seed * rows, dtype="Int64"),
            "x1": x1,
            "x2": x2,
            "group": group.astype(object),
            "note": [f"{label}@example.com" for label in pd.Series(y).astype(str)],
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D"),
            "y": y,
        }
    )


KINDS = {
    "binary": ColumnKind.CATEGORICAL,
    "multiclass": ColumnKind.CATEGORICAL,
    "regression": ColumnKind.FLOAT,
}


def _split(task: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, Contract]:
    return _frame(500, 0, task), _frame(300, 1, task), _frame(500, 2, task), _contract(KINDS[task])


def _shuffled_target(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    out = frame.copy()
    out["y"] = out["y"].to_numpy()[np.random.default_rng(seed).permutation(len(out))]
    return out


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classification_tstr_matches_trtr_for_real_like_rows(task):
    train, holdout, synthetic, contract = _split(task)
    result = utility(train, holdout, synthetic, contract, "y")
    assert result.task == "classification"
    assert result.headline == "roc_auc"
    assert result.real["roc_auc"] > 0.9, result.real
    assert abs(result.gap) < 0.03, result.to_dict()
    assert result.synthetic["macro_f1"] == pytest.approx(result.real["macro_f1"], abs=0.06)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classification_gap_is_large_when_the_synthetic_target_is_shuffled(task):
    train, holdout, synthetic, contract = _split(task)
    result = utility(train, holdout, _shuffled_target(synthetic), contract, "y")
    assert result.synthetic["roc_auc"] == pytest.approx(0.5, abs=0.1), result.to_dict()
    assert result.gap > 0.3, result.to_dict()


def test_regression_tstr_matches_trtr_and_a_shuffled_target_loses_everything():
    train, holdout, synthetic, contract = _split("regression")
    good = utility(train, holdout, synthetic, contract, "y")
    assert good.task == "regression" and good.headline == "r2"
    assert set(good.real) == {"r2"}
    assert good.real["r2"] > 0.8
    assert abs(good.gap) < 0.05, good.to_dict()
    bad = utility(train, holdout, _shuffled_target(synthetic), contract, "y")
    assert bad.synthetic["r2"] < 0.1
    assert bad.gap > 0.7, bad.to_dict()


def test_identifiers_and_personal_data_are_not_features():
    """`note` spells the label out: were it a feature, a random target would be predicted perfectly."""
    train, holdout, synthetic, contract = _split("binary")
    train, holdout = _shuffled_target(train, 1), _shuffled_target(holdout, 2)
    for frame in (train, holdout):
        frame["note"] = [f"{label}@example.com" for label in frame["y"]]
        frame["row_id"] = pd.array(np.where(frame["y"] == "yes", 1, 0), dtype="Int64")
    result = utility(train, holdout, synthetic, contract, "y")
    assert result.real["roc_auc"] == pytest.approx(0.5, abs=0.1), result.to_dict()


def test_the_target_is_not_a_feature():
    """With no signal left in the features, a model that saw the target would still score 1.0."""
    train, holdout, synthetic, contract = _split("regression")
    for frame in (train, holdout, synthetic):
        frame["y"] = np.random.default_rng(len(frame)).normal(size=len(frame))
    result = utility(train, holdout, synthetic, contract, "y")
    assert result.real["r2"] < 0.1


def test_a_synthetic_set_with_a_single_class_scores_half_not_a_crash():
    train, holdout, synthetic, contract = _split("binary")
    synthetic["y"] = "yes"
    result = utility(train, holdout, synthetic, contract, "y")
    assert result.synthetic["roc_auc"] == 0.5
    assert 0 <= result.synthetic["macro_f1"] <= 0.5  # always "yes": only one class can score
    assert result.gap == pytest.approx(result.real["roc_auc"] - 0.5, abs=1e-4)


def test_a_class_only_the_synthetic_rows_have_does_not_crash():
    train, holdout, synthetic, contract = _split("binary")
    synthetic.loc[:49, "y"] = "maybe"
    result = utility(train, holdout, synthetic, contract, "y")
    assert 0.8 < result.synthetic["roc_auc"] <= 1.0


def test_rows_with_a_null_target_are_left_out():
    train, holdout, synthetic, _ = _split("binary")
    contract = _contract(ColumnKind.CATEGORICAL, nullable_target=True)
    for frame in (train, holdout, synthetic):
        frame.loc[frame.index[::10], "y"] = None
    result = utility(train, holdout, synthetic, contract, "y")
    labelled = [frame[frame["y"].notna()] for frame in (train, holdout, synthetic)]
    assert result == utility(*labelled, contract, "y")  # not a third class "None"
    assert result.real["roc_auc"] > 0.9


def test_a_boolean_target_is_classification():
    train, holdout, synthetic, _ = _split("binary")
    for frame in (train, holdout, synthetic):
        frame["y"] = pd.array(frame["y"] == "yes", dtype="boolean")
    result = utility(train, holdout, synthetic, _contract(ColumnKind.BOOLEAN), "y")
    assert result.task == "classification"
    assert result.real["roc_auc"] > 0.9 and abs(result.gap) < 0.03


@pytest.mark.parametrize(
    "kind, task",
    [
        (ColumnKind.INTEGER, "regression"),
        (ColumnKind.FLOAT, "regression"),
        (ColumnKind.CATEGORICAL, "classification"),
        (ColumnKind.BOOLEAN, "classification"),
    ],
)
def test_infer_task_from_the_contract_kind(kind, task):
    assert infer_task(_contract(kind), "y") == task


@pytest.mark.parametrize("target", ["note", "row_id", "when"])
def test_text_identifier_and_datetime_targets_are_config_errors(target):
    train, holdout, synthetic, contract = _split("binary")
    with pytest.raises(ConfigError, match=target):
        infer_task(contract, target)
    with pytest.raises(ConfigError, match=target):
        utility(train, holdout, synthetic, contract, target)


def test_an_unknown_target_is_a_config_error():
    train, holdout, synthetic, contract = _split("binary")
    with pytest.raises(ConfigError, match="not in the contract") as caught:
        utility(train, holdout, synthetic, contract, "salary")
    assert "x1" in str(caught.value)  # the hint lists the columns


def test_classification_of_a_numeric_target_is_a_config_error():
    train, holdout, synthetic, contract = _split("regression")
    with pytest.raises(ConfigError, match="not a class label"):
        utility(train, holdout, synthetic, contract, "y", task="classification")


def test_an_integer_target_can_be_treated_as_regression_explicitly():
    train, holdout, synthetic, _ = _split("regression")
    for frame in (train, holdout, synthetic):
        frame["y"] = pd.array(np.round(frame["y"] * 10).astype(int), dtype="Int64")
    result = utility(train, holdout, synthetic, _contract(ColumnKind.INTEGER), "y", task="regression")
    assert result.real["r2"] > 0.8


def test_seeded_results_repeat():
    train, holdout, synthetic, contract = _split("binary")
    first = utility(train, holdout, synthetic, contract, "y", seed=3)
    assert first == utility(train, holdout, synthetic, contract, "y", seed=3)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_to_dict_is_plain_json(task):
    train, holdout, synthetic, contract = _split(task)
    result = utility(train, holdout, synthetic, contract, "y")
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["target"] == "y"
    assert data["gap"] == result.gap
    assert data["trtr"] == result.real and data["tstr"] == result.synthetic
    assert data["headline"] in data["trtr"]
    assert isinstance(result, Utility)


def test_training_sides_above_the_cap_are_sampled_and_the_rows_are_recorded(monkeypatch):
    train, holdout, synthetic, contract = _split("binary")
    whole = utility(train, holdout, synthetic, contract, "y")
    assert whole.rows == {"train": 500, "synthetic": 500, "holdout": 300, "sampled": False}
    monkeypatch.setattr("synthwright.validators.utility.MAX_TRAIN_ROWS", 200)
    capped = utility(train, holdout, synthetic, contract, "y")
    assert capped.rows == {"train": 200, "synthetic": 200, "holdout": 300, "sampled": True}
    assert capped.to_dict()["rows"] == capped.rows
