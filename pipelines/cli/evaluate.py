"""`synthwright evaluate`: synthetic rows judged against real ones, outside any pipeline."""

from __future__ import annotations

from pathlib import Path

import typer

from synthwright.files import refuse_writing_over_inputs
from synthwright.limits import SEED_MAX
from synthwright.pipelines.cli.app import (
    DelimiterOption,
    EncodingOption,
    FormatOption,
    NaOption,
    StripOption,
    app,
    err,
    log_to_stderr,
    out,
    print_json,
    print_scorecard,
    read_options,
)


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
    seed: int = typer.Option(
        0, "--seed", min=0, max=SEED_MAX, help="seed of the samples and models inside the tests"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the whole evaluation as JSON"),
    na: list[str] = NaOption,
    strip: bool = StripOption,
    fmt: str = FormatOption,
    delimiter: str | None = DelimiterOption,
    encoding: str = EncodingOption,
) -> None:
    """Judge synthetic rows against real ones: exit 0 when every gate passes, 1 when any fails."""
    from synthwright.config_io import validate_model
    from synthwright.data_contracts.io import load_contract
    from synthwright.errors import ConfigError
    from synthwright.pipelines.ingest import ingest
    from synthwright.pipelines.spec import parse_override
    from synthwright.pipelines.steps import score_sample
    from synthwright.validators.gates import Gates

    if task not in (None, "classification", "regression"):
        raise ConfigError(
            f"--task must be classification or regression, not {task!r}",
            hint="or leave --task out: it follows the target's kind",
        )
    if task and not target:
        raise ConfigError("--task needs --target", hint="name the column to predict with --target")
    refuse_writing_over_inputs(
        {
            "--train": train_file,
            "--holdout": holdout_file,
            "--synthetic": synthetic_file,
            "--contract": contract_file,
        },
        {"--report": report},
    )
    log_to_stderr()  # one line per measured part: the whole takes ~25 s on Adult
    thresholds = dict(parse_override(item, option="--gate") for item in gate)
    gates = validate_model(Gates, thresholds, "--gate", hint="see README.md, 'Gates', for every gate")
    options = read_options(na, strip, fmt, delimiter, encoding)
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
    evaluation = score_sample(
        train.frame,
        holdout.frame,
        synthetic.frame,
        contract,
        gates=gates,
        target=target,
        task=task,
        seed=seed,
        report=report,
        title=f"{synthetic_file.name}: synthetic data report",
        details={"train": str(train_file), "holdout": str(holdout_file), "synthetic": str(synthetic_file)},
        parse_failures=synthetic.parse_failures,
    )
    if as_json:
        print_json({**evaluation.to_dict(), "report": str(report)})
    else:
        verdict = "[bold green]passed[/]" if evaluation.passed else "[bold red]rejected[/]"
        out.print(f"{verdict}: {synthetic_file} ({len(synthetic.frame):,} rows)")
        print_scorecard(evaluation.scorecard)
        out.print(f"report: {report}")
    if not evaluation.passed:
        raise typer.Exit(1)
