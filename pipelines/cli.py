"""The `synthwright` command line.

Exit codes: 0 success · 1 a check or gate failed (a report was written) · 2 bad input or usage ·
3 internal error. Failures print one clear message (with a `fix:` line) and no traceback, unless
`--debug` is given.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from typer._click import exceptions as click_errors  # typer's own click (pinned in constraints)

from synthwright import __version__
from synthwright.errors import (
    ApprovalRejectedError,
    CheckFailedError,
    ConfigError,
    ContractViolationError,
    GateFailedError,
    SynthwrightError,
    UserInputError,
)

app = typer.Typer(
    name="synthwright",
    help="Trustworthy synthetic tables: contracts, generators, validation gates, versioned Parquet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
contract_app = typer.Typer(help="Infer and check data contracts.", no_args_is_help=True)
app.add_typer(contract_app, name="contract")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

NaOption = typer.Option([], "--na", help="extra string read as missing (repeatable), e.g. --na '?'")
StripOption = typer.Option(True, "--strip/--no-strip", help="strip surrounding whitespace from strings")
FormatOption = typer.Option("auto", "--format", help="auto, csv, parquet or jsonl")
DelimiterOption = typer.Option(None, "--delimiter", help="CSV field delimiter (default ',')")
EncodingOption = typer.Option("utf-8", "--encoding", help="text encoding of CSV/JSON files")


def _version(value: bool) -> None:
    if value:
        out.print(f"synthwright {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="show tracebacks (accepted anywhere on the line)"),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version"
    ),
) -> None:
    """synthwright: turn a real table into a trustworthy synthetic one."""


def _read_options(na: list[str], strip: bool, fmt: str, delimiter: str | None, encoding: str) -> Any:
    from pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions
    from synthwright.config_io import validate_model
    from synthwright.errors import ConfigError

    if delimiter is not None and len(delimiter) != 1:
        raise ConfigError(
            f"--delimiter {delimiter!r} must be exactly one character", hint="e.g. --delimiter ';' or $'\\t'"
        )

    return validate_model(
        ReadOptions,
        {
            "na_values": [*DEFAULT_NA_VALUES, *na],
            "strip": strip,
            "format": fmt,
            "delimiter": delimiter,
            "encoding": encoding,
        },
        "the read options (--format, --delimiter, --encoding, --na)",
        hint="--format is auto, csv, parquet or jsonl; --delimiter is one character, e.g. ';' or a tab",
    )


def _check_folder_can_exist(folder: Path, option: str) -> None:
    """Before long work: a folder under an existing file can never be made (say so now, not after)."""
    for parent in [folder, *folder.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(
                    f"{option} {folder}: {parent} is a file, so the folder cannot be made there",
                    hint=f"choose another {option} folder",
                )
            return


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _table(*headers: str) -> Table:
    """A table that wraps long cells (piped output is 80 columns wide) instead of cutting them off."""
    table = Table(*headers)
    for column in table.columns:
        column.overflow = "fold"
    return table


def _log_to_stderr(level: int = logging.INFO) -> None:
    """Progress lines of the steps, for commands that run outside Prefect."""
    logger = logging.getLogger("synthwright")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s  %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(level)


# ---- run -----------------------------------------------------------------------------------------


@app.command()
def run(
    spec_file: Path = typer.Argument(..., metavar="SPEC.yaml", help="pipeline spec"),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="override a spec value by dotted path (repeatable)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="recompute every step (same as --set cache.enabled=false)"
    ),
) -> None:
    """Run a pipeline spec as a Prefect flow: check, fit, sample, validate, gate, publish.

    Unchanged steps are reused from earlier runs (the cache); a spec listing several `generators`
    runs a tournament and publishes the best that passes every gate."""
    from pipelines.spec import load_spec

    spec = load_spec(spec_file, [*overrides, *(["cache.enabled=false"] if no_cache else [])])
    from flows.synthesize import run_pipeline  # imports prefect: only the run command pays for it

    try:
        result = run_pipeline(spec)
    except CheckFailedError as error:
        if not as_json:
            raise
        _print_json(_rejection(spec.dataset, error))
        raise typer.Exit(error.exit_code) from None
    if as_json:
        _print_json(result)
    else:
        out.print(
            f"[bold green]published[/] {result['dataset']} {result['version']} "
            f"({result['rows']:,} rows) → {result['version_dir']}"
        )
        if result.get("tournament"):
            out.print(f"  tournament: {result['tournament']['reason']}")
        if result.get("cached_steps"):
            out.print(f"  reused from the cache: {', '.join(result['cached_steps'])}")
        _print_scorecard(result["scorecard"])


SpecFiles = typer.Argument(..., metavar="SPEC.yaml...", help="pipeline specs, one deployment each")
CronOption = typer.Option(
    None, "--cron", metavar="EXPR", help="cron schedule for every spec, e.g. '0 3 * * *'"
)
IntervalOption = typer.Option(
    None, "--interval", metavar="SECONDS", min=1, help="run every SECONDS instead of on a cron"
)


@app.command()
def serve(
    spec_files: list[Path] = SpecFiles,
    cron: str | None = CronOption,
    interval: float | None = IntervalOption,
) -> None:
    """Serve each spec as a scheduled deployment from this one process (needs a Prefect server).

    Without --cron/--interval each spec's own `schedule.cron` applies (none: runs only on request)."""
    from flows.deployments import serve_specs  # imports prefect

    serve_specs(spec_files, cron, interval)


@app.command()
def deploy(
    spec_files: list[Path] = SpecFiles,
    cron: str | None = CronOption,
    interval: float | None = IntervalOption,
    pool: str = typer.Option("cpu", "--pool", help="work pool for CPU fits (created if missing)"),
    gpu_pool: str = typer.Option("gpu", "--gpu-pool", help="work pool for fits that can use a GPU"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Register each spec as a deployment on a Prefect server's work pools; workers run them."""
    from flows.deployments import deploy_specs  # imports prefect

    registered = deploy_specs(spec_files, cron, interval, cpu_pool=pool, gpu_pool=gpu_pool)
    if as_json:
        _print_json(registered)
        return
    for item in registered:
        when = item["cron"] or (
            f"every {item['interval_seconds']:g} s" if item["interval_seconds"] else "on request"
        )
        out.print(f"deployed [bold]{item['name']}[/] → pool {item['pool']} ({item['routing']}); {when}")
    out.print(f"start a worker: prefect worker start --pool {pool}")


@app.command()
def approve(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="the paused flow run's id"),
    reviewer: str | None = typer.Option(None, "--reviewer", help="your name (default: your login)"),
    comment: str = typer.Option("", "--comment", help="recorded with the approval"),
) -> None:
    """Approve a run paused for approval: it publishes."""
    from flows.approval import answer_approval  # imports prefect

    answer = answer_approval(run_id, approved=True, reviewer=reviewer, reason=comment)
    out.print(f"approved flow run {answer['flow_run_id']} as {answer['reviewer']}: it publishes now")


@app.command()
def reject(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="the paused flow run's id"),
    reason: str = typer.Option(..., "--reason", help="why (recorded with the rejection)"),
    reviewer: str | None = typer.Option(None, "--reviewer", help="your name (default: your login)"),
) -> None:
    """Reject a run paused for approval: it publishes nothing and records why."""
    from flows.approval import answer_approval  # imports prefect

    if not reason.strip():
        raise typer.BadParameter("give a reason", param_hint="--reason")
    answer = answer_approval(run_id, approved=False, reviewer=reviewer, reason=reason)
    out.print(f"rejected flow run {answer['flow_run_id']} as {answer['reviewer']}: nothing is published")


def _rejection(dataset: str, error: CheckFailedError) -> dict[str, Any]:
    """The --json object of a run that published nothing."""
    record = {
        "status": "rejected",
        "dataset": dataset,
        "version_dir": None,
        "report_dir": str(error.report_dir),
    }
    if isinstance(error, GateFailedError):
        scorecard = error.scorecard.to_dict() if error.scorecard is not None else None
        gates = {**record, "stage": "gates", "scorecard": scorecard}
        return gates if error.tournament is None else {**gates, "tournament": error.tournament}
    if isinstance(error, ApprovalRejectedError):
        return {**record, "stage": "approval", "reviewer": error.reviewer, "reason": error.reason}
    if isinstance(error, ContractViolationError):
        return {**record, "stage": "input_contract", **error.report.to_dict()}
    return {**record, "stage": "unknown", "reason": error.message}


def _print_scorecard(scorecard: dict[str, Any]) -> None:
    from validators.gates import Scorecard

    for line in Scorecard.from_dict(scorecard).lines():
        out.print(f"  {line}")


# ---- contracts -----------------------------------------------------------------------------------


@contract_app.command("infer")
def contract_infer(
    data: Path = typer.Argument(..., help="CSV, Parquet or JSON Lines file"),
    out_file: Path | None = typer.Option(None, "--out", help="write the contract here (default: print it)"),
    dataset: str | None = typer.Option(None, "--dataset", help="dataset name to record"),
    na: list[str] = NaOption,
    strip: bool = StripOption,
    fmt: str = FormatOption,
    delimiter: str | None = DelimiterOption,
    encoding: str = EncodingOption,
) -> None:
    """Infer a first contract from data; review it before relying on it."""
    from data_contracts.io import dump_contract
    from pipelines.ingest import ingest

    result = ingest(data, _read_options(na, strip, fmt, delimiter, encoding))
    contract = result.contract if dataset is None else result.contract.model_copy(update={"dataset": dataset})
    text = dump_contract(contract)
    if out_file is None:
        sys.stdout.write(text)
    else:
        from synthwright.files import write_text_file

        write_text_file(out_file, text, "the contract")
        err.print(
            f"wrote a contract for {len(contract.columns)} columns to {out_file}; "
            "review kinds, ranges, categories and pii before relying on it"
        )


@contract_app.command("check")
def contract_check(
    data: Path = typer.Argument(..., help="CSV, Parquet or JSON Lines file"),
    contract_file: Path = typer.Option(..., "--contract", help="contract YAML"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
    junit: Path | None = typer.Option(None, "--junit", help="also write a JUnit XML report here"),
    na: list[str] = NaOption,
    strip: bool = StripOption,
    fmt: str = FormatOption,
    delimiter: str | None = DelimiterOption,
    encoding: str = EncodingOption,
) -> None:
    """Check data against its contract: exit 0 if it passes, 1 if it breaks it, 2 if unreadable."""
    from data_contracts.io import load_contract
    from pipelines.ingest import ingest
    from validators.contract import check_contract

    contract = load_contract(contract_file)
    result = ingest(data, _read_options(na, strip, fmt, delimiter, encoding), contract)
    report = check_contract(result.frame, contract, source=str(data), parse_failures=result.parse_failures)
    if junit is not None:
        from synthwright.files import write_text_file

        write_text_file(junit, report.to_junit(), "the JUnit report")
    if as_json:
        _print_json(report.to_dict())
    elif report.passed:
        out.print(f"[green]✓[/] {report.summary()}")
    else:
        out.print(f"[red]✗[/] {report.summary()}")
    if not report.passed:
        raise typer.Exit(1)


# ---- evaluate ------------------------------------------------------------------------------------


@app.command()
def evaluate(
    train_file: Path = typer.Option(..., "--train", help="the real rows the generator learned from"),
    holdout_file: Path = typer.Option(..., "--holdout", help="real rows the generator never saw"),
    synthetic_file: Path = typer.Option(..., "--synthetic", help="the synthetic rows to judge"),
    contract_file: Path | None = typer.Option(
        None, "--contract", help="contract YAML (default: inferred from --train)"
    ),
    target: str | None = typer.Option(None, "--target", help="column to predict in the utility test"),
    task: str | None = typer.Option(
        None, "--task", help="classification or regression (default: from the target's kind)"
    ),
    gate: list[str] = typer.Option(
        [], "--gate", metavar="NAME=VALUE", help="override a gate threshold, e.g. --gate dcr_share_max=0.55"
    ),
    report: Path = typer.Option(
        Path("synthwright-report.html"), "--report", help="where to write the HTML report"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the samples and models inside the tests"),
    as_json: bool = typer.Option(False, "--json", help="print the whole evaluation as JSON"),
    na: list[str] = NaOption,
    strip: bool = StripOption,
    fmt: str = FormatOption,
    delimiter: str | None = DelimiterOption,
    encoding: str = EncodingOption,
) -> None:
    """Judge synthetic rows against real ones: exit 0 when every gate passes, 1 when any fails."""
    from data_contracts.io import load_contract
    from pipelines.ingest import ingest
    from pipelines.spec import parse_override
    from synthwright.config_io import validate_model
    from synthwright.errors import ConfigError
    from validators.evaluate import evaluate as run_evaluation
    from validators.gates import Gates
    from validators.report import write_report

    if task not in (None, "classification", "regression"):
        raise ConfigError(
            f"--task must be classification or regression, not {task!r}",
            hint="or leave --task out: it follows the target's kind",
        )
    if task and not target:
        raise ConfigError("--task needs --target", hint="name the column to predict with --target")
    _log_to_stderr()  # one line per measured part: the whole takes ~25 s on Adult
    thresholds = dict(parse_override(item, option="--gate") for item in gate)
    gates = validate_model(Gates, thresholds, "--gate", hint="see README.md, 'Gates', for every gate")
    options = _read_options(na, strip, fmt, delimiter, encoding)
    contract = load_contract(contract_file) if contract_file else None
    train = ingest(train_file, options, contract)
    contract = train.contract
    holdout = ingest(holdout_file, options, contract)
    synthetic = ingest(synthetic_file, options, contract)
    for path, result in ((train_file, train), (holdout_file, holdout)):
        for failure in result.parse_failures:
            err.print(
                f"[yellow]warning:[/] {path}: {failure.count} value(s) of {failure.column} are not "
                f"{failure.kind} (e.g. {failure.examples[:3]}); they count as missing",
                markup=True,
            )
    if target is not None and target not in contract.names:
        raise ConfigError(f"--target {target!r} is not a column", hint=f"columns: {contract.names}")
    evaluation = run_evaluation(
        train.frame,
        holdout.frame,
        synthetic.frame,
        contract,
        gates=gates,
        target=target,
        task=task,
        seed=seed,
        parse_failures=synthetic.parse_failures,
    )
    write_report(
        report,
        evaluation,
        train.frame,
        synthetic.frame,
        contract,
        title=f"{synthetic_file.name}: synthetic data report",
        details={"train": str(train_file), "holdout": str(holdout_file), "synthetic": str(synthetic_file)},
    )
    if as_json:
        _print_json({**evaluation.to_dict(), "report": str(report)})
    else:
        verdict = "[bold green]passed[/]" if evaluation.passed else "[bold red]rejected[/]"
        out.print(f"{verdict}: {synthetic_file} ({len(synthetic.frame):,} rows)")
        _print_scorecard(evaluation.scorecard.to_dict())
        out.print(f"report: {report}")
    if not evaluation.passed:
        raise typer.Exit(1)


# ---- generators ----------------------------------------------------------------------------------


@app.command()
def generators(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the generators, what each is for, and its config keys with defaults."""
    from generators.registry import generator_class, generator_names

    rows = []
    for name in generator_names():
        klass = generator_class(name)
        knobs = klass.config_defaults()
        rows.append(
            {
                "name": name,
                "summary": klass.summary,
                "wraps": klass.wraps,
                "builds_on": klass.builds_on,
                "benefits_from_gpu": klass.benefits_from_gpu,
                "config": knobs,
            }
        )
    if as_json:
        _print_json(rows)
        return
    table = _table("name", "what it is", "wraps", "GPU", "config (defaults)")
    for row in rows:
        knobs = ", ".join(f"{k}={v!r}" for k, v in row["config"].items()) or "—"
        origin = row["wraps"] or (
            f"— (our own, on {row['builds_on']})" if row["builds_on"] else "— (our own)"
        )
        table.add_row(row["name"], row["summary"], origin, "yes" if row["benefits_from_gpu"] else "—", knobs)
    out.print(table)


@app.command()
def fit(
    data: Path = typer.Argument(..., help="training data: CSV, Parquet or JSON Lines"),
    generator: str = typer.Option(
        ..., "--generator", "-g", help="generator name (see `synthwright generators`)"
    ),
    model_dir: Path = typer.Option(..., "--out", help="folder to save the fitted model in"),
    contract_file: Path | None = typer.Option(None, "--contract", help="contract YAML (default: inferred)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    config: list[str] = typer.Option(
        [], "--config", metavar="KEY=VALUE", help="generator config (repeatable)"
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    na: list[str] = NaOption,
    strip: bool = StripOption,
    fmt: str = FormatOption,
    delimiter: str | None = DelimiterOption,
    encoding: str = EncodingOption,
    as_json: bool = typer.Option(
        False, "--json", help="print one JSON object on stdout (progress as log lines on stderr)"
    ),
) -> None:
    """Fit a generator on a data file and save it (a progress bar on a terminal)."""
    from data_contracts.io import load_contract
    from generators.registry import create_generator
    from pipelines.ingest import ingest
    from pipelines.spec import parse_override
    from validators.contract import check_contract

    _check_folder_can_exist(model_dir, "--out")
    _log_to_stderr()
    generator_config: dict[str, Any] = {}
    for item in config:
        key, value = parse_override(item, option="--config")
        generator_config[key] = value
    from generators.base import check_device

    check_device(device)
    model = create_generator(generator, generator_config, seed=seed, device=device)
    contract = load_contract(contract_file) if contract_file else None
    result = ingest(data, _read_options(na, strip, fmt, delimiter, encoding), contract)
    report = check_contract(
        result.frame, result.contract, source=str(data), parse_failures=result.parse_failures
    )
    if not report.passed:
        raise ContractViolationError(
            report.summary(), report, hint="fix the data or the contract before fitting"
        )
    from pipelines.progress import progress_display

    started = time.perf_counter()
    with progress_display(bar=False if as_json else None) as progress:
        model.fit(result.frame, result.contract, progress=progress)
    seconds = time.perf_counter() - started
    model.save(model_dir)
    training = getattr(model, "training_", None)
    if as_json:
        _print_json(
            {
                "generator": generator,
                "rows": len(result.frame),
                "model_dir": str(model_dir),
                "seconds": round(seconds, 3),
                "training": {k: v for k, v in (training or {}).items() if k != "losses"} or None,
            }
        )
        return
    out.print(f"fitted {generator} on {len(result.frame):,} rows in {seconds:.1f}s → {model_dir}")
    if training and training.get("stopped_early"):
        out.print(
            f"[yellow]stopped by the time budget after {training['epochs_completed']} of "
            f"{training['epochs_requested']} epochs[/]"
        )


@app.command()
def sample(
    model_dir: Path = typer.Argument(..., help="folder written by `synthwright fit`"),
    rows: int | None = typer.Option(
        None, "--rows", "-n", min=0, help="number of rows (default with --conditions: one per condition row)"
    ),
    out_file: Path = typer.Option(..., "--out", help="output file: .parquet, .csv or .jsonl"),
    seed: int | None = typer.Option(None, "--seed", help="random seed (default: the fit's seed)"),
    condition: list[str] = typer.Option(
        [], "--condition", metavar="COLUMN=VALUE", help="fix a column's value in every row (repeatable)"
    ),
    conditions_file: Path | None = typer.Option(
        None, "--conditions", metavar="FILE", help="per-row conditions: CSV, Parquet or JSON Lines"
    ),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
    trust_model: bool = typer.Option(
        False,
        "--trust-model",
        help="load a pickled model (copula) that this installation did not save: it runs code from the "
        "folder, so only for folders you trust",
    ),
) -> None:
    """Sample synthetic rows from a fitted model into a file, optionally under conditions."""
    import pandas as pd

    from generators.base import Generator
    from pipelines.frames import write_frame
    from synthwright.errors import ConfigError

    if condition and conditions_file:
        raise ConfigError(
            "give either --condition or --conditions, not both",
            hint="put fixed values as columns of the conditions file",
        )
    conditions: Any = None
    if condition:
        conditions = {}
        for name, value in map(_condition, condition):
            if name in conditions and conditions[name] != value:
                raise ConfigError(
                    f"--condition gives {name} twice ({conditions[name]!r} and {value!r})",
                    hint="a column can be fixed to one value; use --conditions FILE for values per row",
                )
            conditions[name] = value
    elif conditions_file is not None:
        from pipelines.ingest import ReadOptions, read_raw

        conditions = read_raw(conditions_file, ReadOptions())
    if rows is None:
        if not isinstance(conditions, pd.DataFrame):
            raise ConfigError("--rows is required", hint="e.g. --rows 1000 (or give --conditions FILE)")
        rows = len(conditions)
    model = Generator.load(model_dir, trust_pickle=trust_model)
    started = time.perf_counter()
    try:
        frame = model.sample(rows, conditions=conditions, seed=seed)
    except UserInputError as error:
        if conditions_file is None:
            raise
        raise ConfigError(f"{conditions_file}: {error.message}", hint=error.hint) from error
    seconds = time.perf_counter() - started
    write_frame(frame, model.contract_, out_file)
    if as_json:
        _print_json({"rows": len(frame), "out": str(out_file), "seconds": round(seconds, 3)})
        return
    out.print(f"wrote {len(frame):,} rows to {out_file}")


def _condition(text: str) -> tuple[str, str]:
    """`COLUMN=VALUE` → (column, value); the value stays text and is read as the contract says."""
    from synthwright.errors import ConfigError

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(
            f"--condition expects COLUMN=VALUE, got {text!r}", hint="e.g. --condition income='>50K'"
        )
    return name.strip(), value.strip()  # as data files are read (--strip is their default)


# ---- versions ------------------------------------------------------------------------------------


@app.command()
def versions(
    dataset: str = typer.Argument(..., help="dataset name"),
    root: Path = typer.Option(Path("outputs"), "--root", help="output root of the store"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """List the published versions of a dataset."""
    from pipelines.store import Store

    found = Store(root).versions(dataset)
    rows = [
        {
            "version": v.name,
            "created_at": v.manifest.get("created_at"),
            "rows": v.manifest.get("rows"),
            "generator": (v.manifest.get("generator") or {}).get("name"),
            "gate": "passed" if (v.manifest.get("gate") or {}).get("passed") else "not passed",
            "path": str(v.path),
        }
        for v in found
    ]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print(f"no published versions of {dataset!r} under {root}")
        return
    table = _table("version", "created (UTC)", "rows", "generator", "gate", "path")
    for row in rows:
        table.add_row(
            row["version"],
            str(row["created_at"]),
            f"{row['rows']:,}" if row["rows"] is not None else "?",
            str(row["generator"]),
            row["gate"],
            row["path"],
        )
    out.print(table)


from pipelines import cli_augment  # noqa: E402, F401 — registers the augment command
from pipelines import cli_check as _check_command  # noqa: E402, F401 — registers the check command

# ---- entry point ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn every failure into a message and an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]  # accepted anywhere on the line, not only first
    if not debug:
        _quiet_tracebacks()
    try:
        # Not click's standalone mode: `typer.Exit(n)` returns n, and usage errors come here to be
        # printed like every other error (an `error:` line and a `fix:` line).
        code = app(args=args, prog_name="synthwright", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as error:  # `synthwright` or a group alone: its help
        error.show()
        code = error.exit_code
    except click_errors.UsageError as error:
        command = error.ctx.command_path if error.ctx is not None else "synthwright"
        err.print(f"[red]error:[/] {error.format_message()}", markup=True, highlight=False)
        err.print(f"  fix: see `{command} --help`", highlight=False)
        code = 2
    except typer.Abort:
        err.print("[red]aborted[/]", markup=True)
        code = 130
    except SynthwrightError as error:
        if debug:
            err.print_exception()
        _print_error(error)
        code = error.exit_code
    except Exception as error:  # noqa: BLE001 — the last line of defence: no traceback unless --debug
        if debug:
            err.print_exception()
        err.print(f"[red]internal error:[/] {type(error).__name__}: {error}", markup=True)
        err.print("  this is a bug in synthwright; rerun with --debug for the traceback and report it")
        code = 3
    sys.exit(code if isinstance(code, int) else 0)


def _print_error(error: SynthwrightError) -> None:
    label = "failed" if isinstance(error, CheckFailedError) else "error"
    err.print(f"[red]{label}:[/] {error.message}", markup=True)
    if error.hint:
        err.print(f"  fix: {error.hint}")
    if isinstance(error, CheckFailedError) and error.report_dir:
        err.print(f"  details: {error.report_dir}")


class _NoTracebacks(logging.Filter):
    """Prefect logs a task's exception with its traceback; we print our own clear message instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _quiet_tracebacks() -> None:
    logging.getLogger().addFilter(_NoTracebacks())
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addFilter(_NoTracebacks())


if __name__ == "__main__":
    main()
