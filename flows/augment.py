"""The `augment` flow: an ML team's request for more, rebalanced or conditioned rows, as a Prefect flow.

    resolve source → ingest → input contract → split → plan → fit → sample → evaluate (+ lift) → publish

Ingest, the input check, split and fit are the `synthesize` flow's own tasks with the same cache keys:
augmenting a dataset that a pipeline already synthesised reuses its fitted model. The plan runs before
the fit, so a request that cannot be met costs no training. Sample, evaluate and publish always run.
A request whose synthetic rows fail a gate publishes nothing and records why under
<root>/<dataset>/rejected/, like a pipeline run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from prefect import flow, runtime, task
from prefect.cache_policies import NO_CACHE

from flows import tasks
from flows.artifacts import post_decision
from flows.caching import StepCache
from flows.synthesize import StepRunner, check_generators, run_in_prefect
from pipelines import augment_steps
from pipelines.augment_request import AugmentRequest
from pipelines.cache_keys import cache_root, run_keys
from synthwright.errors import ContractViolationError, GateFailedError

resolve_source = task(augment_steps.resolve_source, name="resolve-source", cache_policy=NO_CACHE)
plan = task(augment_steps.plan_step, name="plan", cache_policy=NO_CACHE)
sample = task(augment_steps.sample_step, name="sample-augmented", cache_policy=NO_CACHE)
evaluate = task(augment_steps.evaluate_step, name="evaluate-augmented", cache_policy=NO_CACHE)
publish = task(augment_steps.publish_step, name="publish-augmented", cache_policy=NO_CACHE)


@flow(name="augment", flow_run_name="{request.dataset}-augment")
def augment(request: AugmentRequest) -> dict[str, Any]:
    """Run one augmentation request end to end; returns what was published."""
    work = Path(tempfile.mkdtemp(prefix="synthwright-augment-"))
    try:
        return _run(request, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(request: AugmentRequest, work: Path) -> dict[str, Any]:
    source_path, contract_path = resolve_source(request, work)
    spec = request.pipeline_spec(source_path, contract_path)
    check_generators(spec)
    timings: dict[str, float] = {}
    root = cache_root(spec) if spec.cache.enabled else None
    keys = run_keys(spec, root) if root is not None else None
    steps = StepRunner(StepCache(root, work), keys, timings)
    ingested = steps.run("ingest", tasks.ingest, keys and keys.ingest, spec, rows=lambda r: r.rows)
    try:
        steps.check(tasks.check_input, keys and keys.ingest, ingested)
    except ContractViolationError as error:
        error.report_dir = tasks.reject(spec, "input_contract", {"violations": error.report.to_dict()})
        raise
    split = steps.run("split", tasks.split, keys and keys.split, spec, ingested, rows=lambda s: s.train_rows)
    planned = steps.once("plan", plan, request, ingested, split, rows=lambda p: p.synthetic_rows)
    title = spec.generator.title
    model_dir = steps.run(
        "fit", tasks.fit, keys and keys.fit[title], spec.generator, spec.seed, split, ingested.contract_path
    )
    synthetic = steps.once("sample", sample, model_dir, planned, spec.seed, work / "sample")
    evaluated = steps.once(
        "evaluate", evaluate, request, spec, ingested, split, synthetic, planned, work / "eval"
    )
    if not evaluated.scorecard.passed:
        failed = ", ".join(m.name for m in evaluated.scorecard.failures)
        folder = tasks.reject(
            spec,
            "gates",
            {"scorecard": evaluated.scorecard.to_dict(), "request": request.model_dump(mode="json")},
            {title: evaluated},
        )
        post_decision(spec.dataset, evaluated.scorecard, f"rejected: failed {failed}", folder / "report.html")
        raise GateFailedError(
            f"{spec.dataset}: the synthetic rows failed the gate(s) {failed}; nothing was published",
            evaluated.scorecard,
            report_dir=folder,
            hint=f"read the report in {folder}; ask for fewer rows, tune the generator or, if justified, "
            "the gates in the request",
        )
    run_record = {"flow_run_id": str(runtime.flow_run.id), "cached_steps": steps.cached, "timings": timings}
    published = steps.once(
        "publish",
        publish,
        request,
        spec,
        ingested,
        split,
        model_dir,
        synthetic,
        evaluated,
        planned,
        run_record,
        rows=lambda p: p["rows"],
    )
    version = Path(published["version_dir"])
    post_decision(
        spec.dataset, evaluated.scorecard, f"published {version.name} ({version})", version / "report.html"
    )
    return {
        "status": "published",
        **published,
        "report": str(version / "report.html"),
        "scorecard": evaluated.scorecard.to_dict(),
        "plan": planned.to_dict(),
        **run_record,
    }


def run_augment(request: AugmentRequest) -> dict[str, Any]:
    """Run the flow (embedded Prefect unless PREFECT_API_URL points at a server)."""
    augment_steps.preflight(request)  # a missing file costs no server start
    return run_in_prefect(lambda: augment(request))
