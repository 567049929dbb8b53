"""The tournament's ranking: only contenders that pass every gate can win; then the lowest fidelity
error; near-ties go to the lower detection AUC, then to spec order."""

from __future__ import annotations

import pytest

from synthwright.pipelines.gate import RANKING, TIE_POINTS, Standing, decide, stronger_generator_hint
from synthwright.pipelines.spec import PipelineSpec
from synthwright.validators.gates import Metric, Scorecard


def card(shape: float, trend: float, detection: float = 0.7, dcr: float = 0.5) -> Scorecard:
    return Scorecard(
        metrics=[
            Metric(name="shape_error", value=shape, threshold=20, unit=" %"),
            Metric(name="trend_error", value=trend, threshold=25, unit=" %"),
            Metric(name="detection_auc", value=detection, threshold=None),
            Metric(name="dcr_share", value=dcr, threshold=0.6, group="privacy"),
        ]
    )


def test_the_lowest_fidelity_error_among_passing_contenders_wins():
    decision = decide(
        [
            Standing("copula", "copula", card(10, 12)),
            Standing("tvae", "tvae", card(6, 8)),
            Standing("bootstrap", "bootstrap", card(1, 1, dcr=0.99)),
        ]
    )
    assert decision.winner.title == "tvae"
    assert [c.title for c in decision.ranked] == ["tvae", "copula", "bootstrap"]
    assert "tvae passes every gate with the lowest fidelity error (7 %)" in decision.reason
    assert "bootstrap failed dcr_share (0.990, gate ≤ 0.600)" in decision.reason
    record = decision.to_dict()
    assert record["winner"] == "tvae" and record["ranking"] == RANKING
    assert record["contenders"][2] == {
        "contender": "bootstrap",
        "generator": "bootstrap",
        "passed": False,
        "outcome": "failed dcr_share (0.990, gate ≤ 0.600)",
        "failed_gates": ["dcr_share"],
        "fidelity_error": 1.0,
        "detection_auc": 0.7,
        "error": None,
    }


def test_a_copying_generator_never_wins_however_faithful():
    decision = decide([Standing("bootstrap", "bootstrap", card(0, 0, dcr=1.0))])
    assert decision.winner is None
    assert decision.reason.startswith("no contender passed every gate: bootstrap failed dcr_share")


def test_a_near_tie_goes_to_the_lower_detection_auc():
    a = Standing("a", "copula", card(10, 10, detection=0.9))
    b = Standing("b", "tvae", card(10, 10 + TIE_POINTS, detection=0.6))
    decision = decide([a, b])
    assert decision.winner.title == "b"
    assert "ties a's" in decision.reason and "0.600 vs 0.900" in decision.reason


def test_an_exact_tie_goes_to_spec_order():
    decision = decide([Standing("first", "copula", card(5, 5)), Standing("second", "copula", card(5, 5))])
    assert decision.winner.title == "first"


def test_a_clear_lead_beats_a_better_detection_auc():
    decision = decide(
        [Standing("a", "copula", card(10, 10, detection=0.55)), Standing("b", "tvae", card(5, 5, 0.95))]
    )
    assert decision.winner.title == "b"


def test_a_contender_that_crashed_is_reported_with_its_error():
    decision = decide(
        [Standing("ctgan", "ctgan", error="out of memory"), Standing("copula", "copula", card(9, 9))]
    )
    assert decision.winner.title == "copula"
    assert "ctgan error: out of memory" in decision.reason
    assert decision.to_dict()["contenders"][1]["fidelity_error"] is None


def spec(**fields) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {"dataset": "d", "source": {"builtin": "student_placements"}, **fields}
    )


def test_a_spec_lists_contenders_with_distinct_names():
    both = spec(generators=[{"name": "copula"}, {"name": "copula", "label": "copula-2"}])
    assert [g.title for g in both.contenders] == ["copula", "copula-2"] and both.is_tournament
    assert [g.title for g in spec().contenders] == ["diffusion"] and not spec().is_tournament
    with pytest.raises(ValueError, match="two contenders are named copula"):
        spec(generators=[{"name": "copula"}, {"name": "copula"}])
    with pytest.raises(ValueError, match="either generator .* or generators"):
        spec(generator={"name": "tvae"}, generators=[{"name": "copula"}])
    with pytest.raises(ValueError, match="at least one"):
        spec(generators=[])
    with pytest.raises(ValueError, match="names a folder"):
        spec(generators=[{"name": "copula", "label": "../x"}])


def test_a_failed_fidelity_gate_names_a_more_faithful_generator_that_exists_here():
    unfaithful = Scorecard(metrics=[Metric(name="detection_auc", value=0.99, threshold=0.9)])
    hint = stronger_generator_hint(unfaithful, ["copula"])
    assert "try a stronger generator (generator: {name: diffusion})" in hint and "llm, ctgan, tvae" in hint
    assert stronger_generator_hint(unfaithful, ["ctgan", "copula"]).endswith("or llm")
    assert stronger_generator_hint(unfaithful, ["diffusion"]) == ""  # nothing here is more faithful
    leaky = Scorecard(metrics=[Metric(name="dcr_share", value=0.9, threshold=0.6, group="privacy")])
    assert stronger_generator_hint(leaky, ["copula"]) == ""  # not a fidelity failure
