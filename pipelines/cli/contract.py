"""`synthwright contract infer|check`: a first contract from data, and data checked against its contract."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from synthwright.pipelines.cli.app import (
    DelimiterOption,
    EncodingOption,
    FormatOption,
    NaOption,
    StripOption,
    contract_app,
    err,
    out,
    print_json,
    read_options,
)


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
    from synthwright.data_contracts.io import dump_contract
    from synthwright.files import refuse_writing_over_inputs
    from synthwright.pipelines.ingest import ingest

    refuse_writing_over_inputs({"DATA": data}, {"--out": out_file})
    result = ingest(data, read_options(na, strip, fmt, delimiter, encoding))
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
    from synthwright.data_contracts.io import load_contract
    from synthwright.files import refuse_writing_over_inputs
    from synthwright.pipelines.ingest import ingest
    from synthwright.validators.contract import validate_contract

    refuse_writing_over_inputs({"DATA": data, "--contract": contract_file}, {"--junit": junit})
    contract = load_contract(contract_file)
    result = ingest(data, read_options(na, strip, fmt, delimiter, encoding), contract)
    report = validate_contract(result.frame, contract, source=str(data), parse_failures=result.parse_failures)
    if junit is not None:
        from synthwright.files import write_text_file

        write_text_file(junit, report.to_junit(), "the JUnit report")
    if as_json:
        print_json(report.to_dict())
    elif report.passed:
        out.print(f"[green]✓[/] {report.summary()}")
    else:
        out.print(f"[red]✗[/] {report.summary()}")
    if not report.passed:
        raise typer.Exit(1)
