"""`synthwright check`: the data-quality gate for CI.

Exit 0 when every check passes, 1 when any fails (the report says which), 2 for bad input or usage.
The report goes to stdout, or with `--out FILE` to that file (written atomically) while stdout gets the
one-line verdict, so a CI step can both publish the file and show the verdict in its log.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from synthwright.errors import ConfigError
from synthwright.files import refuse_writing_over_inputs, write_text_file
from synthwright.pipelines.cli.app import (
    DelimiterOption,
    EncodingOption,
    NaOption,
    StripOption,
    app,
    read_options,
)


@app.command()
def check(
    data: Path | None = typer.Argument(
        None, metavar="DATA", help="CSV, Parquet or JSON Lines file to check (or use --version)"
    ),
    contract_file: Path | None = typer.Option(None, "--contract", help="contract YAML (required with DATA)"),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="a file the data should resemble: adds drift checks against it"
    ),
    report_format: str = typer.Option(
        "text", "--format", help="report format: text, json, junit or markdown"
    ),
    out_file: Path | None = typer.Option(
        None, "--out", help="write the report here (stdout then gets the one-line verdict)"
    ),
    version: str | None = typer.Option(
        None, "--version", metavar="DATASET@vN", help="re-verify a published version instead of DATA"
    ),
    root: Path = typer.Option(Path("outputs"), "--root", help="output root of the store (with --version)"),
    shape_error_max: float | None = typer.Option(
        None, "--shape-error-max", help="overall column-shape error vs the baseline, percent (default 10)"
    ),
    trend_error_max: float | None = typer.Option(
        None,
        "--trend-error-max",
        help="overall column-pair-trend error vs the baseline, percent (default 15)",
    ),
    column_shape_error_max: float | None = typer.Option(
        None,
        "--column-shape-error-max",
        help="any one column's shape error vs the baseline, percent (default 20)",
    ),
    na: list[str] = NaOption,
    strip: bool = StripOption,
    input_format: str = typer.Option(
        "auto", "--input-format", help="format of DATA and --baseline: auto, csv, parquet or jsonl"
    ),
    delimiter: str | None = DelimiterOption,
    encoding: str = EncodingOption,
) -> None:
    """Gate data in CI: DATA against its contract (and drift from --baseline), or a published version
    (--version DATASET@vN) against its manifest. Exit 0 pass, 1 fail, 2 bad input.

    The drift flags override the contract's `drift:` section, which overrides the defaults."""
    from synthwright.pipelines.check import check_data, check_version
    from synthwright.pipelines.check_formats import formatter, verdict

    to_report = formatter(report_format)
    thresholds = {
        "shape_error_max": shape_error_max,
        "trend_error_max": trend_error_max,
        "column_shape_error_max": column_shape_error_max,
    }
    _validate_usage(data, version, contract_file, baseline, any(v is not None for v in thresholds.values()))
    refuse_writing_over_inputs(
        {"DATA": data, "--contract": contract_file, "--baseline": baseline},
        {"--out": out_file},
    )
    if version is not None:
        outcome = check_version(version, root)
    else:
        assert data is not None and contract_file is not None  # _validate_usage made sure
        options = read_options(na, strip, input_format, delimiter, encoding)
        outcome = check_data(data, contract_file, baseline, thresholds=thresholds, options=options)
    report = to_report(outcome)
    if out_file is None:
        sys.stdout.write(report)
    else:
        write_text_file(out_file, report, "the report")
        sys.stdout.write(f"{verdict(outcome)}\nreport: {out_file}\n")
    if not outcome.passed:
        raise typer.Exit(1)


def _validate_usage(
    data: Path | None, version: str | None, contract_file: Path | None, baseline: Path | None, drift: bool
) -> None:
    """Exactly one subject; the options that belong to it and no others."""
    if data is not None and version is not None:
        raise ConfigError(
            "give DATA or --version, not both",
            hint="check a file with `check DATA --contract FILE`, or a version with `check --version D@vN`",
        )
    if data is None and version is None:
        raise ConfigError(
            "nothing to check", hint="give a DATA file (with --contract FILE), or --version DATASET@vN"
        )
    if version is not None and (contract_file or baseline or drift):
        raise ConfigError(
            "--version checks a published version against its own manifest and contract",
            hint="leave out --contract, --baseline and the drift thresholds with --version",
        )
    if data is not None and contract_file is None:
        raise ConfigError(
            f"--contract is required to check {data}",
            hint=f"write a first one with `synthwright contract infer {data} --out contract.yaml`, review it",
        )
