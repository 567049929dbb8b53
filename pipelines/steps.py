"""The pipeline's steps as plain functions: each reads files, writes files, returns a small record.

    ingest → check input → split → fit → sample → evaluate → publish (or reject)

`flows/` wraps these as Prefect tasks; library users and tests call them directly. Steps pass file
paths (Parquet in a work folder), never DataFrames, so results stay small and cacheable.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sklearn.model_selection import train_test_split

from data_contracts.io import contract_fingerprint, contract_to_dict, load_contract, save_contract
from data_contracts.model import ColumnKind, Contract
from generators.base import MANIFEST_FILE, Generator
from generators.registry import create_generator
from pipelines.frames import read_frame, write_frame
from pipelines.ingest import builtin_path, ingest
from pipelines.pii import publishable
from pipelines.progress import ProgressLog
from pipelines.spec import GeneratorSpec, PipelineSpec
from pipelines.store import OUTPUT_ROOT_HINT, Store
from synthwright import code_version
from synthwright.errors import ConfigError, ContractViolationError, SourceError, UserInputError
from synthwright.files import make_folder
from validators.contract import ContractReport, ParseFailure, check_contract
from validators.evaluate import evaluate
from validators.gates import Scorecard
from validators.report import write_report

log = logging.getLogger("synthwright.pipeline")
REPORT_FILE = "report.html"


class Ingested(BaseModel):
    model_config = ConfigDict(frozen=True)

    data_path: Path
    contract_path: Path
    source: str
    source_sha256: str
    rows: int
    contract_inferred: bool
    parse_failures: list[dict[str, Any]] = []


class Evaluated(BaseModel):
    """The gate's verdict and where the full evaluation and its report were written."""

    model_config = ConfigDict(frozen=True)

    scorecard: Scorecard
    evaluation_path: Path
    report_path: Path


class Split(BaseModel):
    model_config = ConfigDict(frozen=True)

    train_path: Path
    holdout_path: Path
    train_rows: int
    holdout_rows: int
    stratified_by: str | None = None


def preflight(spec: PipelineSpec) -> None:
    """What a run can check before it starts (a flow, a server, a fit): the source file is there, the
    contract reads, and the target is one of its columns. Errors name the spec file."""
    where = f"{spec.spec_file}: " if spec.spec_file is not None else ""
    path = spec.source.path
    if path is not None and not path.is_file():
        raise SourceError(
            f"{where}source.path: data file not found: {path}",
            hint="check the path (relative paths start at the spec's folder)",
        )
    if spec.contract is not None:
        _check_target(spec, load_contract(spec.contract))


def ingest_step(spec: PipelineSpec, work: Path) -> Ingested:
    """Read the source into the contract's dtypes (inferring a contract when the spec gives none)."""
    started = time.perf_counter()
    source = spec.source
    path = builtin_path(source.builtin) if source.builtin else source.path
    contract = load_contract(spec.contract) if spec.contract else None
    result = ingest(path, source, contract)
    contract_path = spec.contract
    if contract_path is None:
        contract_path = work / "contract.yaml"
        save_contract(result.contract.model_copy(update={"dataset": spec.dataset}), contract_path)
        log.warning("no contract given: inferred one from the data (it is stored in the manifest)")
    _check_target(spec, result.contract)
    data_path = write_frame(result.frame, result.contract, work / "real.parquet")
    log.info(
        "ingested %s rows × %s columns from %s in %.1fs",
        f"{len(result.frame):,}",
        len(result.contract.columns),
        source.label,
        time.perf_counter() - started,
    )
    return Ingested(
        data_path=data_path,
        contract_path=contract_path,
        source=source.label,
        source_sha256=result.sha256,
        rows=len(result.frame),
        contract_inferred=result.contract_inferred,
        parse_failures=[asdict(f) for f in result.parse_failures],
    )


def _check_target(spec: PipelineSpec, contract: Contract) -> None:
    if spec.target is not None and spec.target not in contract.names:
        where = f"{spec.spec_file}: " if spec.spec_file is not None else ""
        raise ConfigError(
            f"{where}target column {spec.target!r} is not in the contract",
            hint=f"name one of its columns: {', '.join(contract.names)}",
        )


def check_input_step(ingested: Ingested) -> ContractReport:
    """The input gate: the real data must pass its own contract before anything is learned from it."""
    contract = load_contract(ingested.contract_path)
    frame = read_frame(ingested.data_path, contract)
    failures = [ParseFailure(**f) for f in ingested.parse_failures]
    report = check_contract(frame, contract, source=ingested.source, parse_failures=failures)
    if not report.passed:
        raise ContractViolationError(
            report.summary(),
            report,
            hint="fix the data, or the contract if it is too strict "
            "(`synthwright contract check` shows the same list)",
        )
    log.info("input passes all %d contract checks", len(report.results))
    return report


def split_step(spec: PipelineSpec, ingested: Ingested, work: Path) -> Split:
    """Seeded train/holdout split, stratified by a categorical or boolean target when possible."""
    contract = load_contract(ingested.contract_path)
    frame = read_frame(ingested.data_path, contract)
    holdout_rows = int(round(len(frame) * spec.split.holdout))
    if holdout_rows < 1 or len(frame) - holdout_rows < 2:
        raise UserInputError(
            f"{ingested.source} has {len(frame)} rows: "
            f"too few to split {spec.split.holdout:.0%} off as holdout",
            hint="use more data or a different split.holdout",
        )
    strata = _strata(spec, contract, frame)
    train_index, holdout_index = train_test_split(
        frame.index, test_size=holdout_rows, random_state=spec.seed, stratify=strata
    )
    train, holdout = frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)]
    log.info(
        "split %s rows into %s train / %s holdout%s",
        f"{len(frame):,}",
        f"{len(train):,}",
        f"{len(holdout):,}",
        f", stratified by {spec.target}" if strata is not None else "",
    )
    return Split(
        train_path=write_frame(train, contract, work / "train.parquet"),
        holdout_path=write_frame(holdout, contract, work / "holdout.parquet"),
        train_rows=len(train),
        holdout_rows=len(holdout),
        stratified_by=spec.target if strata is not None else None,
    )


def _strata(spec: PipelineSpec, contract: Contract, frame: pd.DataFrame) -> pd.Series | None:
    if not spec.split.stratify or spec.target is None:
        return None
    if contract.column(spec.target).kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        return None
    labels = frame[spec.target].astype(object).where(frame[spec.target].notna(), "<null>")
    if labels.value_counts().min() < 2:
        log.warning("not stratifying by %s: a class has fewer than 2 rows", spec.target)
        return None
    return labels


def fit_step(generator_spec: GeneratorSpec, seed: int, split: Split, contract_path: Path, work: Path) -> Path:
    """Fit one generator on the training split; return the saved model's folder."""
    contract = load_contract(contract_path)
    train = read_frame(split.train_path, contract)
    generator = create_generator(
        generator_spec.name, generator_spec.config, seed=seed, device=generator_spec.device
    )
    started = time.perf_counter()
    generator.fit(train, contract, progress=ProgressLog())
    model_dir = work / "model"
    generator.save(model_dir)
    fitted = generator.n_fitted_rows_
    log.info(
        "fitted %s on %s rows in %.1fs on %s",
        generator_spec.title,
        f"{len(train):,}" if fitted == len(train) else f"a seeded sample of {fitted:,} of {len(train):,}",
        time.perf_counter() - started,
        generator.device_used(),
    )
    return model_dir


def sample_step(model_dir: Path, rows: int, seed: int, work: Path) -> Path:
    """Sample `rows` synthetic rows from a saved model."""
    started = time.perf_counter()
    generator = Generator.load(model_dir, trust_pickle=True)  # the pipeline's own fit
    frame = generator.sample(rows, seed=seed)
    path = write_frame(frame, generator.contract_, work / "synthetic.parquet")
    log.info("sampled %s rows in %.1fs", f"{rows:,}", time.perf_counter() - started)
    return path


def evaluate_step(
    spec: PipelineSpec,
    split: Split,
    synthetic_path: Path,
    contract_path: Path,
    details: dict[str, str],
    work: Path,
) -> Evaluated:
    """Score the synthetic rows (contract, fidelity, privacy, utility), apply the gates, write the report.

    `details` (generator, source, …) are printed in the report's header.
    """
    started = time.perf_counter()
    contract = load_contract(contract_path)
    train = read_frame(split.train_path, contract)
    holdout = read_frame(split.holdout_path, contract)
    synthetic = read_frame(synthetic_path, contract)
    evaluation = evaluate(
        train,
        holdout,
        synthetic,
        contract,
        gates=spec.gates,
        target=spec.target,
        task=spec.task,
        seed=spec.seed,
    )
    evaluation_path = work / "evaluation.json"
    evaluation_path.write_text(json.dumps(evaluation.to_dict(), indent=2, default=str) + "\n")
    report_path = write_report(
        work / "report.html",
        evaluation,
        train,
        synthetic,
        contract,
        title=f"{spec.dataset}: synthetic data report",
        details={
            "dataset": spec.dataset,
            "seed": str(spec.seed),
            "code version": code_version(),
            **details,
        },
    )
    log.info("evaluated in %.1fs: %s", time.perf_counter() - started, "; ".join(evaluation.scorecard.lines()))
    return Evaluated(scorecard=evaluation.scorecard, evaluation_path=evaluation_path, report_path=report_path)


def publish_step(
    spec: PipelineSpec,
    ingested: Ingested,
    split: Split,
    model_dir: Path,
    synthetic_path: Path,
    evaluated: Evaluated,
    run: dict[str, Any],
) -> dict[str, Any]:
    """Commit the synthetic rows as the dataset's next version, with a manifest to reproduce them.

    `run` says how this run went (flow run id, steps reused from the cache, a tournament's contenders
    and why the winner won, the approval); it goes into the manifest as it is.
    """
    source_contract = load_contract(ingested.contract_path)
    synthetic, contract = publishable(
        read_frame(synthetic_path, source_contract), source_contract, seed=spec.seed, refake=False
    )
    manifest = manifest_fields(spec, ingested, split, model_dir, evaluated, contract, run)
    version = Store(spec.output.root).publish(
        spec.dataset, synthetic, contract, manifest, attachments={REPORT_FILE: evaluated.report_path}
    )
    log.info(
        "published %s %s (%s rows) at %s", spec.dataset, version.name, f"{len(synthetic):,}", version.path
    )
    return {
        "dataset": spec.dataset,
        "version": version.name,
        "version_dir": str(version.path),
        "rows": len(synthetic),
    }


def manifest_fields(
    spec: PipelineSpec,
    ingested: Ingested,
    split: Split,
    model_dir: Path,
    evaluated: Evaluated,
    contract: Contract,
    run: dict[str, Any],
) -> dict[str, Any]:
    """What a version's manifest records to reproduce it (the store adds rows, files and the date)."""
    model_record = json.loads((model_dir / MANIFEST_FILE).read_text())
    return {
        "status": "published",
        "code_version": code_version(),
        "seed": spec.seed,
        "source": {"label": ingested.source, "sha256": ingested.source_sha256, "rows": ingested.rows},
        "split": {
            "train_rows": split.train_rows,
            "holdout_rows": split.holdout_rows,
            "holdout": spec.split.holdout,
            "stratified_by": split.stratified_by,
        },
        "contract": {
            "sha256": contract_fingerprint(contract),
            "inferred": ingested.contract_inferred,
            "definition": contract_to_dict(contract),
        },
        "generator": {
            "name": model_record["generator"],
            "config": model_record["config"],
            "fitted_rows": model_record.get("n_fitted_rows", model_record["n_training_rows"]),
            "versions": model_record["versions"],
        },
        "scorecard": evaluated.scorecard.to_dict(),
        "gate": {"passed": evaluated.scorecard.passed},
        "evaluation": _details_of(evaluated),
        "spec": spec.model_dump(mode="json"),
        "run": run,
    }


def _details_of(evaluated: Evaluated) -> dict[str, Any]:
    """The evaluation's figures for the manifest (the scorecard is stored on its own)."""
    details = json.loads(evaluated.evaluation_path.read_text())
    details.pop("scorecard", None)
    return details


def reject_step(
    spec: PipelineSpec,
    stage: str,
    details: dict[str, Any],
    evaluated: dict[str, Evaluated] | None = None,
) -> Path:
    """Record why a run published nothing, where the user will look: <root>/<dataset>/rejected/<run>/.

    A run rejected by its gates or by a reviewer leaves its report.html and evaluation.json there too;
    a tournament leaves one pair per contender (report-<contender>.html, evaluation-<contender>.json).
    """
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = make_folder(
        Store(spec.output.root).dataset_dir(spec.dataset) / "rejected" / f"{stamp}-{uuid.uuid4().hex[:6]}",
        "the rejection record folder",
        hint=OUTPUT_ROOT_HINT,
    )
    record = {"stage": stage, **details, "code_version": code_version(), "spec": spec.model_dump(mode="json")}
    reports = {}
    for title, result in (evaluated or {}).items():
        suffix = "" if len(evaluated or {}) == 1 else f"-{title}"
        shutil.copyfile(result.report_path, folder / f"report{suffix}.html")
        shutil.copyfile(result.evaluation_path, folder / f"evaluation{suffix}.json")
        reports[title] = str(folder / f"report{suffix}.html")
    if len(reports) == 1:
        record["report"] = next(iter(reports.values()))
    elif reports:
        record["reports"] = reports
    (folder / "rejection.json").write_text(json.dumps(record, indent=2, default=str) + "\n")
    log.warning("rejected at %s; details in %s", stage, folder)
    return folder
