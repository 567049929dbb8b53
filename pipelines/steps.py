"""The pipeline's steps as plain functions: each reads files, writes files, returns a small record.

    preflight → ingest → validate input → split → fit → sample → evaluate → publish

The graph that calls them, and decides between fit and publish, is synthwright.pipelines.run; a
runner calls each step (in this process, or as a Prefect task). Steps pass file paths (Parquet in a
work folder) and small records, never DataFrames, so results stay small and cacheable. The contract
is loaded once (preflight) and travels as an object; a generator config is validated once, into its
typed Config (`Contender`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from sklearn.model_selection import train_test_split

from synthwright import code_version
from synthwright.data_contracts.io import contract_fingerprint, contract_to_dict, load_contract
from synthwright.data_contracts.model import ColumnKind, Contract, RareValues
from synthwright.errors import ConfigError, ContractViolationError, SourceError, UserInputError
from synthwright.generators.base import Generator, Progress
from synthwright.generators.record import ModelRecord
from synthwright.generators.registry import generator_class
from synthwright.pipelines.cache_keys import cache_root
from synthwright.pipelines.frames import read_frame, write_frame
from synthwright.pipelines.gate import Scored
from synthwright.pipelines.ingest import builtin_path, ingest
from synthwright.pipelines.pii import publishable
from synthwright.pipelines.progress import ProgressLog
from synthwright.pipelines.spec import GeneratorSpec, PipelineSpec
from synthwright.pipelines.store import OUTPUT_ROOT_HINT, Store
from synthwright.pipelines.workspace import require_writable_folder
from synthwright.validators.contract import ContractReport, ParseFailure, validate_contract
from synthwright.validators.evaluate import Evaluation, evaluate
from synthwright.validators.gates import Gates
from synthwright.validators.report import write_report
from synthwright.validators.utility import Task

log = logging.getLogger("synthwright.pipeline")
REPORT_FILE = "report.html"


class Ingested(BaseModel):
    """The source, read into the contract's dtypes as Parquet, with the contract it was read by."""

    model_config = ConfigDict(frozen=True)

    data_path: Path
    contract: Contract
    source: str
    source_sha256: str
    rows: int
    contract_inferred: bool
    parse_failures: list[dict[str, Any]] = []
    duplicate_rows: int = 0
    """Rows equal in every column to an earlier row: the split keeps identical rows on one side."""


class Split(BaseModel):
    model_config = ConfigDict(frozen=True)

    train_path: Path
    holdout_path: Path
    train_rows: int
    holdout_rows: int
    stratified_by: str | None = None


@dataclass(frozen=True)
class Contender:
    """A generator entered in the run, its config validated once (at preflight) into its typed Config."""

    title: str
    name: str
    config: BaseModel
    device: str

    @classmethod
    def of(cls, spec: GeneratorSpec, *, listed: bool = False) -> Contender:
        """Validate `spec`'s name and config (a typo costs no fit); errors name the contender, as
        `generators[title]` when it is one of a list (`listed`)."""
        try:
            config = generator_class(spec.name).parse_config(spec.config)
        except ConfigError as error:
            where = f"generators[{spec.title}]" if listed else "generator"
            raise ConfigError(f"{where}: {error.message}", hint=error.hint) from error
        return cls(spec.title, spec.name, config, spec.device)

    def generator(self, seed: int) -> Generator:
        return generator_class(self.name)(self.config, seed=seed, device=self.device)


@dataclass(frozen=True)
class Preflight:
    """What a run checks and loads before any step (before a flow or a server starts)."""

    contract: Contract | None
    """The spec's contract, loaded once; None when it is to be inferred from the data at ingest."""
    contenders: list[Contender]
    work_root: Path
    """The cache root, where the run keeps its private work folder (synthwright.pipelines.workspace)."""


def preflight(spec: PipelineSpec) -> Preflight:
    """The source file is there, the contract reads and names the target, every contender's config is
    valid and its device can be used. Errors name the spec file."""
    where = f"{spec.spec_file}: " if spec.spec_file is not None else ""
    path = spec.source.path
    if path is not None and not path.is_file():
        raise SourceError(
            f"{where}source.path: data file not found: {path}",
            hint="check the path (relative paths start at the spec's folder)",
        )
    contract = load_contract(spec.contract) if spec.contract is not None else None
    if contract is not None:
        validate_target(spec, contract)
    checked = contenders(spec)
    require_writable_folder(spec.output.root, "the output root", OUTPUT_ROOT_HINT)
    return Preflight(contract, checked, cache_root(spec))


def contenders(spec: PipelineSpec) -> list[Contender]:
    """The spec's generators, each config validated into its typed Config and each device resolved."""
    checked = [Contender.of(generator, listed=spec.generators is not None) for generator in spec.contenders]
    for contender in checked:
        contender.generator(spec.seed).device_used()  # imports torch here, not in two task threads at once
    return checked


def validate_target(spec: PipelineSpec, contract: Contract) -> None:
    if spec.target is not None and spec.target not in contract.names:
        where = f"{spec.spec_file}: " if spec.spec_file is not None else ""
        raise ConfigError(
            f"{where}target column {spec.target!r} is not in the contract",
            hint=f"name one of its columns: {', '.join(contract.names)}",
        )


def ingest_step(spec: PipelineSpec, contract: Contract | None, work: Path) -> Ingested:
    """Read the source into the contract's dtypes (inferring a contract when `contract` is None)."""
    started = time.perf_counter()
    source = spec.source
    path = builtin_path(source.builtin) if source.builtin else source.path
    result = ingest(path, source, contract)
    contract = result.contract
    if result.contract_inferred:
        contract = contract.model_copy(update={"dataset": spec.dataset})
        log.warning("no contract given: inferred one from the data (it is stored in the manifest)")
    validate_target(spec, contract)
    data_path = write_frame(result.frame, contract, work / "real.parquet")
    log.info(
        "ingested %s rows × %s columns from %s in %.1fs",
        f"{len(result.frame):,}",
        len(contract.columns),
        source.label,
        time.perf_counter() - started,
    )
    duplicates = duplicate_rows(result.frame)
    if duplicates:
        log.warning(
            "%s of %s rows (%.1f %%) of %s repeat an earlier row in every column: identical rows are "
            "kept on one side of the train/holdout split",
            f"{duplicates:,}",
            f"{len(result.frame):,}",
            100 * duplicates / len(result.frame),
            source.label,
        )
    return Ingested(
        data_path=data_path,
        contract=contract,
        source=source.label,
        source_sha256=result.sha256,
        rows=len(result.frame),
        contract_inferred=result.contract_inferred,
        parse_failures=[asdict(f) for f in result.parse_failures],
        duplicate_rows=duplicates,
    )


def validate_input_step(ingested: Ingested) -> int:
    """The input gate, on the ingested source; returns how many contract checks passed (a small,
    cacheable result)."""
    frame = read_frame(ingested.data_path, ingested.contract)
    failures = [ParseFailure(**f) for f in ingested.parse_failures]
    return len(validate_input(frame, ingested.contract, ingested.source, failures).results)


def validate_input(
    frame: pd.DataFrame, contract: Contract, source: str, parse_failures: Sequence[ParseFailure] = ()
) -> ContractReport:
    """The input gate: real data must pass its own contract before anything is learned from it."""
    report = validate_contract(frame, contract, source=source, parse_failures=parse_failures)
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
    """Seeded train/holdout split, stratified by a categorical or boolean target when possible.

    Identical rows stay on one side: a holdout row with a twin in train would make a generator that
    copies train rows look as close to the holdout as to train (the privacy tests' control). A table
    without repeated rows is split row by row as ever; one with repeats is split by distinct rows."""
    contract = ingested.contract
    frame = read_frame(ingested.data_path, contract)
    holdout_rows = int(round(len(frame) * spec.split.holdout))
    if holdout_rows < 1 or len(frame) - holdout_rows < 2:
        raise UserInputError(
            f"{ingested.source} has {len(frame)} rows: "
            f"too few to split {spec.split.holdout:.0%} off as holdout",
            hint="use more data or a different split.holdout",
        )
    strata = _strata(spec, contract, frame, holdout_rows)
    groups = row_groups(frame)
    distinct = int(groups.max()) + 1
    if distinct == len(frame):
        train_index, holdout_index = train_test_split(
            frame.index, test_size=holdout_rows, random_state=spec.seed, stratify=strata
        )
        train, holdout = frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)]
    else:
        in_holdout = _grouped_holdout(groups, strata, holdout_rows, spec.seed)
        if not in_holdout.any():
            raise UserInputError(
                f"{ingested.source}: its {len(frame):,} rows are {distinct} distinct row(s), too few to "
                "hold one out that train does not also hold",
                hint="use data with more distinct rows (identical rows are kept on one side of the split)",
            )
        train, holdout = frame[~in_holdout], frame[in_holdout]
        log.warning(
            "%s of %s rows repeat another row (%s distinct): identical rows are kept on one side of the "
            "split, so the holdout's share is approximate: %s rows (%.1f %%, asked %.0f %%)",
            f"{len(frame) - distinct:,}",
            f"{len(frame):,}",
            f"{distinct:,}",
            f"{len(holdout):,}",
            100 * len(holdout) / len(frame),
            100 * spec.split.holdout,
        )
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


def _strata(
    spec: PipelineSpec, contract: Contract, frame: pd.DataFrame, holdout_rows: int
) -> pd.Series | None:
    """The target's classes to stratify by, or None (with the reason logged) when they cannot be."""
    if not spec.split.stratify or spec.target is None:
        return None
    if contract.column(spec.target).kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        return None
    labels = frame[spec.target].astype(object).where(frame[spec.target].notna(), "<null>")
    counts = labels.value_counts()
    if counts.min() < 2:
        log.warning("not stratifying by %s: a class has fewer than 2 rows", spec.target)
        return None
    smaller = min(holdout_rows, len(frame) - holdout_rows)
    if len(counts) > smaller:  # each side needs a row of every class
        log.warning(
            "not stratifying by %s: %d classes, but the %s has only %d rows; the split is unstratified",
            spec.target,
            len(counts),
            "holdout" if smaller == holdout_rows else "training split",
            smaller,
        )
        return None
    return labels


def row_groups(frame: pd.DataFrame) -> np.ndarray:
    """One code per row, equal for rows equal in every column (nulls equal nulls), 0… in order of
    first appearance: a 64-bit hash per row, so a million rows cost a fraction of a second."""
    if frame.empty:
        return np.zeros(0, dtype="int64")
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return pd.factorize(hashes)[0].astype("int64")


def duplicate_rows(frame: pd.DataFrame) -> int:
    """Rows equal in every column to an earlier row."""
    groups = row_groups(frame)
    return len(frame) - (int(groups.max()) + 1 if len(groups) else 0)


def _grouped_holdout(
    groups: np.ndarray, strata: pd.Series | None, holdout_rows: int, seed: int
) -> np.ndarray:
    """Which rows go to the holdout, each group of identical rows whole (a boolean per row).

    Each stratum's share of `holdout_rows` (largest remainder) is filled from its groups taken in a
    seeded random order, skipping a group that would overshoot: sizes come out exact while most groups
    are single rows, approximate where large groups are left. When nothing fits, the smallest group
    goes that leaves train 2 rows; all False when none does."""
    rng = np.random.default_rng(seed)
    sizes = np.bincount(groups)
    first = np.unique(groups, return_index=True)[1]
    labels = pd.factorize(strata.to_numpy()[first])[0] if strata is not None else np.zeros(len(sizes), int)
    per_label = np.bincount(labels, weights=sizes)
    exact = per_label * holdout_rows / len(groups)
    wanted = np.floor(exact).astype("int64")
    wanted[np.argsort(wanted - exact, kind="stable")[: holdout_rows - int(wanted.sum())]] += 1
    chosen = np.zeros(len(sizes), dtype=bool)
    for label, want in enumerate(wanted):
        order = rng.permutation(np.flatnonzero(labels == label))
        left = int(want)
        while True:  # each pass takes the fitting groups in order until one would overshoot
            fitting = order[~chosen[order] & (sizes[order] <= left)]
            if not len(fitting):
                break
            take = fitting[np.cumsum(sizes[fitting]) <= left]
            chosen[take] = True
            left -= int(sizes[take].sum())
    if not chosen.any():
        fits = rng.permutation(np.flatnonzero(sizes <= len(groups) - 2))
        if len(fits):
            chosen[fits[np.argmin(sizes[fits])]] = True
    return chosen[groups]


def fit_step(
    contender: Contender, seed: int, split: Split, contract: Contract, rare_values: RareValues, work: Path
) -> Path:
    """Fit one generator on the training split; return the saved model's folder."""
    model_dir = work / "model"
    train = read_frame(split.train_path, contract)
    personal = [c.name for c in contract.columns if c.pii is not None]
    holdout = read_frame(split.holdout_path, contract)[personal] if personal else None
    fit_model(
        contender,
        seed,
        train,
        contract,
        model_dir,
        ProgressLog(),
        rare_values=rare_values,
        other_real=holdout,
    )
    return model_dir


def fit_model(
    contender: Contender,
    seed: int,
    train: pd.DataFrame,
    contract: Contract,
    model_dir: Path,
    progress: Progress,
    *,
    rare_values: RareValues | None = None,
    other_real: pd.DataFrame | None = None,
) -> Generator:
    """Fit `contender` on `train` and save it in `model_dir` (what `synthwright fit` does too)."""
    generator = contender.generator(seed)
    started = time.perf_counter()
    generator.fit(train, contract, progress=progress, rare_values=rare_values, other_real=other_real)
    generator.save(model_dir)
    fitted = generator.n_fitted_rows_
    log.info(
        "fitted %s on %s rows in %.1fs on %s",
        contender.title,
        f"{len(train):,}" if fitted == len(train) else f"a seeded sample of {fitted:,} of {len(train):,}",
        time.perf_counter() - started,
        generator.device_used(),
    )
    return generator


def sample_step(model_dir: Path, rows: int, seed: int, work: Path) -> Path:
    """Sample `rows` synthetic rows from a saved model."""
    started = time.perf_counter()
    generator = Generator.load(model_dir, trust_pickle=True)  # the pipeline's own fit
    frame = generator.sample(rows, seed=seed)
    path = write_frame(frame, generator.contract_, work / "synthetic.parquet")
    log.info("sampled %s rows in %.1fs", f"{rows:,}", time.perf_counter() - started)
    return path


def evaluate_step(
    synthetic_path: Path,
    spec: PipelineSpec,
    split: Split,
    contract: Contract,
    details: dict[str, str],
    work: Path,
) -> Scored:
    """Score the synthetic rows (contract, fidelity, privacy, utility), apply the gates, write the report.

    `details` (generator, source, …) are printed in the report's header.
    """
    train = read_frame(split.train_path, contract)
    evaluation = score_sample(
        train,
        read_frame(split.holdout_path, contract),
        read_frame(synthetic_path, contract),
        contract,
        gates=spec.gates,
        target=spec.target,
        task=spec.task,
        seed=spec.seed,
        rare_values=spec.rare_values,
        report=work / REPORT_FILE,
        title=f"{spec.dataset}: synthetic data report",
        details={"dataset": spec.dataset, "seed": str(spec.seed), "code version": code_version(), **details},
    )
    evaluation_path = work / "evaluation.json"
    evaluation_path.write_text(json.dumps(evaluation.to_dict(), indent=2, default=str) + "\n")
    return Scored(
        scorecard=evaluation.scorecard, evaluation_path=evaluation_path, report_path=work / REPORT_FILE
    )


def score_sample(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    gates: Gates,
    target: str | None,
    task: Task | None,
    seed: int,
    report: Path,
    title: str,
    details: dict[str, str],
    parse_failures: Sequence[ParseFailure] = (),
    rare_values: RareValues | None = None,
) -> Evaluation:
    """Evaluate a synthetic sample, apply `gates`, and write the HTML report (what `synthwright
    evaluate` does too); `parse_failures` of the synthetic file count as contract violations."""
    started = time.perf_counter()
    evaluation = evaluate(
        train,
        holdout,
        synthetic,
        contract,
        gates=gates,
        target=target,
        task=task,
        seed=seed,
        parse_failures=parse_failures,
        rare_values=rare_values,
    )
    write_report(report, evaluation, train, synthetic, contract, title=title, details=details)
    log.info("evaluated in %.1fs: %s", time.perf_counter() - started, "; ".join(evaluation.scorecard.lines()))
    return evaluation


class Published(BaseModel):
    """A committed version: where it is and how many rows it holds (real and synthetic, when augmented)."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    version: str
    version_dir: Path
    rows: int
    real_rows: int | None = None
    synthetic_rows: int | None = None


def publish_step(
    spec: PipelineSpec,
    ingested: Ingested,
    split: Split,
    model_dir: Path,
    synthetic_path: Path,
    scored: Scored,
    run: dict[str, Any],
) -> Published:
    """Commit the synthetic rows as the dataset's next version, with a manifest to reproduce them.

    `run` says how this run went (flow run id, steps reused from the cache, a tournament's contenders
    and why the winner won, the approval); it goes into the manifest as it is.
    """
    synthetic, contract = publishable(
        read_frame(synthetic_path, ingested.contract), ingested.contract, seed=spec.seed, refake=False
    )
    manifest = manifest_fields(spec, ingested, split, model_dir, scored, contract, run)
    version = Store(spec.output.root).publish(
        spec.dataset, synthetic, contract, manifest, attachments={REPORT_FILE: scored.report_path}
    )
    log.info(
        "published %s %s (%s rows) at %s", spec.dataset, version.name, f"{len(synthetic):,}", version.path
    )
    return Published(
        dataset=spec.dataset, version=version.name, version_dir=version.path, rows=len(synthetic)
    )


def manifest_fields(
    spec: PipelineSpec,
    ingested: Ingested,
    split: Split,
    model_dir: Path,
    scored: Scored,
    contract: Contract,
    run: dict[str, Any],
) -> dict[str, Any]:
    """What a version's manifest records to reproduce it (the store adds rows, files and the date)."""
    model = ModelRecord.read(model_dir)
    return {
        "status": "published",
        "code_version": code_version(),
        "seed": spec.seed,
        "source": {
            "label": ingested.source,
            "sha256": ingested.source_sha256,
            "rows": ingested.rows,
            "duplicate_rows": ingested.duplicate_rows,
        },
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
            "name": model.generator,
            "config": model.config,
            "fitted_rows": model.n_fitted_rows,
            "training": model.training,
            "versions": model.versions,
        },
        "scorecard": scored.scorecard.to_dict(),
        "gate": {"passed": scored.scorecard.passed, "relaxed_gates": list(scored.scorecard.relaxed)},
        "evaluation": _details_of(scored),
        "spec": spec.model_dump(mode="json"),
        "run": run,
    }


def _details_of(scored: Scored) -> dict[str, Any]:
    """The evaluation's figures for the manifest (the scorecard is stored on its own)."""
    details = json.loads(scored.evaluation_path.read_text())
    details.pop("scorecard", None)
    return details
