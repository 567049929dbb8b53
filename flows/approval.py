"""Human approval before publish, on Prefect's pause with typed input.

A run whose spec says `approval: required` pauses after its gates pass. The Prefect UI shows the
pause's form (approve or not, reviewer, reason) with the scorecard and the report link; from a shell,
`synthwright approve RUN_ID` / `synthwright reject RUN_ID --reason ...` answer it through the API.
The run's graph records an approval in the manifest; a refusal (or no answer before the timeout)
publishes nothing and is recorded under <root>/<dataset>/rejected/ (synthwright.pipelines.run). Needs
a Prefect server: in the embedded mode no other process can reach the paused run.
"""

from __future__ import annotations

import getpass
import logging
import uuid
from typing import Any

from prefect import runtime
from prefect.exceptions import FlowPauseTimeout, NotPausedError, ObjectNotFound
from prefect.flow_runs import pause_flow_run, resume_flow_run
from prefect.input import RunInput
from prefect.settings import PREFECT_API_URL

from synthwright.errors import ConfigError, UserInputError
from synthwright.flows.artifacts import post_decision, scorecard_rows
from synthwright.pipelines.gate import Answer, Scored
from synthwright.pipelines.spec import PipelineSpec

log = logging.getLogger("synthwright.flow")
POLL_SECONDS = 2


class Approval(RunInput):
    """What a reviewer answers (the form in the Prefect UI; the input `synthwright approve` sends)."""

    approved: bool
    reviewer: str = ""
    reason: str = ""


def ask_for_approval(spec: PipelineSpec, scored: Scored, decision: str) -> Answer:
    """Pause until a reviewer answers; no answer before the timeout is a refusal."""
    run_id = str(runtime.flow_run.id)
    post_decision(
        spec.dataset, scored.scorecard, f"awaiting approval (flow run {run_id})", scored.report_path
    )
    log.warning(
        "waiting for approval of %s: approve in the Prefect UI, or run `synthwright approve %s` "
        "or `synthwright reject %s --reason ...` (timeout %g min)",
        spec.dataset,
        run_id,
        run_id,
        spec.approval_timeout_minutes,
    )
    form = Approval.with_initial_data(description=_description(spec, scored, decision), approved=True)
    try:
        answer = pause_flow_run(
            wait_for_input=form,
            timeout=max(1, round(spec.approval_timeout_minutes * 60)),
            poll_interval=POLL_SECONDS,
        )
    except FlowPauseTimeout:
        return Answer(approved=False, reason=f"no answer within {spec.approval_timeout_minutes:g} minutes")
    return Answer(approved=answer.approved, reviewer=answer.reviewer, reason=answer.reason)


def _description(spec: PipelineSpec, scored: Scored, decision: str) -> str:
    """The Markdown the reviewer reads above the form: scorecard, report link, how to answer."""
    rows = scorecard_rows(scored.scorecard)
    header = "| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n" if rows else ""
    table = header + "".join("| " + " | ".join(r.values()) + " |\n" for r in rows)
    return (
        f"### Approve publishing {spec.dataset}?\n\n"
        f"Every gate passed. {decision}.\n\n{table}\n"
        f"Report: [{scored.report_path.name}]({scored.report_path.resolve().as_uri()})\n\n"
        "Set *approved* and your name, or reject with a reason."
    )


def answer_approval(run_id: str, *, approved: bool, reviewer: str | None, reason: str) -> dict[str, Any]:
    """Resume a paused run with a reviewer's answer (what `synthwright approve/reject` call)."""
    if PREFECT_API_URL.value() is None:
        raise ConfigError(
            "approving a run needs the Prefect server it runs on: PREFECT_API_URL is not set",
            hint="export PREFECT_API_URL=http://127.0.0.1:4200/api (the server's address)",
        )
    try:
        flow_run_id = uuid.UUID(run_id)
    except ValueError:
        raise UserInputError(
            f"{run_id!r} is not a flow run id", hint="copy the id from the run's log or the Prefect UI"
        ) from None
    answer = {"approved": approved, "reviewer": reviewer or getpass.getuser(), "reason": reason}
    try:
        resume_flow_run(flow_run_id, run_input=answer)
    except ObjectNotFound:
        raise UserInputError(
            f"no flow run {run_id} on {PREFECT_API_URL.value()}", hint="check the id and PREFECT_API_URL"
        ) from None
    except NotPausedError:
        raise UserInputError(
            f"flow run {run_id} is not waiting for approval", hint="it may have been answered or timed out"
        ) from None
    except FlowPauseTimeout:
        raise UserInputError(f"flow run {run_id} timed out waiting for approval") from None
    except RuntimeError as error:
        raise UserInputError(f"flow run {run_id} could not be resumed: {error}") from None
    return {"flow_run_id": str(flow_run_id), **answer}
