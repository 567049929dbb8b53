"""The Prefect runner: the pipeline's graph (synthwright.pipelines.run) with each step a Prefect task.

What it adds to the plain graph, and nothing else:
- **Tasks:** each step runs as a Prefect task named after it, retried on transient I/O errors
  (synthwright.flows.tasks); a tournament's contenders run at once on the flow's task runner (threads,
  or a local Dask cluster with `runner.kind: dask`).
- **Caching:** every step with a key is reused across runs (synthwright.flows.caching); an unchanged
  spec re-runs in seconds and publishes the same bytes.
- **Approval:** `approval: required` pauses before publish until a person answers
  (synthwright.flows.approval).
- **Artifacts:** the scorecard (table), the report (link) and a tournament's table, so the Prefect UI
  shows what was decided and why (synthwright.flows.artifacts).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import runtime
from prefect.futures import PrefectFuture, wait
from prefect.settings import PREFECT_API_URL

from synthwright.data_contracts.model import Contract
from synthwright.errors import ConfigError
from synthwright.flows import tasks
from synthwright.flows.artifacts import post_decision, post_tournament
from synthwright.flows.caching import StepCache
from synthwright.pipelines.cache_keys import RunKeys, cache_root, run_keys
from synthwright.pipelines.gate import Answer, Decision, Scored
from synthwright.pipelines.run import Chain, Runner, Step
from synthwright.pipelines.spec import PipelineSpec
from synthwright.validators.gates import Scorecard

SERVER_HINT = (
    "start `prefect server start --host 127.0.0.1`, export PREFECT_API_URL=http://127.0.0.1:4200/api, "
    "and run again"
)


class PrefectRunner(Runner):
    """Runs inside a flow: steps as tasks, cached by their keys, posted to the UI."""

    def prepare(self, work: Path) -> None:
        super().prepare(work)
        self.run_id = str(runtime.flow_run.id)
        self.cache = StepCache(None, work)  # until the spec's cache folder is known (`keys`)

    def keys(self, spec: PipelineSpec, contract: Contract | None) -> RunKeys | None:
        root = cache_root(spec) if spec.cache.enabled else None
        self.cache = StepCache(root, self.work)
        return run_keys(spec, root, contract) if root is not None else None

    def call(self, step: Step, *previous: Any, tournament: bool = False) -> Any:
        """The step as a task run in the flow's own thread."""
        key = self.cache.key(step.name, step.key)
        folder = self._folder(step) if step.writes else None
        task = self.cache.options(tasks.task_for(step), folder, key)
        arguments = (key,) if folder is None else (key, folder)
        started = time.perf_counter()
        state = task(*arguments, *previous, *step.args, return_state=True)
        seconds = round(time.perf_counter() - started, 3)
        result = state.result()  # raises the step's error
        self.record(step, result, seconds, state.name == "Cached", tournament=tournament)
        return result

    def contend(self, chains: list[Chain], *, tournament: bool) -> None:
        """A tournament's contenders at once, on the flow's task runner: each contender's steps are
        submitted as tasks, each after the one before. One contender runs in the flow's own thread: it
        gains nothing from the pool, and the evaluation's models ran ~20 % slower in a worker thread."""
        if not tournament:
            for chain in chains:
                self.run_in_order(chain, tournament=False)
            return
        submitted: list[tuple[Chain, Step, PrefectFuture, Path]] = []
        for chain in chains:
            previous: tuple[Any, ...] = ()
            for step in chain.steps:
                key, folder = self.cache.key(step.name, step.key), self._folder(step)
                future = self.cache.options(tasks.task_for(step), folder, key).submit(
                    key, folder, *previous, *step.args
                )
                submitted.append((chain, step, future, folder))
                previous = (future,)
        wait([future for _, _, future, _ in submitted])
        for chain, step, future, folder in submitted:
            state = future.state
            if not state.is_completed():
                if chain.error is None and state.is_failed():
                    chain.error = _exception_of(future)
                continue
            cached = state.name == "Cached"
            result = future.result()
            chain.results[step.name] = result
            seconds = 0.0 if cached else tasks.run_seconds(folder)
            self.record(step, result, seconds, cached, tournament=tournament)

    def _folder(self, step: Step) -> Path:
        return self.cache.folder(step.name, step.key, step.title)

    def check_approval(self, spec: PipelineSpec) -> None:
        if spec.approval == "required" and PREFECT_API_URL.value() is None:
            raise ConfigError(
                f"{spec.dataset}: approval: required needs a Prefect server (the run pauses until someone "
                "approves it from another process, which the embedded mode cannot offer)",
                hint=f"{SERVER_HINT}; or set approval: none",
            )

    def approve(self, spec: PipelineSpec, scored: Scored, decision: str) -> Answer:
        from synthwright.flows.approval import ask_for_approval  # noqa: PLC0415 — approval runs only

        return ask_for_approval(spec, scored, decision)

    def announce(self, dataset: str, scorecard: Scorecard, decided: str, report: Path) -> None:
        post_decision(dataset, scorecard, decided, report)

    def announce_tournament(self, dataset: str, decision: Decision) -> None:
        post_tournament(dataset, decision)


def _exception_of(future: PrefectFuture) -> BaseException:
    try:
        future.result()
    except BaseException as error:  # noqa: BLE001 — the contender's error, recorded not raised
        return error
    return RuntimeError(f"{future.state.name}: {future.state.message}")
