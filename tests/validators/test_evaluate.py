"""evaluate(): every part measured, the gates applied, one JSON-ready result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import fresh_keys, make_mixed_frame, mixed_contract

from synthwright.data_contracts.model import Column, ColumnKind, Contract, RareValues
from synthwright.errors import UserInputError
from synthwright.validators.contract import ContractReport, ParseFailure
from synthwright.validators.evaluate import Evaluation, evaluate
from synthwright.validators.fidelity import Detection, Fidelity, fidelity
from synthwright.validators.gates import Gates, Scorecard
from synthwright.validators.privacy import Privacy
from synthwright.validators.utility import Utility

CONTRACT = mixed_contract()
OFF = {name: None for name in Gates.model_fields}
"""Every gate turned off: a metric is still measured and shown, and always passes."""
ALL_METRICS = [
    "shape_error",
    "trend_error",
    "detection_auc",
    "dcr_share",
    "exact_match_excess",
    "mia_auc",
    "nndr_median",
    "rare_value_leaks",
    "pii_verbatim",
    "singling_out_risk",
    "linkability_risk",
    "attribute_inference_risk",
    "utility_gap",
    "contract_violations",
]


@pytest.fixture(scope="module")
def frames():
    return make_mixed_frame(240, 10), make_mixed_frame(120, 11), fresh_keys(make_mixed_frame(200, 12))


@pytest.fixture(scope="module")
def evaluated(frames) -> Evaluation:
    train, holdout, synthetic = frames
    return evaluate(train, holdout, synthetic, CONTRACT, target="age", seed=0)


def test_every_part_is_measured(evaluated, frames):
    train, holdout, _ = frames
    assert isinstance(evaluated.scorecard, Scorecard)
    assert isinstance(evaluated.contract_report, ContractReport)
    assert isinstance(evaluated.fidelity, Fidelity) and isinstance(evaluated.reference, Fidelity)
    assert isinstance(evaluated.detection, Detection)
    assert isinstance(evaluated.privacy, Privacy)
    assert isinstance(evaluated.utility, Utility)
    assert evaluated.utility.target == "age" and evaluated.utility.task == "regression"
    assert evaluated.rows == {"train": 240, "holdout": 120, "synthetic": 200}
    assert set(evaluated.seconds) == {
        "contract",
        "fidelity",
        "reference_fidelity",
        "detection",
        "privacy",
        "attacks",
        "utility",
    }
    assert all(s >= 0 for s in evaluated.seconds.values())
    # the reference is the real holdout scored against train: the floor sampling noise gives
    expected = fidelity(train, holdout, CONTRACT)
    assert (evaluated.reference.shape_error, evaluated.reference.trend_error) == (
        expected.shape_error,
        expected.trend_error,
    )
    assert evaluated.reference.column_errors == expected.column_errors
    assert [m.name for m in evaluated.scorecard.metrics] == ALL_METRICS


def test_a_fresh_sample_passes_the_default_gates(evaluated):
    assert evaluated.passed, evaluated.scorecard.lines()
    assert evaluated.passed == evaluated.scorecard.passed


def test_the_default_gates_are_applied_when_none_are_given(evaluated):
    defaults = Gates()
    thresholds = {m.name: m.threshold for m in evaluated.scorecard.metrics}
    for name in ALL_METRICS:
        if name != "nndr_median":  # reported, never gated
            assert thresholds[name] == getattr(defaults, f"{name}_max"), name
    assert thresholds["nndr_median"] is None


def test_to_dict_is_strict_json_with_every_part(evaluated):
    data = json.loads(json.dumps(evaluated.to_dict(), allow_nan=False))
    assert set(data) == {
        "passed",
        "scorecard",
        "rows",
        "fidelity",
        "reference_fidelity",
        "detection",
        "privacy",
        "utility",
        "attacks",
        "contract",
        "seconds",
    }
    assert data["passed"] is evaluated.passed
    assert data["utility"]["target"] == "age"
    assert data["privacy"]["dcr_share"] == evaluated.privacy.dcr_share
    assert data["detection"]["auc"] == evaluated.detection.auc
    assert Scorecard.from_dict(data["scorecard"]) == evaluated.scorecard


def test_figures_that_cannot_be_computed_are_null_in_json(frames):
    train, holdout, synthetic = frames
    constant = synthetic.copy()
    constant["income"] = 50_000.0  # no correlation can be computed with a constant column
    result = evaluate(train, holdout, constant, CONTRACT, gates=Gates(**OFF))
    assert np.isnan(result.fidelity.pair_errors["age ~ income"])
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["fidelity"]["pair_errors"]["age ~ income"] is None
    assert data["reference_fidelity"]["pair_errors"]["age ~ income"] is not None


def test_a_tight_threshold_fails_exactly_its_metric(frames):
    train, holdout, synthetic = frames
    gates = Gates(**{**OFF, "shape_error_max": 0.0, "dcr_share_max": 0.0})
    result = evaluate(train, holdout, synthetic, CONTRACT, gates=gates, target="age")
    assert not result.passed
    assert [m.name for m in result.scorecard.failures] == ["shape_error", "dcr_share"]
    failed = {m.name: m for m in result.scorecard.failures}
    assert failed["shape_error"].value == result.fidelity.shape_error > 0
    assert failed["dcr_share"].value == result.privacy.dcr_share > 0


def test_copies_of_training_rows_fail_the_privacy_gates_only(frames):
    train, holdout, _ = frames
    copies = fresh_keys(train.sample(200, replace=True, random_state=0))
    result = evaluate(train, holdout, copies, CONTRACT, target="age")
    failed = {m.name for m in result.scorecard.failures}
    assert {"exact_match_excess", "mia_auc"} <= failed, result.scorecard.lines()
    assert {m.group for m in result.scorecard.failures} == {"privacy"}, result.scorecard.lines()


def test_copied_personal_data_fails_the_pii_gate(frames):
    train, holdout, synthetic = frames
    leaked = synthetic.copy()
    leaked.loc[:2, "email"] = train["email"].iloc[:3].to_numpy()
    gates = Gates(**{**OFF, "pii_verbatim_max": 0})
    result = evaluate(train, holdout, leaked, CONTRACT, gates=gates)
    assert [(m.name, m.value) for m in result.scorecard.failures] == [("pii_verbatim", 3.0)]


def test_contract_violations_and_parse_failures_fail_the_contract_gate(frames):
    train, holdout, synthetic = frames
    broken = synthetic.copy()
    broken.loc[:4, "age"] = 200  # the contract says 18..79
    gates = Gates(**{**OFF, "contract_violations_max": 0})
    result = evaluate(train, holdout, broken, CONTRACT, gates=gates)
    assert [m.name for m in result.scorecard.failures] == ["contract_violations"]
    assert result.contract_report.violations
    clean = evaluate(
        train,
        holdout,
        synthetic,
        CONTRACT,
        gates=gates,
        parse_failures=[ParseFailure("income", "float", 2, ["abc", "x"])],
    )
    assert [m.name for m in clean.scorecard.failures] == ["contract_violations"]


def test_without_a_target_there_is_no_utility(frames):
    train, holdout, synthetic = frames
    result = evaluate(train, holdout, synthetic, CONTRACT, gates=Gates(**OFF))
    assert result.utility is None
    assert "utility_gap" not in [m.name for m in result.scorecard.metrics]
    assert "utility" not in result.seconds
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["utility"] is None
    assert result.passed  # every gate off: nothing can fail


@pytest.mark.parametrize("role", ["train", "holdout", "synthetic"])
@pytest.mark.parametrize("rows", [0, 1])
def test_fewer_than_two_rows_is_a_user_input_error(role, rows, frames):
    parts = dict(zip(("train", "holdout", "synthetic"), frames, strict=True))
    parts[role] = parts[role].iloc[:rows]
    with pytest.raises(UserInputError, match=rf"the {role} data has {rows} row"):
        evaluate(parts["train"], parts["holdout"], parts["synthetic"], CONTRACT)


INDEPENDENT = Contract(
    dataset="independent",
    columns=[
        Column(name="a", kind=ColumnKind.FLOAT),
        Column(name="b", kind=ColumnKind.INTEGER, min=0, max=100),
        Column(name="c", kind=ColumnKind.CATEGORICAL, values=["x", "y", "z"]),
    ],
)


def _independent(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=rows),
            "b": pd.array(rng.integers(0, 101, rows), dtype="Int64"),
            "c": rng.choice(["x", "y", "z"], rows).astype(object),
        }
    )


def test_real_rows_of_a_table_with_independent_columns_pass_the_default_gates():
    """No pair is related: every pair still counts (SDMetrics' default thresholds would leave none, and
    a trend error that cannot be computed fails its gate)."""
    result = evaluate(_independent(600, 0), _independent(300, 1), _independent(300, 2), INDEPENDENT)
    assert not np.isnan(result.fidelity.trend_error)
    assert len(result.fidelity.pair_errors) == 3
    assert result.passed, result.scorecard.lines()


def test_rare_values_copied_from_training_fail_rare_value_leaks():
    """A generator made to copy rare values (here: the training rows themselves) is caught by value, not
    by row: a rarer-than-k category of the train side that the holdout lacks counts once per cell."""
    frame = make_mixed_frame(rows=400, seed=3)
    frame["colour"] = frame["colour"].astype(object)
    frame.loc[:1, "colour"] = "violet"  # two training rows hold it: rare under k = 5
    contract = CONTRACT.model_copy(
        update={
            "columns": [
                c.model_copy(update={"values": [*c.values, "violet"]}) if c.name == "colour" else c
                for c in CONTRACT.columns
            ]
        }
    )
    train, holdout = frame.iloc[:300], frame.iloc[300:]
    result = evaluate(
        train, holdout, fresh_keys(train), contract, gates=Gates(**{**OFF, "rare_value_leaks_max": 0})
    )
    assert result.privacy.rare_value_leaks == {"colour": 2}
    assert [(m.name, m.value) for m in result.scorecard.failures] == [("rare_value_leaks", 2.0)]
    allowed = contract.model_copy(
        update={
            "columns": [
                c.model_copy(update={"rare": RareValues(min_rows=1)}) if c.name == "colour" else c
                for c in contract.columns
            ]
        }
    )
    assert (
        evaluate(train, holdout, fresh_keys(train), allowed, gates=Gates(**OFF)).privacy.rare_value_leaks
        == {}
    )


def test_rare_values_are_judged_against_the_whole_split_when_scoring_a_group():
    """An augmentation scores its rows against the real rows of its group; a value rare in the group but
    frequent in what the generator learned from is not a leak."""
    frame = make_mixed_frame(rows=400, seed=4)
    train, holdout = frame.iloc[:300], frame.iloc[300:]
    reds = train[train["colour"] == "red"]
    group_train = pd.concat([train[train["colour"] == "blue"], reds.iloc[:2]])  # 2 reds: rare in the group
    group_holdout = holdout[holdout["colour"] == "blue"]
    synthetic = fresh_keys(pd.concat([group_train, reds.iloc[2:12]]))
    ungrouped = evaluate(group_train, group_holdout, synthetic, CONTRACT, gates=Gates(**OFF))
    assert ungrouped.privacy.rare_value_leaks == {"colour": 12}
    whole = evaluate(
        group_train, group_holdout, synthetic, CONTRACT, gates=Gates(**OFF), whole=(train, holdout)
    )
    assert whole.privacy.rare_value_leaks == {"colour": 0}
