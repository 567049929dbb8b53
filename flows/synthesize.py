"""The `synthesize` flow: source → contract check → split → fit → sample → evaluate → gate → publish.

Each run posts its scorecard (a table artifact) and its report (a link artifact), so the Prefect UI
shows what was decided and why (flows.artifacts).

Runs in Prefect's embedded (ephemeral) mode when no server is configured: `synthwright run` just works.
A run that fails its input contract or a gate publishes nothing, records why under
<root>/<dataset>/rejected/, and ends Failed (so schedules and dashboards show it).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from prefect import flow, runtime
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_HOME,
    temporary_settings,
)

from flows import tasks
from flows.artifacts import post_decision
from pipelines.spec import PipelineSpec
from synthwright.errors import ContractViolationError, GateFailedError, SynthwrightError
from synthwright.files import make_folder


@flow(name="synthesize", flow_run_name="{spec.dataset}-seed{spec.seed}")
def synthesize(spec: PipelineSpec) -> dict[str, Any]:
    """Run one pipeline spec end to end; returns what was published."""
    timings: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="synthwright-run-"))
    try:
        ingested = _timed(timings, "ingest", tasks.ingest, spec, work)
        try:
            _timed(timings, "check_input", tasks.check_input, ingested)
        except ContractViolationError as error:
            error.report_dir = tasks.reject(spec, "input_contract", {"violations": error.report.to_dict()})
            raise
        split = _timed(timings, "split", tasks.split, spec, ingested, work)
        model_dir = _timed(timings, "fit", tasks.fit, spec, split, ingested.contract_path, work)
        rows = spec.sample.rows or split.train_rows
        synthetic = _timed(timings, "sample", tasks.sample, model_dir, rows, spec.seed, work)
        evaluated = _timed(
            timings,
            "evaluate",
            tasks.evaluate,
            spec,
            split,
            synthetic,
            ingested.contract_path,
            work,
            {"source": ingested.source, "flow run": str(runtime.flow_run.id)},
        )
        scorecard = evaluated.scorecard
        if not scorecard.passed:
            folder = tasks.reject(spec, "gates", {"scorecard": scorecard.to_dict()}, evaluated)
            failed = ", ".join(m.name for m in scorecard.failures)
            post_decision(
                spec.dataset,
                scorecard,
                f"rejected: failed {failed}; nothing published",
                folder / "report.html",
            )
            raise GateFailedError(
                f"{spec.dataset}: the synthetic data failed the gate(s) {failed}; nothing was published",
                scorecard,
                report_dir=folder,
                hint=f"read the report ({folder / 'report.html'}); tune the generator or, "
                "if justified, the gates in the spec",
            )
        published = _timed(
            timings, "publish", tasks.publish, spec, ingested, split, model_dir, synthetic, evaluated
        )
        version = Path(published["version_dir"])
        post_decision(
            spec.dataset, scorecard, f"published {version.name} ({version})", version / "report.html"
        )
        return {
            "status": "published",
            **published,
            "report": str(Path(published["version_dir"]) / "report.html"),
            "scorecard": scorecard.to_dict(),
            "timings": timings,
            "flow_run_id": str(runtime.flow_run.id),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _timed(timings: dict[str, float], name: str, task: Any, *args: Any) -> Any:
    started = time.perf_counter()
    try:
        return task(*args)
    finally:
        timings[name] = round(time.perf_counter() - started, 3)


def run_pipeline(spec: PipelineSpec) -> dict[str, Any]:
    """Run the flow (embedded Prefect unless PREFECT_API_URL points at a server)."""
    logging.getLogger("synthwright").setLevel(logging.INFO)  # step progress lines in the run log
    embedded = PREFECT_API_URL.value() is None
    if embedded:
        _prepare_prefect_home()
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):  # saves ~1 s per run
        try:
            return synthesize(spec)
        except RuntimeError as error:
            if embedded and "ephemeral Prefect API server" in str(error):
                raise SynthwrightError(
                    f"Prefect's embedded server did not start: {error}",
                    hint=f"check that PREFECT_HOME ({PREFECT_HOME.value()}) is writable and the machine "
                    "is not overloaded, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, "
                    "or set PREFECT_API_URL to a running server",
                ) from error
            raise


def _prepare_prefect_home() -> None:
    """The embedded server keeps its SQLite database in PREFECT_HOME; Prefect creates only the last level."""
    make_folder(
        Path(PREFECT_HOME.value()).expanduser(),
        "the Prefect home folder",
        hint="set PREFECT_HOME to a folder you can write to",
    )
