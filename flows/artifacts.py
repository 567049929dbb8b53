"""What a run decided and why, shown in the Prefect UI: the scorecard as a table artifact and the HTML
report as a link artifact, posted for published and rejected runs alike."""

from __future__ import annotations

import re
from pathlib import Path

from prefect.artifacts import create_link_artifact, create_table_artifact

from synthwright.pipelines.gate import RANKING, Decision
from synthwright.validators.gates import Scorecard, format_number


def artifact_key(dataset: str, what: str) -> str:
    """Prefect's artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{dataset}-{what}".lower()).strip("-")


def scorecard_rows(scorecard: Scorecard) -> list[dict[str, str]]:
    """One row per metric, as the terminal summary says it: value, gate, verdict, real-holdout value."""
    rows = []
    for m in scorecard.metrics:
        verdict = "not gated" if m.threshold is None else "pass" if m.passed else "FAIL"
        rows.append(
            {
                "metric": m.name,
                "group": m.group,
                "value": f"{format_number(m.value)}{m.unit}",
                "gate": m.bound or "—",
                "result": verdict,
                "real holdout": "—" if m.reference is None else f"{format_number(m.reference)}{m.unit}",
            }
        )
    return rows


def post_decision(dataset: str, scorecard: Scorecard, decision: str, report: Path) -> None:
    """The scorecard (table) and the report (link), described by the decision (published or why not)."""
    create_table_artifact(
        table=scorecard_rows(scorecard),
        key=artifact_key(dataset, "scorecard"),
        description=f"**{dataset}**: {decision}",
    )
    create_link_artifact(
        link=report.resolve().as_uri(),
        link_text=f"{dataset} report ({report.name})",
        key=artifact_key(dataset, "report"),
        description=f"the HTML report behind the decision: {decision}",
    )


def post_tournament(dataset: str, decision: Decision) -> None:
    """The tournament as a table, best first: each contender's outcome, and why the winner won."""
    rows = [
        {
            "rank": str(rank) if contender.passed else "—",
            "contender": contender.title,
            "generator": contender.generator,
            "fidelity error": f"{format_number(contender.fidelity_error)} %",
            "detection AUC": format_number(contender.detection_auc),
            "outcome": contender.outcome,
        }
        for rank, contender in enumerate(decision.ranked, start=1)
    ]
    winner = decision.winner.title if decision.winner else "none"
    create_table_artifact(
        table=rows,
        key=artifact_key(dataset, "tournament"),
        description=f"**{dataset}** tournament, winner: {winner}. {decision.reason}. Ranking: {RANKING}.",
    )
