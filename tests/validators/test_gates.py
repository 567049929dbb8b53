"""Gates and the scorecard: thresholds applied, every metric recorded, JSON round trip."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from validators.contract import CheckResult, ContractReport
from validators.fidelity import Fidelity
from validators.gates import Gates, Scorecard, score

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
    assert lines[0] == "✗ shape_error 25.0 % ≤ 20 % (real holdout: 1.0 %)"
    assert lines[2] == "✗ contract_violations 1 ≤ 0"
