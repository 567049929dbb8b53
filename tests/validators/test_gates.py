"""Gates and the scorecard: thresholds applied, every metric recorded, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from synthwright.validators.contract import CheckResult, ContractReport
from synthwright.validators.fidelity import Detection, Fidelity
from synthwright.validators.gates import Gates, Scorecard, score
from synthwright.validators.privacy import Privacy
from synthwright.validators.utility import Utility

CLEAN = ContractReport(source="synthetic", rows=10, results=[CheckResult("x", "a", True, "ok")])
BROKEN = ContractReport(source="synthetic", rows=10, results=[CheckResult("x", "a", False, "bad", 3, [1])])


def test_everything_within_thresholds_passes():
    card = score(Gates(), Fidelity(shape_error=7.2, trend_error=24.0), CLEAN, reference=Fidelity(1.0, 1.8))
    assert card.passed and card.failures == []
    assert [m.name for m in card.metrics] == ["shape_error", "trend_error", "contract_violations"]
    assert card.metrics[0].reference == 1.0


@pytest.mark.parametrize(
    "fid, report, failed",
    [
        (Fidelity(shape_error=25.0, trend_error=10.0), CLEAN, ["shape_error"]),
        (Fidelity(shape_error=5.0, trend_error=40.0), CLEAN, ["trend_error"]),
        (Fidelity(shape_error=5.0, trend_error=10.0), BROKEN, ["contract_violations"]),
    ],
)
def test_each_gate_can_fail_alone(fid, report, failed):
    card = score(Gates(), fid, report)
    assert not card.passed
    assert [m.name for m in card.failures] == failed


def test_thresholds_come_from_the_spec_and_are_inclusive():
    gates = Gates(shape_error_max=5, trend_error_max=5)
    assert score(gates, Fidelity(5.0, 5.0), CLEAN).passed
    assert not score(gates, Fidelity(5.01, 5.0), CLEAN).passed


def test_bad_thresholds_are_rejected():
    with pytest.raises(ValidationError):
        Gates(shape_error_max=-1)
    with pytest.raises(ValidationError):
        Gates(unknown_gate=3)


def test_scorecard_round_trips_through_json_and_prints_a_line_per_metric():
    card = score(Gates(), Fidelity(shape_error=25.0, trend_error=10.0), BROKEN, reference=Fidelity(1.0, 2.0))
    data = json.loads(json.dumps(card.to_dict()))
    assert data["passed"] is False
    assert [m["passed"] for m in data["metrics"]] == [False, True, False]
    assert Scorecard.from_dict(data) == card
    lines = card.lines()
    assert lines[0] == "✗ shape_error 25 % ≤ 20 % (real holdout: 1 %)"
    assert lines[2] == "✗ contract_violations 1 ≤ 0"


DETECTED = Detection(auc=0.97, rows_per_side=500)
PRIVATE = Privacy(
    dcr_share=0.51,
    dcr_share_interval=(0.49, 0.53),
    exact_match_train=0.002,
    exact_match_holdout=0.001,
    nndr_median=0.8,
    nndr_median_holdout=0.79,
    mia_auc=0.52,
    pii_verbatim={"email": 0},
    rows={"synthetic": 100, "train": 50, "holdout": 50, "sampled": False},
    dcr_train=np.zeros(0),
    dcr_holdout=np.zeros(0),
)
USEFUL = Utility(target="y", task="classification", real={"roc_auc": 0.9}, synthetic={"roc_auc": 0.7})


def test_every_part_adds_its_metrics_in_its_group():
    card = score(Gates(), Fidelity(5.0, 10.0), CLEAN, detection=DETECTED, privacy=PRIVATE, utility=USEFUL)
    groups = {m.name: m.group for m in card.metrics}
    assert groups == {
        "shape_error": "fidelity",
        "trend_error": "fidelity",
        "detection_auc": "fidelity",
        "dcr_share": "privacy",
        "exact_match_excess": "privacy",
        "mia_auc": "privacy",
        "nndr_median": "privacy",
        "pii_verbatim": "privacy",
        "utility_gap": "utility",
        "contract_violations": "contract",
    }
    assert [m.name for m in card.failures] == ["detection_auc", "utility_gap"]
    by_name = {m.name: m for m in card.metrics}
    assert by_name["exact_match_excess"].value == pytest.approx(0.1)
    assert by_name["utility_gap"].value == pytest.approx(0.2)
    assert by_name["dcr_share"].interval == (0.49, 0.53)
    assert "[95 % CI 0.490–0.530]" in card.lines()[3]


def test_a_null_threshold_turns_a_gate_off_but_keeps_the_metric():
    card = score(
        Gates(detection_auc_max=None, utility_gap_max=None),
        Fidelity(5.0, 10.0),
        CLEAN,
        detection=DETECTED,
        utility=USEFUL,
    )
    assert card.passed
    assert {"detection_auc", "utility_gap"} <= {m.name for m in card.metrics}


def test_a_metric_that_could_not_be_computed_fails_its_gate():
    card = score(Gates(), Fidelity(5.0, 10.0), CLEAN, detection=Detection(auc=float("nan"), rows_per_side=1))
    assert [m.name for m in card.failures] == ["detection_auc"]
    assert "detection_auc n/a" in card.lines()[2]


def test_a_figure_measured_on_a_sample_says_of_how_many_rows():
    tables = {"train": 800_000, "holdout": 200_000, "synthetic": 1_000_000}
    sampled = Fidelity(5.0, 10.0, rows={"real": 200_000, "synthetic": 200_000, "sampled": True})
    card = score(Gates(), sampled, CLEAN, detection=Detection(auc=0.7, rows_per_side=20_000), tables=tables)
    shape = next(m for m in card.metrics if m.name == "shape_error")
    assert shape.description.endswith(
        "; on a seeded sample of 200,000 of 800,000 train and 200,000 of 1,000,000 synthetic rows"
    )
    detected = next(m for m in card.metrics if m.name == "detection_auc")
    assert "20,000 of 200,000 holdout and 20,000 of 1,000,000 synthetic rows" in detected.description
    whole = score(Gates(), Fidelity(5.0, 10.0, rows={"real": 10, "synthetic": 10, "sampled": False}), CLEAN)
    assert "sample" not in whole.metrics[0].description
