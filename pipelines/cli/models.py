"""`synthwright generators|fit|sample`: the generators, a model fitted on a file, rows sampled from it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from synthwright.data_contracts.model import RARE_MIN_ROWS
from synthwright.errors import UserInputError
from synthwright.files import refuse_writing_over_inputs
from synthwright.generators.registry import DEFAULT_GENERATOR
from synthwright.limits import SEED_MAX
from synthwright.pipelines.cli.app import (
    DelimiterOption,
    EncodingOption,
    FormatOption,
    NaOption,
    StripOption,
    app,
    log_to_stderr,
    out,
    print_json,
    read_options,
    require_folder_can_exist,
    wrapping_table,
)


@app.command()
def generators(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """List the generators, what each is for, and its config keys with defaults."""
    from synthwright.generators.registry import generator_class, generator_names

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
        print_json(rows)
        return
    listing = wrapping_table("name", "what it is", "wraps", "GPU", "config (defaults)")
    for row in rows:
        knobs = ", ".join(f"{k}={v!r}" for k, v in row["config"].items()) or "—"
        origin = row["wraps"] or (
            f"— (our own, on {row['builds_on']})" if row["builds_on"] else "— (our own)"
        )
        gpu = "yes" if row["benefits_from_gpu"] else "—"
        listing.add_row(row["name"], row["summary"], origin, gpu, knobs)
    out.print(listing)


@app.command()
def fit(
    data: Path = typer.Argument(..., help="training data: CSV, Parquet or JSON Lines"),
    generator: str = typer.Option(
        DEFAULT_GENERATOR,
        "--generator",
        "-g",
        help="generator name (see `synthwright generators`); the default trains for about "
        "three minutes on CPU (`--config max_minutes=M` changes it)",
    ),
    model_dir: Path = typer.Option(..., "--out", help="folder to save the fitted model in"),
    contract_file: Path | None = typer.Option(None, "--contract", help="contract YAML (default: inferred)"),
    seed: int = typer.Option(0, "--seed", min=0, max=SEED_MAX, help=f"random seed, 0 … {SEED_MAX}"),
    config: list[str] = typer.Option(
        [], "--config", metavar="KEY=VALUE", help="generator config (repeatable)"
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda"),
    rare_min_rows: int = typer.Option(
        RARE_MIN_ROWS,
        "--rare-min-rows",
        min=1,
        help="a category or text held by fewer training rows is never sampled verbatim, and numbers "
        "are clipped to the k-th smallest/largest value; 1 turns it off (a column's `rare` entry "
        "in the contract wins)",
    ),
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
    from synthwright.data_contracts.io import load_contract
    from synthwright.data_contracts.model import RareValues
    from synthwright.generators.base import parse_device
    from synthwright.pipelines.ingest import ingest
    from synthwright.pipelines.progress import progress_display
    from synthwright.pipelines.spec import GeneratorSpec, parse_override
    from synthwright.pipelines.steps import Contender, fit_model, validate_input

    require_folder_can_exist(model_dir, "--out")
    refuse_writing_over_inputs({"DATA": data, "--contract": contract_file}, {}, {"--out": model_dir})
    log_to_stderr()
    generator_config: dict[str, Any] = {}
    for item in config:
        key, value = parse_override(item, option="--config")
        generator_config[key] = value
    contender = Contender.of(
        GeneratorSpec(name=generator, config=generator_config, device=parse_device(device))
    )
    contract = load_contract(contract_file) if contract_file else None
    result = ingest(data, read_options(na, strip, fmt, delimiter, encoding), contract)
    validate_input(result.frame, result.contract, str(data), result.parse_failures)
    started = time.perf_counter()
    with progress_display(bar=False if as_json else None) as progress:
        model = fit_model(
            contender,
            seed,
            result.frame,
            result.contract,
            model_dir,
            progress,
            rare_values=RareValues(min_rows=rare_min_rows),
        )
    seconds = time.perf_counter() - started
    training = model.training_summary()
    if as_json:
        print_json(
            {
                "generator": generator,
                "rows": len(result.frame),
                "model_dir": str(model_dir),
                "seconds": round(seconds, 3),
                "training": training,
            }
        )
        return
    out.print(f"fitted {generator} on {len(result.frame):,} rows in {seconds:.1f}s → {model_dir}")
    if training and training.get("stopped_early"):
        out.print(
            f"the time budget ({training['budget_minutes']:g} min of training) fitted "
            f"{training['epochs_completed']} of {training['epochs_requested']} epochs"
        )


@app.command()
def sample(
    model_dir: Path = typer.Argument(..., help="folder written by `synthwright fit`"),
    rows: int | None = typer.Option(
        None, "--rows", "-n", min=0, help="number of rows (default with --conditions: one per condition row)"
    ),
    out_file: Path = typer.Option(..., "--out", help="output file: .parquet, .csv or .jsonl"),
    seed: int | None = typer.Option(
        None, "--seed", min=0, max=SEED_MAX, help=f"random seed, 0 … {SEED_MAX} (default: the fit's seed)"
    ),
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

    from synthwright.errors import ConfigError
    from synthwright.generators.base import Generator
    from synthwright.pipelines.frames import write_frame

    is_model = (model_dir / "generator.json").is_file()  # a new file beside a model's would change it
    refuse_writing_over_inputs(
        {"MODEL_DIR": model_dir if is_model else None, "--conditions": conditions_file}, {"--out": out_file}
    )
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
        from synthwright.pipelines.ingest import ReadOptions, read_raw

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
        print_json({"rows": len(frame), "out": str(out_file), "seconds": round(seconds, 3)})
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
