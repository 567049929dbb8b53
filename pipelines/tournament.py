"""Which contender of a tournament to publish, and why: pure logic over the contenders' scorecards.

The ranking (README, "Tournaments"):
1. Only a contender that passes every gate can win. Privacy gates are gates like any other, so a
   generator that copies training rows (bootstrap) never wins.
2. Among those, the lowest fidelity error wins: the mean of the column-shape and column-pair-trend
   errors (percent), the SDMetrics figures every run reports.
3. Fidelity errors within 0.1 percentage points of each other count as a tie; the lower detection
   ROC AUC (closer to 0.5: harder to tell from real rows) breaks it, then the order in the spec.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from validators.gates import Scorecard, format_number

TIE_POINTS = 0.1
RANKING = (
    "passes every gate; then lowest fidelity error (mean of shape and trend error, %); "
    f"within {TIE_POINTS} points, lower detection AUC; then spec order"
)


@dataclass(frozen=True)
class Contender:
    """One generator's outcome: a scorecard, or the error that stopped it before it had one."""

    title: str
    generator: str
    scorecard: Scorecard | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.scorecard is not None and self.scorecard.passed

    @property
    def fidelity_error(self) -> float:
        return (self._value("shape_error") + self._value("trend_error")) / 2

    @property
    def detection_auc(self) -> float:
        return self._value("detection_auc")

    @property
    def outcome(self) -> str:
        if self.error is not None:
            return f"error: {self.error}"
        assert self.scorecard is not None
        if self.passed:
            return "passed every gate"
        return "failed " + ", ".join(_failure(m) for m in self.scorecard.failures)

    def _value(self, name: str) -> float:
        if self.scorecard is None:
            return math.nan
        return next((m.value for m in self.scorecard.metrics if m.name == name), math.nan)

    def to_dict(self) -> dict[str, Any]:
        failed = [] if self.scorecard is None else [m.name for m in self.scorecard.failures]
        return {
            "contender": self.title,
            "generator": self.generator,
            "passed": self.passed,
            "outcome": self.outcome,
            "failed_gates": failed,
            "fidelity_error": _json_number(self.fidelity_error),
            "detection_auc": _json_number(self.detection_auc),
            "error": self.error,
        }


@dataclass(frozen=True)
class Decision:
    winner: Contender | None
    ranked: list[Contender]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ranking": RANKING,
            "winner": self.winner.title if self.winner else None,
            "reason": self.reason,
            "contenders": [c.to_dict() for c in self.ranked],
        }


def decide(contenders: list[Contender]) -> Decision:
    """Rank the contenders (passing first, by the documented ranking); the first passing one wins."""
    passing = [c for c in contenders if c.passed]
    ranked_passing = _rank(passing)  # `passing` keeps spec order: the sort is stable
    ranked = ranked_passing + [c for c in contenders if not c.passed]
    failed = [c for c in contenders if not c.passed]
    failures = "; ".join(f"{c.title} {c.outcome}" for c in failed)
    if not ranked_passing:
        return Decision(None, ranked, f"no contender passed every gate: {failures}")
    winner = ranked_passing[0]
    reason = f"{winner.title} passes every gate with the lowest fidelity error ({_error(winner)})"
    if len(ranked_passing) > 1:
        runner_up = ranked_passing[1]
        if _tied(winner, runner_up):
            reason = (
                f"{winner.title} passes every gate; its fidelity error ({_error(winner)}) ties "
                f"{runner_up.title}'s ({_error(runner_up)}) and its detection AUC is lower or equal "
                f"({format_number(winner.detection_auc)} vs {format_number(runner_up.detection_auc)})"
            )
        others = ", ".join(f"{c.title} {_error(c)}" for c in ranked_passing[1:])
        reason += f"; other passing contenders: {others}"
    if failed:
        reason += f"; out of the running: {failures}"
    return Decision(winner, ranked, reason)


def _rank(passing: list[Contender]) -> list[Contender]:
    """Lowest fidelity error first; a tie (within TIE_POINTS) goes to the lower detection AUC."""
    ranked: list[Contender] = []
    for contender in sorted(passing, key=lambda c: _nan_last(c.fidelity_error)):
        position = len(ranked)
        while position > 0 and _tied(ranked[position - 1], contender):
            if _nan_last(contender.detection_auc) < _nan_last(ranked[position - 1].detection_auc):
                position -= 1
            else:
                break
        ranked.insert(position, contender)
    return ranked


def _tied(a: Contender, b: Contender) -> bool:
    return abs(a.fidelity_error - b.fidelity_error) <= TIE_POINTS


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _error(contender: Contender) -> str:
    return f"{format_number(contender.fidelity_error)} %"


def _failure(metric: Any) -> str:
    return f"{metric.name} ({format_number(metric.value)}{metric.unit}, gate {metric.bound})"


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)
