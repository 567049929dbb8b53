"""Every validator on degenerate but legal frames: all-null, constant and synthetic-only-null columns,
one-class targets, tiny tables. `evaluate` measures what it can and never raises; a figure the real data
cannot give is "not measured" with its reason (not gated, and said beside the verdict), never a 0 that
passes; a figure the synthetic side breaks still counts against it."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators.attacks import attack_risks
from synthwright.validators.drift import drift_checks, drift_thresholds
from synthwright.validators.evaluate import evaluate, holdout_rows_in_train
from synthwright.validators.fidelity import detection, fidelity
from synthwright.validators.gates import AugmentGates, Scorecard, lift_metrics
from synthwright.validators.lift import utility_lift
from synthwright.validators.report import write_report
from synthwright.validators.utility import utility

CONTRACT = Contract(
    dataset="degenerate",
    columns=[
        Column(name="num", kind=ColumnKind.FLOAT, nullable=True),
        Column(name="count", kind=ColumnKind.INTEGER, nullable=True),
        Column(name="cat", kind=ColumnKind.CATEGORICAL, nullable=True),
        Column(name="flag", kind=ColumnKind.BOOLEAN, nullable=True),
        Column(name="when", kind=ColumnKind.DATETIME, nullable=True),
        Column(name="label", kind=ColumnKind.CATEGORICAL, nullable=True),
    ],
)


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "num": rng.normal(size=rows),
            "count": pd.array(rng.integers(0, 9, rows), dtype="Int64"),
            "cat": rng.choice(["a", "b", "c"], rows).astype(object),
            "flag": pd.array(rng.random(rows) < 0.5, dtype="boolean"),
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, rows), unit="D"),
            "label": rng.choice(["x", "y"], rows).astype(object),
        }
    )


def nulls(data: pd.DataFrame, column: str) -> pd.DataFrame:
    return data.assign(**{column: pd.Series([None] * len(data), dtype=data[column].dtype, index=data.index)})


def constant(data: pd.DataFrame, column: str, value: object) -> pd.DataFrame:
    return data.assign(
        **{column: pd.Series([value] * len(data), index=data.index).astype(data[column].dtype)}
    )


TRAIN, HOLDOUT, SYNTHETIC = frame(40, 1), frame(20, 2), frame(40, 3)
Frames = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]


def each(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Frames:
    return change(TRAIN), change(HOLDOUT), change(SYNTHETIC)


def one_train_value(data: pd.DataFrame) -> pd.DataFrame:
    data = nulls(data, "num")
    data.loc[data.index[0], "num"] = 1.5
    return data


DAY = pd.Timestamp("2024-01-01")
DEGENERATE = {
    "all-null-number": (each(lambda f: nulls(f, "num")), "label"),
    "all-null-category": (each(lambda f: nulls(f, "cat")), "label"),
    "all-null-datetime": (each(lambda f: nulls(f, "when")), "label"),
    "null-in-synthetic-only": ((TRAIN, HOLDOUT, nulls(SYNTHETIC, "count")), "label"),
    "null-in-holdout-only": ((TRAIN, nulls(HOLDOUT, "cat"), SYNTHETIC), "label"),
    "constant-number-target": (each(lambda f: constant(f, "count", 3)), "count"),
    "one-valued-boolean-target": (each(lambda f: constant(f, "flag", True)), "flag"),
    "constant-datetime": (each(lambda f: constant(f, "when", DAY)), "label"),
    "one-class-target": (each(lambda f: constant(f, "label", "x")), "label"),
    "one-class-in-holdout": ((TRAIN, constant(HOLDOUT, "label", "x"), SYNTHETIC), "label"),
    "one-class-in-synthetic": ((TRAIN, HOLDOUT, constant(SYNTHETIC, "label", "x")), "label"),
    "target-null-in-holdout": ((TRAIN, nulls(HOLDOUT, "label"), SYNTHETIC), "label"),
    "target-null-in-synthetic": ((TRAIN, HOLDOUT, nulls(SYNTHETIC, "num")), "num"),
    "one-train-value-none-in-holdout": ((one_train_value(TRAIN), nulls(HOLDOUT, "num"), SYNTHETIC), "num"),
    "single-row-holdout-class": ((TRAIN, HOLDOUT.assign(label=["z"] + ["x"] * 19), SYNTHETIC), "label"),
    "tiny": ((frame(5, 1), frame(2, 2), frame(5, 3)), "label"),
    "every-row-the-same": (each(lambda f: pd.concat([f.iloc[:1]] * len(f), ignore_index=True)), "label"),
}


@pytest.mark.parametrize("name", DEGENERATE)
def test_evaluate_measures_degenerate_frames_without_raising(name, tmp_path):
    (train, holdout, synthetic), target = DEGENERATE[name]
    evaluation = evaluate(train, holdout, synthetic, CONTRACT, target=target)
    json.dumps(evaluation.to_dict(), allow_nan=False)
    for metric in evaluation.scorecard.metrics:  # an n/a either says why or fails its gate
        if math.isnan(metric.value) and metric.threshold is not None:
            assert not metric.passed, metric
        if metric.not_measured:
            assert metric.threshold is None and math.isnan(metric.value)
            assert metric.name in evaluation.scorecard.relaxed_line
    assert evaluation.scorecard.lines()
    write_report(tmp_path / "report.html", evaluation, train, synthetic, CONTRACT, title="t", details={})


def utility_lines(name: str) -> list[str]:
    (train, holdout, synthetic), target = DEGENERATE[name]
    card = evaluate(train, holdout, synthetic, CONTRACT, target=target).scorecard
    return [line for line in card.lines() if "utility" in line]


def test_a_one_class_target_is_not_measured_and_not_a_passing_zero():
    useful = utility(*DEGENERATE["one-class-target"][0], CONTRACT, "label")
    assert math.isnan(useful.gap) and useful.to_dict()["gap"] != 0
    assert (
        useful.not_measured
        == "'label' has one class ('x') in the real training rows: a model learns nothing from it"
    )
    lines = utility_lines("one-class-target")
    assert lines[0] == f"· utility_gap n/a — not measured: {useful.not_measured}"
    assert lines[1] == f"· utility_f1_gap n/a — not measured: {useful.not_measured}"
    assert lines[2].startswith("! relaxed gates: utility_gap, utility_f1_gap not measured ('label' has one")


@pytest.mark.parametrize(
    "name, reason",
    [
        (
            "one-class-in-holdout",
            "'label' has one class ('x') in the real holdout: ROC AUC needs two classes",
        ),
        ("target-null-in-holdout", "the real holdout has no value of 'label'"),
        ("one-train-value-none-in-holdout", "the real holdout has no value of 'num'"),
        ("constant-number-target", "'count' has one value (3) in the real training rows"),
    ],
)
def test_real_data_that_cannot_measure_utility_says_why(name, reason):
    assert reason in utility_lines(name)[0] and "not measured" in utility_lines(name)[0]


def test_synthetic_rows_that_teach_nothing_still_fail_the_utility_gate():
    """A one-class or target-less synthetic side is the generator's doing: measured, and it counts."""
    (train, holdout, synthetic), _ = DEGENERATE["one-class-in-synthetic"]
    useful = utility(train, holdout, synthetic, CONTRACT, "label")
    assert useful.not_measured is None and useful.synthetic["roc_auc"] == 0.5
    (train, holdout, synthetic), _ = DEGENERATE["target-null-in-synthetic"]
    card = evaluate(train, holdout, synthetic, CONTRACT, target="num").scorecard
    assert "utility_gap" in [m.name for m in card.failures]


def test_a_column_lost_in_the_synthetic_rows_counts_as_a_full_error():
    """SDMetrics cannot score a column with no synthetic value and would leave it out of the shape."""
    measured = fidelity(TRAIN, nulls(SYNTHETIC, "count"), CONTRACT)
    assert measured.column_errors["count"] == 100.0
    assert measured.shape_error > 100 / 6 - 1e-9  # one column of six at 100 %
    assert any(error == 100.0 for pair, error in measured.pair_errors.items() if "count" in pair)


def test_fidelity_and_detection_the_real_data_cannot_give_are_not_measured():
    one = Contract(dataset="t", columns=[Column(name="num", kind=ColumnKind.FLOAT, nullable=True)])
    measured = fidelity(TRAIN[["num"]], SYNTHETIC[["num"]], one)
    assert (
        math.isnan(measured.trend_error) and "fewer than two scored columns" in measured.not_measured["trend"]
    )
    empty = fidelity(nulls(TRAIN, "num")[["num"]], SYNTHETIC[["num"]], one)
    assert empty.not_measured["shape"] == "no scored column has a value in the real data"
    keys = Contract(dataset="t", columns=[Column(name="k", kind=ColumnKind.IDENTIFIER, id_type="integer")])
    ids = pd.DataFrame({"k": pd.array(range(10), dtype="Int64")})
    assert detection(ids, ids, keys).not_measured.startswith("the contract has no scored column")


def test_a_one_column_table_is_not_rejected_for_attacks_it_cannot_make():
    one = Contract(dataset="t", columns=[Column(name="num", kind=ColumnKind.FLOAT)])
    attacks = attack_risks(TRAIN[["num"]], HOLDOUT[["num"]], SYNTHETIC[["num"]], one)
    assert math.isnan(attacks.linkability.risk) and attacks.linkability.note
    card = evaluate(TRAIN[["num"]], HOLDOUT[["num"]], SYNTHETIC[["num"]], one).scorecard
    linkability = next(m for m in card.metrics if m.name == "linkability_risk")
    assert linkability.passed and linkability.not_measured == attacks.linkability.note
    assert "linkability_risk" not in [m.name for m in card.failures]


@pytest.mark.parametrize(
    "name, reason",
    [
        ("one-class-target", "'label' has one class ('x') in the real holdout"),
        ("target-null-in-holdout", "the real holdout has no value of 'label'"),
        ("tiny", None),
        ("one-class-in-synthetic", None),
    ],
)
def test_the_utility_lift_on_degenerate_frames(name, reason):
    (train, holdout, synthetic), target = DEGENERATE[name]
    lift = utility_lift(train, holdout, synthetic, CONTRACT, target)
    json.dumps(lift.to_dict(), default=str)
    metrics = lift_metrics(AugmentGates(), lift)
    if reason is None:
        assert lift.not_measured is None
    else:
        assert reason in lift.not_measured
        assert all(m.not_measured == lift.not_measured and m.passed for m in metrics)
        assert "minority_f1_lift" in Scorecard(metrics=metrics).relaxed_line


def test_the_lift_with_one_class_in_the_real_training_rows():
    """SMOTE needs two classes, and sklearn's one-class model answers two probabilities: neither raises."""
    lift = utility_lift(constant(TRAIN, "label", "x"), HOLDOUT, SYNTHETIC, CONTRACT, "label")
    assert lift.not_measured is None and lift.smote is None
    assert any("SMOTE needs two classes" in note for note in lift.notes)


@pytest.mark.parametrize("name", DEGENERATE)
def test_drift_checks_on_degenerate_frames(name):
    (train, _, synthetic), _ = DEGENERATE[name]
    results = drift_checks(train, synthetic, CONTRACT, drift_thresholds(CONTRACT))
    assert results and all(r.message for r in results)


def test_evaluate_warns_when_holdout_rows_repeat_training_rows(caplog):
    """Given by hand (`synthwright evaluate`), train and holdout may share rows: that is said."""
    holdout = pd.concat([TRAIN.iloc[:5], HOLDOUT.iloc[5:]], ignore_index=True)
    assert holdout_rows_in_train(TRAIN, holdout, CONTRACT) == 5
    assert holdout_rows_in_train(TRAIN, HOLDOUT, CONTRACT) == 0
    with caplog.at_level(logging.WARNING, logger="synthwright.evaluate"):
        evaluate(TRAIN, holdout, SYNTHETIC, CONTRACT)
    assert "5 of 20 holdout rows equal a training row in every column" in caplog.text
