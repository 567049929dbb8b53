"""The orchestration commands: run a spec or an augmentation request as a Prefect flow, schedule specs
(serve, deploy) and answer an approval pause. The only part of the command line that imports
synthwright.flows, and it does so inside each command: the other commands never pay for Prefect.

`augment` takes a request from a YAML file, command-line flags, or both: flags override the file
(`--set KEY=VALUE` any key; the named flags the common ones), so a team can keep one request file and
vary the amount per run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from synthwright.errors import (
    ApprovalRejectedError,
    CheckFailedError,
    ConfigError,
    ContractViolationError,
    GateFailedError,
)
from synthwright.pipelines.cli.app import app, out, print_json, print_scorecard


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
    from synthwright.pipelines.spec import load_spec

    spec = load_spec(spec_file, [*overrides, *(["cache.enabled=false"] if no_cache else [])])
    from synthwright.flows.synthesize import run_pipeline  # imports prefect: only the run command pays for it

    try:
        result = run_pipeline(spec)
    except CheckFailedError as error:
        if not as_json:
            raise
        print_json(_rejection(spec.dataset, error))
        raise typer.Exit(error.exit_code) from None
    if as_json:
        print_json(result.to_dict())
    else:
        out.print(
            f"[bold green]published[/] {result.dataset} {result.version} "
            f"({result.rows:,} rows) → {result.version_dir}"
        )
        if result.scorecard.relaxed:
            out.print(f"  [yellow]published with {result.scorecard.relaxed_line}[/]")
        if result.run.get("tournament"):
            out.print(f"  tournament: {result.run['tournament']['reason']}")
        if result.run.get("cached_steps"):
            out.print(f"  reused from the cache: {', '.join(result.run['cached_steps'])}")
        print_scorecard(result.scorecard)


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
    from synthwright.flows.deployments import serve_specs  # imports prefect

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
    from synthwright.flows.deployments import deploy_specs  # imports prefect

    registered = deploy_specs(spec_files, cron, interval, cpu_pool=pool, gpu_pool=gpu_pool)
    if as_json:
        print_json(registered)
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
    from synthwright.flows.approval import answer_approval  # imports prefect

    answer = answer_approval(run_id, approved=True, reviewer=reviewer, reason=comment)
    out.print(f"approved flow run {answer['flow_run_id']} as {answer['reviewer']}: it publishes now")


@app.command()
def reject(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="the paused flow run's id"),
    reason: str = typer.Option(..., "--reason", help="why (recorded with the rejection)"),
    reviewer: str | None = typer.Option(None, "--reviewer", help="your name (default: your login)"),
) -> None:
    """Reject a run paused for approval: it publishes nothing and records why."""
    from synthwright.flows.approval import answer_approval  # imports prefect

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


@app.command()
def augment(
    request_file: Path | None = typer.Argument(
        None, metavar="[REQUEST.yaml]", help="augmentation request (or give everything as flags)"
    ),
    source: Path | None = typer.Option(None, "--source", help="the real data file (source.path)"),
    version: str | None = typer.Option(
        None, "--from-version", metavar="DATASET@vN", help="augment a published version (source.version)"
    ),
    dataset: str | None = typer.Option(None, "--dataset", help="name to publish the augmented table under"),
    target: str | None = typer.Option(None, "--target", help="the column models predict"),
    rows: int | None = typer.Option(None, "--rows", min=1, help="synthetic rows to add"),
    multiplier: float | None = typer.Option(None, "--multiplier", help="final rows = real rows × this"),
    rebalance: list[str] = typer.Option(
        [], "--rebalance", metavar="CLASS=SHARE", help="share of a target class in the result (repeatable)"
    ),
    condition: list[str] = typer.Option(
        [],
        "--condition",
        metavar="COLUMN=VALUE",
        help="with --rows: the rows all have this value (repeatable)",
    ),
    generator: str | None = typer.Option(None, "--generator", "-g", help="generator name"),
    overrides: list[str] = typer.Option(
        [], "--set", metavar="KEY=VALUE", help="override any request key by dotted path (repeatable)"
    ),
    no_cache: bool = typer.Option(False, "--no-cache", help="recompute every step"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object on stdout"),
) -> None:
    """Publish real rows plus synthetic ones (more rows, rebalanced classes or conditioned groups),
    marked by an `is_synthetic` column, with the utility lift against SMOTE in the scorecard."""
    from synthwright.pipelines.augment_request import load_request

    flags = _flag_overrides(
        source, version, dataset, target, rows, multiplier, rebalance, condition, generator
    )
    extra = ["cache.enabled=false"] if no_cache else []
    request = load_request(request_file, [*flags, *overrides, *extra])
    from synthwright.flows.synthesize import run_augment  # imports prefect: only this command pays for it

    try:
        result = run_augment(request)
    except CheckFailedError as error:
        if not as_json:
            raise
        print_json(_rejection(request.dataset, error))
        raise typer.Exit(error.exit_code) from None
    if as_json:
        print_json(result.to_dict())
        return
    out.print(
        f"[bold green]published[/] {result.dataset} {result.version}: {result.real_rows:,} real + "
        f"{result.synthetic_rows:,} synthetic rows → {result.version_dir}"
    )
    if result.scorecard.relaxed:
        out.print(f"  [yellow]published with {result.scorecard.relaxed_line}[/]")
    assert result.plan is not None  # an augmentation's result says what it planned
    for group in result.plan["groups"]:
        given = ", ".join(f"{k}={v!r}" for k, v in group["conditions"].items()) or "unconditioned"
        out.print(f"  {group['rows']:,} synthetic rows: {given}")
    print_scorecard(result.scorecard)


def _flag_overrides(
    source: Path | None,
    version: str | None,
    dataset: str | None,
    target: str | None,
    rows: int | None,
    multiplier: float | None,
    rebalance: list[str],
    condition: list[str],
    generator: str | None,
) -> list[str]:
    """The named flags as `--set` overrides (values as JSON, which YAML reads as written)."""
    sets: dict[str, Any] = {}
    if source is not None and version is not None:
        raise ConfigError(
            "give --source or --from-version, not both",
            hint="--source FILE augments a file; --from-version DATASET@vN a published version",
        )
    if source is not None or version is not None:  # replaces the file's source, keeps its read options
        sets["source.path"] = None if source is None else str(source.expanduser().resolve())
        sets["source.builtin"] = None
        sets["source.version"] = version
    for key, value in (("dataset", dataset), ("target", target), ("generator.name", generator)):
        if value is not None:
            sets[key] = value
    forms = [
        name
        for name, given in (("--rows", rows), ("--multiplier", multiplier), ("--rebalance", rebalance))
        if given
    ]
    if len(forms) > 1:
        raise ConfigError(
            f"give one of {', '.join(forms)}", hint="a request asks for one kind of augmentation"
        )
    if condition:
        if rows is None:
            raise ConfigError("--condition needs --rows", hint="e.g. --rows 3000 --condition sex=Female")
        given = dict(_pair(c, "--condition", last=False) for c in condition)
        sets["conditions"] = [{**given, "rows": rows}]
    elif rows is not None:
        sets["rows"] = rows
    if multiplier is not None:
        sets["multiplier"] = multiplier
    if rebalance:
        if target is None:
            raise ConfigError(
                "--rebalance needs --target", hint="e.g. --target income --rebalance '>50K=0.5'"
            )
        shares = {}
        for text in rebalance:
            name, value = _pair(text, "--rebalance")
            try:
                shares[name] = float(value)
            except ValueError:
                raise ConfigError(
                    f"--rebalance {text!r}: {value!r} is not a share", hint="e.g. '>50K=0.5'"
                ) from None
        sets["rebalance"] = {target: shares}
    return [f"{key}={json.dumps(value)}" for key, value in sets.items()]


def _pair(text: str, option: str, last: bool = True) -> tuple[str, str]:
    """COLUMN=VALUE splits at the first `=`; CLASS=SHARE at the last (a class may hold one)."""
    name, sep, value = text.rpartition("=") if last else text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"{option} expects NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()
