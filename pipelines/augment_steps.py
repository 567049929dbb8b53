"""Augmentation: the pipeline's graph (synthwright.pipelines.run) with an ML team's request plugged in.

    resolve source → ingest → validate input → split → plan → fit → sample (conditioned)
    → evaluate (+ utility lift) → publish real + synthetic

Ingest, the input gate, split and fit are the pipeline's own steps with the same cache keys, so
augmenting a dataset that a pipeline already synthesised reuses its fitted model. The plan runs before
the fit, so a request that cannot be met costs no training. Like synthwright.pipelines.steps, each step
reads files, writes files and returns a small record; `Augmentation` is the job that plugs them into
the graph, and `augment(request)` runs it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthwright import code_version
from synthwright.data_contracts.io import contract_from_dict, load_contract
from synthwright.data_contracts.model import Column, ColumnKind, Contract, RowBounds
from synthwright.errors import ConfigError, SourceError
from synthwright.files import file_sha256
from synthwright.generators.base import Generator
from synthwright.generators.columns import ColumnPlan
from synthwright.generators.registry import generator_class
from synthwright.pipelines.augment_plan import Plan, matches, plan_augmentation
from synthwright.pipelines.augment_request import AugmentRequest
from synthwright.pipelines.cache_keys import cache_root
from synthwright.pipelines.frames import read_frame, write_frame
from synthwright.pipelines.gate import Scored
from synthwright.pipelines.pii import publishable
from synthwright.pipelines.run import Chain, Job, LocalRunner, Prepared, Runner, RunResult, Step, run_job
from synthwright.pipelines.spec import PipelineSpec
from synthwright.pipelines.steps import (
    REPORT_FILE,
    Contender,
    Ingested,
    Preflight,
    Published,
    Split,
    manifest_fields,
)
from synthwright.pipelines.store import MANIFEST, OUTPUT_ROOT_HINT, Store
from synthwright.pipelines.workspace import require_writable_folder
from synthwright.validators.contract import validate_contract
from synthwright.validators.evaluate import evaluate
from synthwright.validators.gates import Scorecard, augmented_contract_metrics, lift_metrics, relaxed_gates
from synthwright.validators.lift import utility_lift
from synthwright.validators.report import write_report

log = logging.getLogger("synthwright.augment")
LIFT_KINDS = (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.INTEGER, ColumnKind.FLOAT)


def preflight(request: AugmentRequest) -> Preflight:
    """Before anything starts: the source file is there, the contract reads, the generator's config is
    valid (a published version is resolved, and its checksums verified, by the run's first step)."""
    path = request.source.path
    if path is not None and not path.is_file():
        raise SourceError(
            f"source.path: data file not found: {path}", hint="check the path (or --source FILE)"
        )
    contract = load_contract(request.contract) if request.contract is not None else None
    contender = Contender.of(request.generator)
    contender.generator(request.seed).device_used()
    require_writable_folder(request.output.root, "the output root", OUTPUT_ROOT_HINT)
    return Preflight(contract, [contender], cache_root(request.cache))


def resolve_source(request: AugmentRequest, work: Path) -> tuple[Path, Contract]:
    """A published version (`source.version`) as one Parquet file, and its manifest's contract.

    The version's files are checked against its manifest's sha256s first: augmenting a damaged or
    edited version would publish the damage under a new name."""
    assert request.source.version is not None
    dataset, _, wanted = request.source.version.partition("@")
    root = request.source.root or request.output.root
    number = _version_number(wanted, request.source.version)
    version = Store(root).version(dataset, number)
    files = version.manifest.get("files") or []
    if not files:
        raise SourceError(f"{version.path}/{MANIFEST} lists no data files", hint="publish the version again")
    for entry in files:
        path = version.path / entry["name"]
        if not path.is_file() or file_sha256(path) != entry["sha256"]:
            raise SourceError(
                f"{path} is missing or does not match its manifest's sha256",
                hint=f"run `synthwright check --version {dataset}@{version.name} --root {root}`, "
                "then restore the version or augment another one",
            )
    contract = contract_from_dict(version.manifest["contract"]["definition"], str(version.path))
    if len(files) == 1:
        return version.path / files[0]["name"], contract
    table = pa.concat_tables([pq.read_table(version.path / entry["name"]) for entry in files])
    pq.write_table(table, work / "source.parquet")
    return work / "source.parquet", contract


def _version_number(wanted: str, text: str) -> int | None:
    if wanted in ("", "latest"):
        return None
    if len(wanted) > 1 and wanted[0] == "v" and wanted[1:].isdigit():
        return int(wanted[1:])
    raise ConfigError(
        f"source.version {text!r} is not DATASET@vN", hint="e.g. adult@v3, adult@v000003 or adult@latest"
    )


def plan_step(request: AugmentRequest, ingested: Ingested, split: Split) -> Plan:
    """The synthetic rows to make, checked against the contract and the gates before any fit."""
    contract = ingested.contract
    real = read_frame(ingested.data_path, contract)
    train = read_frame(split.train_path, contract)
    klass = generator_class(request.generator.name)
    plan = plan_augmentation(
        request,
        contract,
        real,
        train,
        supports_conditions=klass.supports_conditions,
        derived={gap.right for gap in ColumnPlan.fit(contract, train).gaps},
    )
    if request.target is not None and contract.column(request.target).kind not in LIFT_KINDS:
        kind = contract.column(request.target).kind.value
        raise ConfigError(
            f"target {request.target!r} is {kind}: the utility lift needs a class label or a number",
            hint="name the column models predict (categorical, boolean, integer or float)",
        )
    for group in plan.groups:
        log.info("plan: %s synthetic rows with %s", f"{group.rows:,}", group.label)
    return plan


def sample_step(model_dir: Path, plan: Plan, seed: int, work: Path) -> Path:
    """The plan's synthetic rows, group after group, through the generator's own conditional sampling."""
    started = time.perf_counter()
    generator = Generator.load(model_dir, trust_pickle=True)  # the pipeline's own fit
    frame = generator.sample(plan.synthetic_rows, conditions=plan.conditions_frame(), seed=seed)
    path = write_frame(frame, generator.contract_, work / "synthetic.parquet")
    log.info("sampled %s rows in %.1fs", f"{len(frame):,}", time.perf_counter() - started)
    return path


def augmented_table(
    real: pd.DataFrame, synthetic: pd.DataFrame, contract: Contract, column: str
) -> tuple[pd.DataFrame, Contract]:
    """Real rows, then synthetic rows, with a boolean `column` saying which is which.

    Integer identifiers of synthetic rows start after the largest real one (the generator numbers
    them from 1), so keys stay unique in the combined table."""
    synthetic = synthetic.copy()
    for spec in contract.columns:
        if spec.kind is ColumnKind.IDENTIFIER and spec.id_type == "integer" and real[spec.name].notna().any():
            synthetic[spec.name] = synthetic[spec.name] + int(real[spec.name].max())
    frame = pd.concat([real.assign(**{column: False}), synthetic.assign(**{column: True})], ignore_index=True)
    frame[column] = frame[column].astype("boolean")
    marker = Column(name=column, kind=ColumnKind.BOOLEAN, description="true for rows made by the generator")
    augmented = contract.model_copy(
        update={"columns": [*contract.columns, marker], "rows": RowBounds(min=contract.rows.min)}
    )
    return frame, Contract.model_validate(augmented.model_dump())


def evaluate_step(
    synthetic_path: Path,
    request: AugmentRequest,
    spec: PipelineSpec,
    ingested: Ingested,
    split: Split,
    plan: Plan,
    work: Path,
) -> Scored:
    """Score the synthetic rows against the real rows that meet the same conditions, measure the
    utility lift, check the combined table against its contract, apply the gates, write the report."""
    started = time.perf_counter()
    contract = ingested.contract
    train = read_frame(split.train_path, contract)
    holdout = read_frame(split.holdout_path, contract)
    synthetic = read_frame(synthetic_path, contract)
    reference_train, reference_holdout = (_like(frame, plan) for frame in (train, holdout))
    evaluation = evaluate(
        reference_train,
        reference_holdout,
        synthetic,
        contract,
        gates=spec.gates,
        seed=spec.seed,
        rare_values=spec.rare_values,
        whole=(train, holdout),
    )
    lift = None
    if request.target is not None:
        measured = pd.concat([synthetic.iloc[a:b] for a, b in plan.measured_rows()], ignore_index=True)
        lift = utility_lift(train, holdout, measured, contract, request.target, seed=spec.seed)
    real = read_frame(ingested.data_path, contract)
    table, table_contract = augmented_table(real, synthetic, contract, request.synthetic_column)
    combined = validate_contract(table, table_contract, source="the augmented table")
    metrics = [
        *evaluation.scorecard.metrics,
        *lift_metrics(request.gates, lift),
        *augmented_contract_metrics(request.gates, combined),
    ]
    evaluation = dataclasses.replace(
        evaluation, scorecard=Scorecard(metrics=metrics, relaxed=relaxed_gates(request.gates)), lift=lift
    )
    record = {
        **evaluation.to_dict(),
        "reference_rows": {"train": len(reference_train), "holdout": len(reference_holdout)},
        "utility_lift": lift.to_dict() if lift else None,
        "augmented_contract": combined.to_dict(),
        "plan": plan.to_dict(),
    }
    evaluation_path = work / "evaluation.json"
    evaluation_path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    report_path = write_report(
        work / REPORT_FILE,
        evaluation,
        reference_train,
        synthetic,
        contract,
        title=f"{request.dataset}: augmentation report",
        details={
            "dataset": request.dataset,
            "request": _describe(request, plan),
            "generator": request.generator.title,
            "source": ingested.source,
            "seed": str(request.seed),
            "code version": code_version(),
        },
    )
    log.info("evaluated in %.1fs: %s", time.perf_counter() - started, "; ".join(evaluation.scorecard.lines()))
    return Scored(scorecard=evaluation.scorecard, evaluation_path=evaluation_path, report_path=report_path)


def _like(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Real rows meeting the conditions of any group (all rows when a group is unconditioned)."""
    mask = pd.Series(False, index=frame.index)
    for group in plan.groups:
        mask |= matches(frame, group.conditions)
    return frame[mask]


def _describe(request: AugmentRequest, plan: Plan) -> str:
    groups = "; ".join(f"{g.rows:,} × {g.label}" for g in plan.groups)
    return f"{request.form}: {groups} added to {plan.real_rows:,} real rows"


def publish_step(
    request: AugmentRequest,
    spec: PipelineSpec,
    ingested: Ingested,
    split: Split,
    model_dir: Path,
    synthetic_path: Path,
    scored: Scored,
    plan: Plan,
    run: dict[str, Any],
) -> Published:
    """Commit every real row plus the synthetic ones as the next version, with the request in the manifest."""
    contract = ingested.contract
    real = read_frame(ingested.data_path, contract)
    synthetic = read_frame(synthetic_path, contract)
    table, table_contract = publishable(
        *augmented_table(real, synthetic, contract, request.synthetic_column), seed=spec.seed, refake=True
    )
    manifest = manifest_fields(spec, ingested, split, model_dir, scored, table_contract, run)
    manifest["kind"] = "augmented"
    manifest["request"] = request.model_dump(mode="json")
    manifest["augmentation"] = {
        "synthetic_column": request.synthetic_column,
        "real_rows": len(real),
        "synthetic_rows": len(synthetic),
        **_shares(request, table),
        "plan": plan.to_dict(),
    }
    version = Store(spec.output.root).publish(
        spec.dataset, table, table_contract, manifest, attachments={REPORT_FILE: scored.report_path}
    )
    log.info(
        "published %s %s (%s real + %s synthetic rows) at %s",
        spec.dataset,
        version.name,
        f"{len(real):,}",
        f"{len(synthetic):,}",
        version.path,
    )
    return Published(
        dataset=spec.dataset,
        version=version.name,
        version_dir=version.path,
        rows=len(table),
        real_rows=len(real),
        synthetic_rows=len(synthetic),
    )


def _shares(request: AugmentRequest, table: pd.DataFrame) -> dict[str, Any]:
    """The target's class shares before and after, for the manifest (what a rebalance asked for)."""
    column = next(iter(request.rebalance)) if request.rebalance else request.target
    if column is None or column not in table.columns:
        return {}
    real = table[~table[request.synthetic_column].astype(bool)]
    if real[column].nunique() > 50:
        return {}

    def shares(frame: pd.DataFrame) -> dict[str, float]:
        counts = frame[column].astype(object).map(str).value_counts(normalize=True)
        return {k: round(float(v), 4) for k, v in counts.sort_index().items()}

    return {"shares": {"column": column, "real": shares(real), "published": shares(table)}}


# ---- the job ------------------------------------------------------------------------------------------


class Augmentation(Job):
    """An augmentation request: the graph's shared steps, then this request's plan, conditioned sample,
    evaluation with the utility lift, and a published table of real plus synthetic rows."""

    kind = "augment"
    gate_hint = (
        "read the report in {folder}; ask for fewer rows, tune the generator or, if justified, "
        "the gates in the request"
    )

    def __init__(self, request: AugmentRequest):
        self.request = request

    @property
    def dataset(self) -> str:
        return self.request.dataset

    @property
    def run_name(self) -> str:
        return f"{self.request.dataset}-augment"

    def _preflight(self) -> Preflight:
        return preflight(self.request)

    def start(self, runner: Runner) -> tuple[PipelineSpec, Contract | None]:
        """A published version is resolved first (checked against its manifest) into a Parquet file."""
        if self.request.source.version is None:
            return self.request.pipeline_spec(), self.preflight().contract
        source, contract = runner.call(Step("resolve_source", resolve_source, (self.request,)))
        return self.request.pipeline_spec(source), contract

    def sample_rows(self, planned: Plan) -> int:
        return planned.synthetic_rows

    def plan(self, runner: Runner, spec: PipelineSpec, ingested: Ingested, split: Split) -> Plan:
        return runner.call(
            Step(
                "plan",
                plan_step,
                (self.request, ingested, split),
                writes=False,
                details=lambda plan: {"rows": plan.synthetic_rows},
            )
        )

    def scoring(self, contender: Contender, prepared: Prepared) -> list[Step]:
        """Sample and evaluate always run: they depend on the request, which the cache keys do not hold."""
        spec, plan, title = prepared.spec, prepared.planned, contender.title
        return [
            Step("sample", sample_step, (plan, spec.seed), title=title),
            Step(
                "evaluate",
                evaluate_step,
                (self.request, spec, prepared.ingested, prepared.split, plan),
                title=title,
            ),
        ]

    def publish(self, winner: Chain, prepared: Prepared, run: dict[str, Any]) -> Step:
        model_dir, synthetic, scored = (winner.results[s] for s in ("fit", "sample", "evaluate"))
        request, spec, ingested, split = self.request, prepared.spec, prepared.ingested, prepared.split
        return Step(
            "publish",
            publish_step,
            (request, spec, ingested, split, model_dir, synthetic, scored, prepared.planned, run),
            writes=False,
            idempotent=False,
            details=lambda published: {"rows": published.rows},
        )

    def rejection_details(self) -> dict[str, Any]:
        return {"request": self.request.model_dump(mode="json")}

    def result_details(self, planned: Plan) -> dict[str, Any]:
        return {"plan": planned.to_dict()}


def augment(request: AugmentRequest, *, runner: Runner | None = None) -> RunResult:
    """Run an augmentation request end to end: publish real plus synthetic rows, or raise after recording
    why not. Plain Python by default; `synthwright augment` passes Prefect's runner."""
    return run_job(Augmentation(request), runner or LocalRunner())
