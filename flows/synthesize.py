"""The `synthesize` flow: source → contract check → split → fit → sample → evaluate → gate → publish.

- **Tournament:** a spec may list several generators; their fit → sample → evaluate chains run at
  once on the flow's task runner (threads, or a local Dask cluster with `runner.kind: dask`), and the
  best that passes every gate is published (pipelines.tournament has the ranking).
- **Caching:** every step but publish is cached across runs by its key (flows.caching); an unchanged
  spec re-runs in seconds and publishes the same bytes.
- **Approval:** `approval: required` pauses before publish until a person approves (flows.approval).
- **Artifacts:** each run posts its scorecard (table) and report (link), so the Prefect UI shows what
  was decided and why (flows.artifacts).
- **Logs:** one structured line per step: `step=fit contender=copula seconds=5.2 cached=false rows=…`.

Runs in Prefect's embedded (ephemeral) mode when no server is configured: `synthwright run` just works.
A run that fails its input contract, every gate or its reviewer publishes nothing, records why under
<root>/<dataset>/rejected/, and ends Failed (so schedules and dashboards show it).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, runtime
from prefect.futures import PrefectFuture, wait
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_HOME,
    temporary_settings,
)

from flows import tasks
from flows.artifacts import post_decision, post_tournament
from flows.caching import StepCache
from generators.base import MANIFEST_FILE
from generators.registry import create_generator
from pipelines.cache_keys import RunKeys, cache_root, run_keys
from pipelines.spec import GeneratorSpec, PipelineSpec, load_spec
from pipelines.steps import Evaluated, preflight
from pipelines.tournament import Contender, Decision, decide
from synthwright.errors import (
    ConfigError,
    ContractViolationError,
    GateFailedError,
    SynthwrightError,
)
from synthwright.files import make_folder

log = logging.getLogger("synthwright.flow")


@flow(name="synthesize", flow_run_name="{spec.dataset}-seed{spec.seed}")
def synthesize(spec: PipelineSpec) -> dict[str, Any]:
    """Run one pipeline spec end to end; returns what was published."""
    return _run(spec)


@flow(name="synthesize-spec-file")
def synthesize_spec_file(spec_file: str, overrides: list[str] | None = None) -> dict[str, Any]:
    """Read a spec file when the run starts (what deployments run: edits apply at the next run)."""
    return _run(load_spec(spec_file, overrides or []))


def _run(spec: PipelineSpec) -> dict[str, Any]:
    check_generators(spec)
    timings: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="synthwright-run-"))
    try:
        root = cache_root(spec) if spec.cache.enabled else None
        cache = StepCache(root, work)
        keys = run_keys(spec, root) if root is not None else None
        steps = StepRunner(cache, keys, timings)
        ingested = steps.run("ingest", tasks.ingest, keys and keys.ingest, spec, rows=lambda r: r.rows)
        try:
            steps.check(tasks.check_input, keys and keys.ingest, ingested)
        except ContractViolationError as error:
            error.report_dir = tasks.reject(spec, "input_contract", {"violations": error.report.to_dict()})
            raise
        split = steps.run(
            "split", tasks.split, keys and keys.split, spec, ingested, rows=lambda s: s.train_rows
        )
        rows = spec.sample.rows or split.train_rows
        outcomes = steps.contend(spec, split, ingested, rows)
        decision = decide([outcome.contender for outcome in outcomes.values()])
        run_record = {
            "flow_run_id": str(runtime.flow_run.id),
            "cached_steps": steps.cached,
            "timings": timings,
        }
        if spec.is_tournament:
            run_record["tournament"] = decision.to_dict()
            post_tournament(spec.dataset, decision)
        if decision.winner is None:
            _reject_all(spec, decision, outcomes)
        winner = outcomes[decision.winner.title]
        assert winner.evaluated is not None and winner.model_dir is not None and winner.synthetic
        if spec.approval == "required":
            from flows.approval import ask_for_approval  # noqa: PLC0415 — only approval-gated runs

            run_record["approval"] = ask_for_approval(spec, winner.evaluated, decision.reason)
        published = steps.once(
            "publish",
            tasks.publish,
            spec,
            ingested,
            split,
            winner.model_dir,
            winner.synthetic,
            winner.evaluated,
            run_record,
            rows=lambda p: p["rows"],
        )
        version = Path(published["version_dir"])
        decided = f"published {version.name} ({version})"
        if spec.is_tournament:
            decided += f"; {decision.reason}"
        post_decision(spec.dataset, winner.evaluated.scorecard, decided, version / "report.html")
        return {
            "status": "published",
            **published,
            "report": str(version / "report.html"),
            "scorecard": winner.evaluated.scorecard.to_dict(),
            **run_record,  # flow run id, cached steps, timings (publish's too), tournament, approval
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_generators(spec: PipelineSpec) -> None:
    """Every contender's name, config and device, checked before anything runs (a typo costs no fit)."""
    for contender in spec.contenders:
        try:
            generator = create_generator(
                contender.name, contender.config, seed=spec.seed, device=contender.device
            )
            generator.device_used()  # imports torch here, not in two task threads at once
        except ConfigError as error:
            where = f"generators[{contender.title}]" if spec.generators else "generator"
            raise ConfigError(f"{where}: {error.message}", hint=error.hint) from error


class _Outcome:
    """One contender's way through fit → sample → evaluate."""

    def __init__(self, spec: GeneratorSpec):
        self.spec = spec
        self.model_dir: Path | None = None
        self.synthetic: Path | None = None
        self.evaluated: Evaluated | None = None
        self.error: BaseException | None = None
        self.chain: dict[str, tuple[PrefectFuture, Path]] = {}

    @property
    def contender(self) -> Contender:
        scorecard = self.evaluated.scorecard if self.evaluated else None
        message = None if self.error is None else getattr(self.error, "message", None) or repr(self.error)
        return Contender(self.spec.title, self.spec.name, scorecard, message)


class StepRunner:
    """Runs the flow's tasks through the cache, timing each and logging one structured line per step."""

    def __init__(self, cache: StepCache, keys: RunKeys | None, timings: dict[str, float]):
        self.cache = cache
        self.keys = keys
        self.timings = timings
        self.cached: list[str] = []

    def run(self, step: str, task: Any, key: str | None, *args: Any, rows: Any = None) -> Any:
        """A step that writes files, run in the flow's thread: cached under `key`, into its folder."""
        prefect_key = self.cache.key(step, key)
        where = self.cache.folder(step, key)
        return self._call(
            step, self.cache.options(task, where, prefect_key), (prefect_key, where, *args), rows
        )

    def check(self, task: Any, key: str | None, *args: Any) -> Any:
        """A step that writes no files (the input check): cached under `key` alone."""
        prefect_key = self.cache.key("check_input", key)
        return self._call("check_input", self.cache.options(task, None, prefect_key), (prefect_key, *args))

    def once(self, step: str, task: Any, *args: Any, rows: Any = None) -> Any:
        """A step never cached (publish)."""
        return self._call(step, task, args, rows)

    def _call(self, step: str, task: Any, args: tuple[Any, ...], rows: Any = None) -> Any:
        started = time.perf_counter()
        state = task(*args, return_state=True)
        seconds = round(time.perf_counter() - started, 3)
        self.timings[step] = seconds
        result = state.result()  # raises the step's error
        self._record(step, None, seconds, state.name == "Cached", rows(result) if rows else None)
        return result

    def contend(self, spec: PipelineSpec, split: Any, ingested: Any, rows: int) -> dict[str, _Outcome]:
        """Each contender's fit → sample → evaluate as submitted tasks: they run at once."""
        outcomes = {generator.title: _Outcome(generator) for generator in spec.contenders}
        for outcome in outcomes.values():
            title, keys = outcome.spec.title, self.keys
            model_dir = self._submit(
                outcome,
                "fit",
                keys and keys.fit[title],
                outcome.spec,
                spec.seed,
                split,
                ingested.contract_path,
            )
            synthetic = self._submit(
                outcome, "sample", keys and keys.sample[title], model_dir, rows, spec.seed
            )
            details = {"generator": title, "source": ingested.source}
            self._submit(
                outcome,
                "evaluate",
                keys and keys.evaluate[title],
                spec,
                split,
                synthetic,
                ingested.contract_path,
                details,
            )
        wait([future for outcome in outcomes.values() for future, _ in outcome.chain.values()])
        for title, outcome in outcomes.items():
            for step, (future, folder) in outcome.chain.items():
                state = future.state
                if not state.is_completed():
                    if outcome.error is None and state.is_failed():
                        outcome.error = _exception_of(future)
                    continue
                cached = state.name == "Cached"
                seconds = 0.0 if cached else tasks.run_seconds(folder)
                self.timings[step if not spec.is_tournament else f"{step}[{title}]"] = seconds
                value = future.result()
                setattr(outcome, _RESULT_OF[step], value)
                named = title if spec.is_tournament else None
                self._record(step, named, seconds, cached, *self._details(step, value, rows))
            if outcome.error is not None and not spec.is_tournament:
                raise outcome.error  # one generator: its error is the run's error (exit code and all)
        return outcomes

    def _submit(self, outcome: _Outcome, step: str, key: str | None, *args: Any) -> PrefectFuture:
        prefect_key = self.cache.key(step, key)
        folder = self.cache.folder(step, key, outcome.spec.title)
        future = self.cache.options(_TASK_OF[step], folder, prefect_key).submit(prefect_key, folder, *args)
        outcome.chain[step] = (future, folder)
        return future

    def _details(self, step: str, value: Any, rows: int) -> tuple[int | None, str | None]:
        if step == "fit":
            manifest = json.loads((Path(value) / MANIFEST_FILE).read_text())
            return None, manifest.get("device")
        if step == "sample":
            return rows, None
        return None, None

    def _record(
        self,
        step: str,
        title: str | None,
        seconds: float,
        cached: bool,
        rows: int | None = None,
        device: str | None = None,
    ) -> None:
        if cached:
            self.cached.append(step if title is None else f"{step}[{title}]")
        fields = {
            "step": step,
            "contender": title,
            "seconds": seconds,
            "cached": cached,
            "rows": rows,
            "device": device,
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        text = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in fields.items())
        log.info(text, extra={"synthwright": fields})


_TASK_OF = {"fit": tasks.fit, "sample": tasks.sample, "evaluate": tasks.evaluate}
_RESULT_OF = {"fit": "model_dir", "sample": "synthetic", "evaluate": "evaluated"}


def _exception_of(future: PrefectFuture) -> BaseException:
    try:
        future.result()
    except BaseException as error:  # noqa: BLE001 — the contender's error, recorded not raised
        return error
    return RuntimeError(f"{future.state.name}: {future.state.message}")


def _reject_all(spec: PipelineSpec, decision: Decision, outcomes: dict[str, _Outcome]) -> None:
    """Nothing passed: record why (every contender's report), post it, end the run failed."""
    evaluated = {t: o.evaluated for t, o in outcomes.items() if o.evaluated is not None}
    best = next((c for c in decision.ranked if c.scorecard is not None), None)
    details: dict[str, Any] = {"scorecard": best.scorecard.to_dict() if best and best.scorecard else None}
    if spec.is_tournament:
        details["tournament"] = decision.to_dict()
    folder = tasks.reject(spec, "gates", details, evaluated)
    if spec.is_tournament:
        message = f"{spec.dataset}: {decision.reason}; nothing was published"
        decided, report = f"rejected: {decision.reason}", folder / "rejection.json"
    else:
        failed = ", ".join(m.name for m in best.scorecard.failures) if best and best.scorecard else "?"
        message = f"{spec.dataset}: the synthetic data failed the gate(s) {failed}; nothing was published"
        decided, report = f"rejected: failed {failed}; nothing published", folder / "report.html"
    if best is not None and best.scorecard is not None:
        post_decision(spec.dataset, best.scorecard, decided, report)
    raise GateFailedError(
        message,
        best.scorecard if best else None,
        report_dir=folder,
        hint=f"read the report(s) in {folder}; tune the generator(s) or, if justified, the gates in the spec",
        tournament=decision.to_dict() if spec.is_tournament else None,
    )


def run_pipeline(spec: PipelineSpec) -> dict[str, Any]:
    """Run the flow (embedded Prefect unless PREFECT_API_URL points at a server)."""
    if PREFECT_API_URL.value() is None and spec.approval == "required":
        raise ConfigError(
            f"{spec.dataset}: approval: required needs a Prefect server (the run pauses until someone "
            "approves it from another process, which the embedded mode cannot offer)",
            hint="start `prefect server start --host 127.0.0.1`, export PREFECT_API_URL="
            "http://127.0.0.1:4200/api, and run again; or set approval: none",
        )
    preflight(spec)  # a missing file or a bad target costs no server start
    check_generators(spec)
    return run_in_prefect(lambda: _with_runner(synthesize, spec)(spec))


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


def _with_runner(chosen: Any, spec: PipelineSpec) -> Any:
    """The flow with the spec's task runner: Prefect's thread pool, or a local Dask cluster."""
    if spec.runner.kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner  # noqa: PLC0415 — an optional extra
        except ImportError as error:
            from synthwright.errors import MissingDependencyError

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
