"""`synthwright augment`: an augmentation request from a YAML file, command-line flags, or both.

Flags override the file (`--set KEY=VALUE` any key; the named flags the common ones), so a team can
keep one request file and vary the amount per run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from pipelines.cli import _print_json, _print_scorecard, _rejection, app, out
from synthwright.errors import CheckFailedError, ConfigError


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
    from pipelines.augment_request import load_request

    flags = _flag_overrides(
        source, version, dataset, target, rows, multiplier, rebalance, condition, generator
    )
    extra = ["cache.enabled=false"] if no_cache else []
    request = load_request(request_file, [*flags, *overrides, *extra])
    from flows.augment import run_augment  # imports prefect: only this command pays for it

    try:
        result = run_augment(request)
    except CheckFailedError as error:
        if not as_json:
            raise
        _print_json(_rejection(request.dataset, error))
        raise typer.Exit(error.exit_code) from None
    if as_json:
        _print_json(result)
        return
    out.print(
        f"[bold green]published[/] {result['dataset']} {result['version']}: {result['real_rows']:,} real + "
        f"{result['synthetic_rows']:,} synthetic rows → {result['version_dir']}"
    )
    for group in result["plan"]["groups"]:
        given = ", ".join(f"{k}={v!r}" for k, v in group["conditions"].items()) or "unconditioned"
        out.print(f"  {group['rows']:,} synthetic rows: {given}")
    _print_scorecard(result["scorecard"])


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
