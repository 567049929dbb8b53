"""The flows: the pipeline's graph run by Prefect, for a pipeline spec or an augmentation request.

Runs in Prefect's embedded (ephemeral) mode when no server is configured: `synthwright run` just works.
A run that fails its input contract, every gate or its reviewer publishes nothing, records why under
<root>/<dataset>/rejected/, and ends Failed (so schedules and dashboards show it). What Prefect adds to
the plain graph is the runner's (synthwright.flows.runner); what the graph does is
synthwright.pipelines.run's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_HOME,
    temporary_settings,
)

from synthwright.errors import MissingDependencyError, SynthwrightError
from synthwright.files import make_folder
from synthwright.flows.runner import PrefectRunner
from synthwright.pipelines.augment_request import AugmentRequest
from synthwright.pipelines.augment_steps import Augmentation
from synthwright.pipelines.run import RunResult, Synthesis, run_job
from synthwright.pipelines.spec import PipelineSpec, load_spec


@flow(name="synthesize", flow_run_name="{job.run_name}", validate_parameters=False)
def synthesize(job: Synthesis) -> RunResult:
    """Run one pipeline spec end to end; returns what was published."""
    return run_job(job, PrefectRunner())


@flow(name="augment", flow_run_name="{job.run_name}", validate_parameters=False)
def augment(job: Augmentation) -> RunResult:
    """Run one augmentation request end to end; returns what was published."""
    return run_job(job, PrefectRunner())


@flow(name="synthesize-spec-file")
def synthesize_spec_file(spec_file: str, overrides: list[str] | None = None) -> dict[str, Any]:
    """Read a spec file when the run starts (what deployments run: edits apply at the next run)."""
    return run_job(Synthesis(load_spec(spec_file, overrides or [])), PrefectRunner()).to_dict()


def run_pipeline(spec: PipelineSpec) -> RunResult:
    """Run a spec as the `synthesize` flow (embedded Prefect unless PREFECT_API_URL points at a server).

    Everything that can be checked first is (files, contract, target, generator configs, a server for
    approval), so that a mistake costs no server start."""
    PrefectRunner().check_approval(spec)
    job = Synthesis(spec)
    job.preflight()
    return run_in_prefect(lambda: _with_task_runner(synthesize, spec)(job))


def run_augment(request: AugmentRequest) -> RunResult:
    """Run a request as the `augment` flow (embedded Prefect unless PREFECT_API_URL points at a server)."""
    job = Augmentation(request)
    job.preflight()
    return run_in_prefect(lambda: augment(job))


def run_in_prefect(call: Callable[[], Any]) -> Any:
    """Call a flow: in Prefect's embedded mode unless PREFECT_API_URL points at a server."""
    logging.getLogger("synthwright").setLevel(logging.INFO)  # step progress lines in the run log
    embedded = PREFECT_API_URL.value() is None
    if embedded:
        _prepare_prefect_home()
    with temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):  # saves ~1 s per run
        try:
            return call()
        except RuntimeError as error:
            if embedded and "ephemeral Prefect API server" in str(error):
                raise SynthwrightError(
                    f"Prefect's embedded server did not start: {error}",
                    hint=f"check that PREFECT_HOME ({PREFECT_HOME.value()}) is writable and the machine "
                    "is not overloaded, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, "
                    "or set PREFECT_API_URL to a running server",
                ) from error
            raise


def _with_task_runner(chosen: Any, spec: PipelineSpec) -> Any:
    """The flow with the spec's task runner: Prefect's thread pool, or a local Dask cluster."""
    if spec.runner.kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner  # noqa: PLC0415 — an optional extra
        except ImportError as error:
            raise MissingDependencyError(
                "runner.kind: dask needs prefect-dask", hint="pip install 'synthwright[dask]'"
            ) from error
        workers = spec.runner.workers or len(spec.contenders)
        return chosen.with_options(
            task_runner=DaskTaskRunner(
                cluster_kwargs={
                    "n_workers": workers,
                    "threads_per_worker": 1,
                    "processes": True,
                    "dashboard_address": None,
                }
            )
        )
    if spec.runner.workers is not None:
        from prefect.task_runners import ThreadPoolTaskRunner

        return chosen.with_options(task_runner=ThreadPoolTaskRunner(max_workers=spec.runner.workers))
    return chosen


def _prepare_prefect_home() -> None:
    """The embedded server keeps its SQLite database in PREFECT_HOME; Prefect creates only the last level."""
    make_folder(
        Path(PREFECT_HOME.value()).expanduser(),
        "the Prefect home folder",
        hint="set PREFECT_HOME to a folder you can write to",
    )
