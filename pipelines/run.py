"""The whole pipeline as plain functions: `run(spec)` publishes a synthetic version of a table.

    preflight (before anything starts: files, contract, generator configs)
    → ingest → validate input (the input gate) → split → [plan]
    → per contender: fit → sample → evaluate          (a tournament when the spec lists several)
    → gate: the best contender that passes every gate (synthwright.pipelines.gate)
    → [approval] → publish, or record the rejection and raise

`run_job` holds this graph, once. A `Job` supplies the steps that differ: `Synthesis` here, the
augmentation in synthwright.pipelines.augment_steps. A `Runner` says how each step is called:
`LocalRunner` (the default) in this process, one step after the other, with no Prefect and no cache;
synthwright.flows' PrefectRunner as Prefect tasks, which adds the cache, retries, concurrency, the
UI's artifacts and the approval pause.
"""

from __future__ import annotations

import logging
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from synthwright.data_contracts.model import Contract
from synthwright.errors import ConfigError, ContractViolationError
from synthwright.generators.record import ModelRecord
from synthwright.limits import check_sample_memory
from synthwright.pipelines import gate, steps
from synthwright.pipelines.cache_keys import RunKeys
from synthwright.pipelines.gate import Answer, Decision, Scored, Standing
from synthwright.pipelines.spec import PipelineSpec
from synthwright.pipelines.steps import Contender, Ingested, Preflight, Published, Split
from synthwright.pipelines.workspace import open_work_folder
from synthwright.validators.gates import Scorecard

log = logging.getLogger("synthwright.run")


# ---- steps and runners -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One call in the graph: `function(*args)`, plus a fresh folder as the last argument when the step
    `writes` files. In a contender's chain (fit → sample → evaluate) each step after the first gets the
    previous step's result as its first argument."""

    name: str
    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    key: str | None = None
    """The step's cache key (synthwright.pipelines.cache_keys); None: never reused from a cache."""
    writes: bool = True
    idempotent: bool = True
    """Safe to repeat after a transient I/O error; publish is not (a retry could add a second version)."""
    title: str | None = None
    """The contender whose chain the step belongs to."""
    details: Callable[[Any], dict[str, Any]] | None = None
    """What the step's log line says of its result (rows, device)."""


@dataclass
class Chain:
    """One contender's way through its steps: each finished step's result, or the error that stopped it."""

    contender: Contender
    steps: list[Step]
    results: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass(frozen=True)
class Prepared:
    """What the shared steps before the contenders produced, for the job's own steps to build on."""

    spec: PipelineSpec
    ingested: Ingested
    split: Split
    planned: Any
    """The job's plan: the number of synthetic rows, or an augmentation's Plan."""
    keys: RunKeys | None
    """The run's cache keys, when its runner caches."""


class Runner(ABC):
    """How the graph's steps are called. Shared by every runner: the run's step log, one structured line
    per step (`step=fit contender=copula seconds=5.2 cached=false device=cpu`) and the timings and
    cached steps that the manifest records."""

    run_id: str | None = None
    """The orchestrator's id of this run (Prefect's flow run id); None in a plain process."""

    def prepare(self, work: Path) -> None:
        """Called once at the start of a run: `work` is its temporary folder."""
        self.work = work
        self.timings: dict[str, float] = {}
        self.cached: list[str] = []

    def keys(self, spec: PipelineSpec, contract: Contract | None) -> RunKeys | None:
        """The run's cache keys, for a runner that caches; None: every step runs."""
        return None

    @abstractmethod
    def call(self, step: Step, *previous: Any, tournament: bool = False) -> Any:
        """Run one step now and return its result (its error propagates); `previous` is the result of
        the step before it in a contender's chain."""

    @abstractmethod
    def contend(self, chains: list[Chain], *, tournament: bool) -> None:
        """Run every contender's chain, filling in its results, or its error (which is not raised)."""

    def run_in_order(self, chain: Chain, *, tournament: bool) -> None:
        """One contender's steps, one after the other in this thread; its error is its standing."""
        previous: tuple[Any, ...] = ()
        try:
            for step in chain.steps:
                chain.results[step.name] = self.call(step, *previous, tournament=tournament)
                previous = (chain.results[step.name],)
        except Exception as error:  # noqa: BLE001 — the contender's error, recorded not raised
            chain.error = error

    def check_approval(self, spec: PipelineSpec) -> None:
        """Before the run starts: `approval: required` needs someone who can answer."""
        if spec.approval == "required":
            raise ConfigError(
                f"{spec.dataset}: approval: required, but this runner has no way to ask a reviewer",
                hint="run it through Prefect (`synthwright run` with a Prefect server), give "
                "LocalRunner(approver=...), or set approval: none",
            )

    def approve(self, spec: PipelineSpec, scored: Scored, decision: str) -> Answer:
        """Ask a reviewer whether to publish the winner; the answer (a timeout is a refusal)."""
        raise NotImplementedError

    def announce(self, dataset: str, scorecard: Scorecard, decided: str, report: Path) -> None:
        """Show what was decided and why where people look (Prefect's artifacts); here, nothing."""
        return None

    def announce_tournament(self, dataset: str, decision: Decision) -> None:
        """Show a tournament's table where people look; here, nothing."""
        return None

    def label(self, step: Step, tournament: bool) -> str:
        """How the step log and timings name a step: `fit`, or `fit[copula]` in a tournament."""
        return f"{step.name}[{step.title}]" if tournament and step.title else step.name

    def record(
        self, step: Step, result: Any, seconds: float, cached: bool, *, tournament: bool = False
    ) -> None:
        label = self.label(step, tournament)
        self.timings[label] = seconds
        if cached:
            self.cached.append(label)
        fields = {
            "step": step.name,
            "contender": step.title if tournament else None,
            "seconds": seconds,
            "cached": cached,
            **(step.details(result) if step.details else {}),
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        text = " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in fields.items())
        log.info(text, extra={"synthwright": fields})


class LocalRunner(Runner):
    """Every step in this process, in order: no Prefect, no cache. A contender's error in a tournament
    becomes its standing, as under Prefect. `approver` answers `approval: required` (e.g. a function
    that asks at a terminal, or a policy)."""

    def __init__(self, approver: Callable[[PipelineSpec, Scored, str], Answer] | None = None):
        self.approver = approver

    def call(self, step: Step, *previous: Any, tournament: bool = False) -> Any:
        arguments = [*previous, *step.args]
        if step.writes:
            folder = self.work / step.name / (step.title or "")
            folder.mkdir(parents=True, exist_ok=True)
            arguments.append(folder)
        started = time.perf_counter()
        result = step.function(*arguments)
        self.record(step, result, round(time.perf_counter() - started, 3), False, tournament=tournament)
        return result

    def contend(self, chains: list[Chain], *, tournament: bool) -> None:
        for chain in chains:
            self.run_in_order(chain, tournament=tournament)

    def check_approval(self, spec: PipelineSpec) -> None:
        if self.approver is None:
            super().check_approval(spec)

    def approve(self, spec: PipelineSpec, scored: Scored, decision: str) -> Answer:
        assert self.approver is not None  # check_approval made sure
        return self.approver(spec, scored, decision)


# ---- jobs ------------------------------------------------------------------------------------------


class Job(ABC):
    """What a run makes: the steps the graph leaves to it (sample, evaluate, publish, an optional plan)."""

    kind: ClassVar[str]
    """The flow's name in Prefect: synthesize or augment."""
    gate_hint: ClassVar[str]
    """The fix line of a gate rejection; `{folder}` is where the rejection was recorded."""

    _checked: Preflight | None = None

    @property
    @abstractmethod
    def dataset(self) -> str: ...

    @property
    def run_name(self) -> str:
        return self.dataset

    def preflight(self) -> Preflight:
        """Checks and loads that cost no fit (and no server start); done once, whoever asks first."""
        if self._checked is None:
            self._checked = self._preflight()
        return self._checked

    @abstractmethod
    def _preflight(self) -> Preflight: ...

    @abstractmethod
    def start(self, runner: Runner) -> tuple[PipelineSpec, Contract | None]:
        """The pipeline spec of the shared steps, and the contract to read the source with (None: infer)."""

    def plan(self, runner: Runner, spec: PipelineSpec, ingested: Ingested, split: Split) -> Any:
        """What to sample, decided before any fit (the synthetic rows' number, or an augmentation plan)."""
        return spec.sample.rows or split.train_rows

    @abstractmethod
    def scoring(self, contender: Contender, prepared: Prepared) -> list[Step]:
        """The steps after a contender's fit: sample (from the fitted model) and evaluate (the sample)."""

    @abstractmethod
    def publish(self, winner: Chain, prepared: Prepared, run: dict[str, Any]) -> Step:
        """The step that commits the winner's rows as the next version; `run` goes into its manifest."""

    def sample_rows(self, planned: Any) -> int:
        """How many rows the plan samples (checked against the machine's memory before any fit)."""
        return int(planned)

    def rejection_details(self) -> dict[str, Any]:
        """What a gate rejection's record holds besides the scorecard (an augmentation's request)."""
        return {}

    def result_details(self, planned: Any) -> dict[str, Any]:
        """What the run's result says besides the version (an augmentation's plan)."""
        return {}


class Synthesis(Job):
    """A pipeline spec: synthetic rows, as many as the spec asks (or as trained on), published alone."""

    kind = "synthesize"
    gate_hint = (
        "read the report(s) in {folder}; tune the generator(s) or, if justified, the gates in the spec"
    )

    def __init__(self, spec: PipelineSpec):
        self.spec = spec

    @property
    def dataset(self) -> str:
        return self.spec.dataset

    @property
    def run_name(self) -> str:
        return f"{self.spec.dataset}-seed{self.spec.seed}"

    def _preflight(self) -> Preflight:
        return steps.preflight(self.spec)

    def start(self, runner: Runner) -> tuple[PipelineSpec, Contract | None]:
        return self.spec, self.preflight().contract

    def scoring(self, contender: Contender, prepared: Prepared) -> list[Step]:
        spec, ingested, keys = prepared.spec, prepared.ingested, prepared.keys
        title, rows = contender.title, prepared.planned
        details = {"generator": title, "source": ingested.source}
        return [
            Step(
                "sample",
                steps.sample_step,
                (rows, spec.seed),
                key=keys and keys.sample[title],
                title=title,
                details=lambda _: {"rows": rows},
            ),
            Step(
                "evaluate",
                steps.evaluate_step,
                (spec, prepared.split, ingested.contract, details),
                key=keys and keys.evaluate[title],
                title=title,
            ),
        ]

    def publish(self, winner: Chain, prepared: Prepared, run: dict[str, Any]) -> Step:
        model_dir, synthetic, scored = (winner.results[s] for s in ("fit", "sample", "evaluate"))
        return Step(
            "publish",
            steps.publish_step,
            (prepared.spec, prepared.ingested, prepared.split, model_dir, synthetic, scored, run),
            writes=False,
            idempotent=False,
            details=lambda published: {"rows": published.rows},
        )


# ---- the graph ---------------------------------------------------------------------------------------


class RunResult(BaseModel):
    """What a run published, with its scorecard and how the run went."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    version: str
    version_dir: Path
    rows: int
    report: Path
    scorecard: Scorecard
    run: dict[str, Any]
    """As the manifest records it: the flow run id, cached steps, timings (publish's too), a
    tournament's table, the approval."""
    real_rows: int | None = None
    synthetic_rows: int | None = None
    plan: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        return "published"

    def to_dict(self) -> dict[str, Any]:
        """One JSON-able object, what `synthwright run --json` prints."""
        published = {"dataset": self.dataset, "version": self.version, "version_dir": str(self.version_dir)}
        counts = {"rows": self.rows, "real_rows": self.real_rows, "synthetic_rows": self.synthetic_rows}
        extra = {"plan": self.plan} if self.plan is not None else {}
        return {
            "status": self.status,
            **published,
            **{k: v for k, v in counts.items() if v is not None},
            "report": str(self.report),
            "scorecard": self.scorecard.to_dict(),
            **extra,
            **self.run,
        }


def run(spec: PipelineSpec, *, runner: Runner | None = None) -> RunResult:
    """Run a pipeline spec end to end: publish the best contender that passes every gate, or raise
    (GateFailedError, ContractViolationError, ApprovalRejectedError: exit 1) after recording why.

    Plain Python by default (no Prefect, no cache); `synthwright run` passes Prefect's runner."""
    return run_job(Synthesis(spec), runner or LocalRunner())


def run_job(job: Job, runner: Runner) -> RunResult:
    """The graph, for any job and runner (see the module's docstring)."""
    checked = job.preflight()
    work = open_work_folder(checked.work_root, job.kind)
    try:
        runner.prepare(work)
        spec, contract = job.start(runner)
        runner.check_approval(spec)
        keys = runner.keys(spec, contract)
        ingested = runner.call(
            Step("ingest", steps.ingest_step, (spec, contract), keys and keys.ingest, details=_rows)
        )
        try:
            runner.call(
                Step("validate_input", steps.validate_input_step, (ingested,), keys and keys.ingest, False)
            )
        except ContractViolationError as error:
            details = {"violations": error.report.to_dict()}
            error.report_dir = runner.call(_rejection_step(spec, "input_contract", details))
            raise
        split = runner.call(
            Step("split", steps.split_step, (spec, ingested), keys and keys.split, details=_train_rows)
        )
        prepared = Prepared(spec, ingested, split, job.plan(runner, spec, ingested, split), keys)
        check_sample_memory(
            job.sample_rows(prepared.planned),
            [column.kind.value for column in ingested.contract.columns],
            f"{spec.dataset}: the synthetic rows",
        )
        chains = [
            Chain(
                contender,
                [
                    _fit(contender, prepared),
                    *job.scoring(contender, prepared),
                ],
            )
            for contender in checked.contenders
        ]
        runner.contend(chains, tournament=spec.is_tournament)
        if not spec.is_tournament and chains[0].error is not None:
            raise chains[0].error  # one generator: its error is the run's error (exit code and all)
        decision = gate.decide([_standing(chain) for chain in chains])
        record: dict[str, Any] = {"cached_steps": runner.cached, "timings": runner.timings}
        if runner.run_id is not None:
            record = {"flow_run_id": runner.run_id, **record}
        if spec.is_tournament:
            record["tournament"] = decision.to_dict()
            runner.announce_tournament(spec.dataset, decision)
        if decision.winner is None:
            raise _rejected(job, runner, spec, decision, chains)
        winner = next(chain for chain in chains if chain.contender.title == decision.winner.title)
        scored: Scored = winner.results["evaluate"]
        if spec.approval == "required":
            record["approval"] = _approval(runner, spec, scored, decision)
        published: Published = runner.call(job.publish(winner, prepared, record))
        decided = f"published {published.version} ({published.version_dir})"
        if spec.is_tournament:
            decided += f"; {decision.reason}"
        report = published.version_dir / steps.REPORT_FILE
        runner.announce(spec.dataset, scored.scorecard, decided, report)
        return RunResult(
            **published.model_dump(exclude={"real_rows", "synthetic_rows"}),
            real_rows=published.real_rows,
            synthetic_rows=published.synthetic_rows,
            report=report,
            scorecard=scored.scorecard,
            run=record,
            **job.result_details(prepared.planned),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _rows(ingested: Ingested) -> dict[str, Any]:
    return {"rows": ingested.rows}


def _train_rows(split: Split) -> dict[str, Any]:
    return {"rows": split.train_rows}


def _fit(contender: Contender, prepared: Prepared) -> Step:
    keys = prepared.keys
    return Step(
        "fit",
        steps.fit_step,
        (
            contender,
            prepared.spec.seed,
            prepared.split,
            prepared.ingested.contract,
            prepared.spec.rare_values,
        ),
        key=keys and keys.fit[contender.title],
        title=contender.title,
        details=lambda model_dir: {"device": ModelRecord.read(model_dir).device},
    )


def _standing(chain: Chain) -> Standing:
    scored = chain.results.get("evaluate")
    error = chain.error
    message = None if error is None else getattr(error, "message", None) or repr(error)
    return Standing(
        chain.contender.title, chain.contender.name, scored.scorecard if scored else None, message
    )


def _rejection_step(
    spec: PipelineSpec, stage: str, details: dict[str, Any], scored: dict[str, Scored] | None = None
) -> Step:
    return Step(
        "reject", gate.record_rejection, (spec, stage, details, scored), writes=False, idempotent=False
    )


def _rejected(
    job: Job, runner: Runner, spec: PipelineSpec, decision: Decision, chains: list[Chain]
) -> Exception:
    """Nothing passed: record why (every contender's report), say it, and return the run's error."""
    rejection = gate.gate_rejection(spec, decision, **job.rejection_details())
    scored = {c.contender.title: c.results["evaluate"] for c in chains if "evaluate" in c.results}
    folder = runner.call(_rejection_step(spec, "gates", rejection.details, scored))
    best = decision.best
    if best is not None and best.scorecard is not None:
        runner.announce(spec.dataset, best.scorecard, rejection.decided, rejection.report(folder))
    hint = job.gate_hint.format(folder=folder)
    if rejection.scorecard is not None:
        hint += gate.stronger_generator_hint(rejection.scorecard, [c.name for c in spec.contenders])
    return rejection.error(folder, hint)


def _approval(runner: Runner, spec: PipelineSpec, scored: Scored, decision: Decision) -> dict[str, Any]:
    """Ask the reviewer; the approval's record, or the rejection recorded and raised."""
    answer = runner.approve(spec, scored, decision.reason)
    record = answer.record()
    if answer.approved:
        log.info(
            "approved by %s%s", answer.reviewer or "someone", f": {answer.reason}" if answer.reason else ""
        )
        return record
    details = {"approval": record, "scorecard": scored.scorecard.to_dict()}
    folder = runner.call(_rejection_step(spec, "approval", details, {"winner": scored}))
    who = answer.reviewer or "a reviewer"
    runner.announce(spec.dataset, scored.scorecard, f"rejected by {who}: {answer.reason}", scored.report_path)
    raise gate.approval_refused(spec, answer, folder)
