"""The gate: which contender is published, and what a run that publishes nothing leaves behind.

Each contender's scorecard says whether it passed its gates (synthwright.validators.gates); this module
decides between contenders and turns "nothing passed" or "the reviewer said no" into a rejection
record and the error that ends the run (exit 1). Everything here is plain logic and file writing; the
run (synthwright.pipelines.run) calls it at the gate of its graph, whatever runs the steps.

The ranking of a tournament (README, "Tournaments"):
1. Only a contender that passes every gate can win. Privacy gates are gates like any other, so a
   generator that copies training rows (bootstrap) never wins.
2. Among those, the lowest fidelity error wins: the mean of the column-shape and column-pair-trend
   errors (percent), the SDMetrics figures every run reports.
3. Fidelity errors within 0.1 percentage points of each other count as a tie; the lower detection
   ROC AUC (closer to 0.5: harder to tell from real rows) breaks it, then the order in the spec.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from synthwright import code_version
from synthwright.errors import ApprovalRejectedError, ConfigError, GateFailedError
from synthwright.files import fsync_tree, make_folder
from synthwright.generators.registry import generator_names
from synthwright.pipelines.spec import PipelineSpec
from synthwright.pipelines.store import OUTPUT_ROOT_HINT, Store
from synthwright.validators.gates import Metric, Scorecard, format_number

log = logging.getLogger("synthwright.pipeline")
TIE_POINTS = 0.1
RANKING = (
    "passes every gate; then lowest fidelity error (mean of shape and trend error, %); "
    f"within {TIE_POINTS} points, lower detection AUC; then spec order"
)
REJECTION_FILE = "rejection.json"


class Scored(BaseModel):
    """One contender's evaluated sample: its scorecard, and where its evaluation and report were written."""

    model_config = ConfigDict(frozen=True)

    scorecard: Scorecard
    evaluation_path: Path
    report_path: Path


# ---- the decision ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """One contender's result at the gate: a scorecard, or the error that stopped it before it had one."""

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
    winner: Standing | None
    ranked: list[Standing]
    reason: str

    @property
    def best(self) -> Standing | None:
        """The winner, or else the best-ranked contender that has a scorecard (what a rejection shows)."""
        return next((s for s in self.ranked if s.scorecard is not None), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ranking": RANKING,
            "winner": self.winner.title if self.winner else None,
            "reason": self.reason,
            "contenders": [s.to_dict() for s in self.ranked],
        }


def decide(standings: list[Standing]) -> Decision:
    """Rank the contenders (passing first, by the documented ranking); the first passing one wins."""
    passing = [s for s in standings if s.passed]
    ranked_passing = _rank(passing)  # `passing` keeps spec order: the sort is stable
    failed = [s for s in standings if not s.passed]
    ranked = ranked_passing + failed
    failures = "; ".join(f"{s.title} {s.outcome}" for s in failed)
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
        others = ", ".join(f"{s.title} {_error(s)}" for s in ranked_passing[1:])
        reason += f"; other passing contenders: {others}"
    if failed:
        reason += f"; out of the running: {failures}"
    return Decision(winner, ranked, reason)


def _rank(passing: list[Standing]) -> list[Standing]:
    """Lowest fidelity error first; a tie (within TIE_POINTS) goes to the lower detection AUC."""
    ranked: list[Standing] = []
    for standing in sorted(passing, key=lambda s: _nan_last(s.fidelity_error)):
        position = len(ranked)
        while position > 0 and _tied(ranked[position - 1], standing):
            if _nan_last(standing.detection_auc) < _nan_last(ranked[position - 1].detection_auc):
                position -= 1
            else:
                break
        ranked.insert(position, standing)
    return ranked


def _tied(a: Standing, b: Standing) -> bool:
    return abs(a.fidelity_error - b.fidelity_error) <= TIE_POINTS


def _nan_last(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _error(standing: Standing) -> str:
    return f"{format_number(standing.fidelity_error)} %"


def _failure(metric: Metric) -> str:
    return f"{metric.name} ({format_number(metric.value)}{metric.unit}, gate {metric.bound})"


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


# ---- what a rejected run leaves --------------------------------------------------------------------


def record_rejection(
    spec: PipelineSpec,
    stage: str,
    details: dict[str, Any],
    scored: dict[str, Scored] | None = None,
) -> Path:
    """Record why a run published nothing, where the user will look: <root>/<dataset>/rejected/<run>/.

    A run rejected by its gates or by a reviewer leaves its report.html and evaluation.json there too;
    a tournament leaves one pair per contender (report-<contender>.html, evaluation-<contender>.json).
    The record is written in a hidden staging folder and renamed into place: it is whole or absent, and
    a write that fails (a full disk) is a ConfigError naming the path.
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    parent = make_folder(
        Store(spec.output.root).dataset_dir(spec.dataset) / "rejected",
        "the rejection record folder",
        hint=OUTPUT_ROOT_HINT,
    )
    folder = parent / f"{stamp}-{uuid.uuid4().hex[:6]}"
    staging = parent / f".{folder.name}.tmp"
    record = {"stage": stage, **details, "code_version": code_version(), "spec": spec.model_dump(mode="json")}
    reports = {}
    scored = scored or {}
    try:
        staging.mkdir()
        for title, result in scored.items():
            suffix = "" if len(scored) == 1 else f"-{title}"
            shutil.copyfile(result.report_path, staging / f"report{suffix}.html")
            shutil.copyfile(result.evaluation_path, staging / f"evaluation{suffix}.json")
            reports[title] = str(folder / f"report{suffix}.html")
        if len(reports) == 1:
            record["report"] = next(iter(reports.values()))
        elif reports:
            record["reports"] = reports
        (staging / REJECTION_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")
        fsync_tree(staging)
        staging.rename(folder)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(
            f"cannot write the rejection record in {parent}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else ""),
            hint="free space there, or " + OUTPUT_ROOT_HINT,
        ) from exc
    log.warning("rejected at %s; details in %s", stage, folder)
    return folder


@dataclass(frozen=True)
class Rejection:
    """A run that no contender's sample got through: what to record, say and raise."""

    details: dict[str, Any]
    """What rejection.json holds besides the stage (the best scorecard, a tournament's table, …)."""
    decided: str
    """The decision in a few words, as the Prefect UI's artifacts say it."""
    message: str
    scorecard: Scorecard | None
    tournament: dict[str, Any] | None

    def report(self, folder: Path) -> Path:
        """What a reader opens first: the rejection record of a tournament, else the report."""
        return folder / (REJECTION_FILE if self.tournament else "report.html")

    def error(self, folder: Path, hint: str) -> GateFailedError:
        """The run's error, once the rejection is recorded in `folder`."""
        return GateFailedError(
            self.message, self.scorecard, report_dir=folder, hint=hint, tournament=self.tournament
        )


def gate_rejection(spec: PipelineSpec, decision: Decision, **extra: Any) -> Rejection:
    """No contender passed every gate: the record's details, the decision and the run's error message.

    `extra` goes into the record as it is (an augmentation's request)."""
    best = decision.best
    scorecard = best.scorecard if best is not None else None
    details: dict[str, Any] = {"scorecard": scorecard.to_dict() if scorecard else None, **extra}
    tournament = decision.to_dict() if spec.is_tournament else None
    if tournament is not None:
        details["tournament"] = tournament
        message = f"{spec.dataset}: {decision.reason}; nothing was published"
        decided = f"rejected: {decision.reason}"
    else:
        failed = ", ".join(m.name for m in scorecard.failures) if scorecard else "?"
        message = f"{spec.dataset}: the synthetic data failed the gate(s) {failed}; nothing was published"
        decided = f"rejected: failed {failed}; nothing published"
    return Rejection(details, decided, message, scorecard, tournament)


BY_FIDELITY = ("diffusion", "llm", "ctgan", "tvae", "copula")
"""Generators from the most faithful to the least, as measured on Adult (README, *Measured*: shape and
trend error, detection AUC at each one's default preset)."""


def stronger_generator_hint(scorecard: Scorecard, used: list[str]) -> str:
    """`; for fidelity, try generator: diffusion` when a fidelity or detection gate failed and a more
    faithful generator than every one used exists here; empty otherwise."""
    if not any(m.group == "fidelity" for m in scorecard.failures):
        return ""
    ranks = [BY_FIDELITY.index(name) for name in used if name in BY_FIDELITY]
    best = min(ranks, default=len(BY_FIDELITY))
    stronger = [name for name in BY_FIDELITY[:best] if name in generator_names()]
    if not stronger:
        return ""
    return (
        f"; the rows are not faithful enough: try a stronger generator (generator: {{name: {stronger[0]}}})"
        + (f", or {', '.join(stronger[1:])}" if len(stronger) > 1 else "")
    )


class Answer(BaseModel):
    """A reviewer's answer at the approval pause (the form in Prefect's UI, or a local approver's)."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    reviewer: str = ""
    reason: str = ""

    def record(self) -> dict[str, Any]:
        """What the manifest (approved) or the rejection record (refused) keeps of it."""
        return {
            "approved": self.approved,
            "reviewer": self.reviewer,
            "reason": self.reason,
            "answered_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


def approval_refused(spec: PipelineSpec, answer: Answer, folder: Path) -> ApprovalRejectedError:
    """The error that ends a run its reviewer refused (or left unanswered until the timeout)."""
    who = answer.reviewer or "a reviewer"
    return ApprovalRejectedError(
        f"{spec.dataset}: rejected at approval by {who}: {answer.reason or 'no reason given'}; "
        "nothing was published",
        reviewer=answer.reviewer,
        reason=answer.reason,
        report_dir=folder,
        hint=f"the rejection is recorded in {folder}",
    )
