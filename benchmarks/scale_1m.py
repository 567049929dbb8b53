"""The pipeline at scale: `synthwright run` on a generated 1,000,000-row × 20-column mixed-type table.

The table is made here, seeded: integers, floats, categoricals (one with 1,000 categories, Zipf-like
shares), booleans, a date and a timestamp (with the rule `signup_date <= last_seen`), two nullable
columns and an integer identifier (the primary key); a few columns depend on others, so a generator has
relations to learn and the validators something to find. It is written as Parquet in row groups of
`BATCH_ROWS`, one batch at a time, into a temporary folder, beside a matching contract
(`synthwright.data_contracts.io.save_contract`) and a spec: no generator named (the default generator, our
diffusion model with its training sized to its default time budget; `--generator copula` for the
seconds-fast baseline), `sample.rows` as many as the source, cache off, target `churned`, gates off (time
and memory are measured here; the scorecard's figures are printed).

Then `synthwright run SPEC --json` runs in a new process, as a user runs it (embedded Prefect). Measured:
wall seconds; peak RSS of the `synthwright` process itself (wait4) and of its process tree summed
(sampled from /proc every 0.25 s, `ctgan_vs_sdv.TreeMemory`: Prefect's embedded server is a child
process); the per-step seconds the run reports; the evaluation's own split (contract, fidelity, detection,
privacy, utility); and the rows each validator actually scored (several work on a seeded sample above a
cap, and say so). Prints a small table, then one JSON line.

The targets: with the default generator, under 15 minutes and 8 GiB on 2 cores at 1,000,000 rows (the
time budget sizes the training, sampling runs in batches, the evaluation scores capped samples); with the
copula, under 10 minutes.

    .venv/bin/python benchmarks/scale_1m.py [--rows 1000000] [--seed 0] [--generator copula] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from synthwright.data_contracts.arrow import arrow_schema
from synthwright.data_contracts.io import save_contract
from synthwright.data_contracts.model import Column, ColumnKind, Contract, RowBounds, Rule

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ctgan_vs_sdv import run_measured  # noqa: E402 — the benchmarks' shared process measurement

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("synthwright")
BATCH_ROWS = 100_000
"""Rows generated, and written as one Parquet row group, at a time."""
TARGET_SECONDS = {"default": 900, "copula": 600}
TARGET_RSS_MIB = 8 * 1024
CITIES = 1_000
REGIONS = ["north", "south", "east", "west", "central", "coast", "mountain", "islands"]
SEGMENTS = ["consumer", "small-business", "enterprise", "public"]
PRODUCTS = [f"product-{i:02d}" for i in range(12)]
CHANNELS = ["web", "app", "phone", "store", "partner"]
PLANS = ["basic", "plus", "premium"]
START = np.datetime64("2015-01-01")
DAYS = 3_650
LATEST = np.datetime64("2025-12-31T23:59:59")


def contract() -> Contract:
    """The table's contract: what the generated data promises, and the pipeline checks."""
    cities = [f"city-{i:04d}" for i in range(CITIES)]
    columns = [
        Column(name="customer_id", kind=ColumnKind.IDENTIFIER, id_type="integer", unique=True),
        Column(name="age", kind=ColumnKind.INTEGER, min=18, max=90),
        Column(name="income", kind=ColumnKind.FLOAT, min=0.0, max=1_000_000.0),
        Column(name="credit_score", kind=ColumnKind.FLOAT, min=300.0, max=850.0),
        Column(name="balance", kind=ColumnKind.FLOAT, nullable=True, min=0.0, max=1_000_000.0),
        Column(name="visits", kind=ColumnKind.INTEGER, min=0, max=200),
        Column(name="tenure_months", kind=ColumnKind.INTEGER, min=0, max=240),
        Column(name="rating", kind=ColumnKind.INTEGER, nullable=True, min=1, max=5),
        Column(name="discount", kind=ColumnKind.FLOAT, min=0.0, max=1.0),
        Column(name="region", kind=ColumnKind.CATEGORICAL, values=REGIONS),
        Column(name="segment", kind=ColumnKind.CATEGORICAL, values=SEGMENTS),
        Column(name="product", kind=ColumnKind.CATEGORICAL, values=PRODUCTS),
        Column(name="city", kind=ColumnKind.CATEGORICAL, values=cities),
        Column(name="channel", kind=ColumnKind.CATEGORICAL, nullable=True, values=CHANNELS),
        Column(name="plan", kind=ColumnKind.CATEGORICAL, values=PLANS),
        Column(name="is_active", kind=ColumnKind.BOOLEAN),
        Column(name="has_card", kind=ColumnKind.BOOLEAN),
        Column(name="churned", kind=ColumnKind.BOOLEAN, description="the classification target"),
        Column(name="signup_date", kind=ColumnKind.DATETIME, format="%Y-%m-%d"),
        Column(name="last_seen", kind=ColumnKind.DATETIME),
    ]
    return Contract(
        dataset="scale",
        description="generated by benchmarks/scale_1m.py",
        primary_key="customer_id",
        rows=RowBounds(min=1000),
        columns=columns,
        rules=[Rule.model_validate("signup_date <= last_seen")],
    )


def batch(rng: np.random.Generator, start: int, rows: int, schema: pa.Schema) -> pa.Table:
    """`rows` rows of the table, ids from `start`; related columns are drawn from each other."""
    age = np.clip(np.round(rng.normal(42, 13, rows)), 18, 90).astype("int64")
    segment = rng.choice(len(SEGMENTS), rows, p=[0.6, 0.25, 0.1, 0.05])
    income = np.clip(np.exp(rng.normal(10.2 + 0.012 * (age - 42) + 0.35 * segment, 0.5)), 0, 1e6)
    credit = np.clip(
        580 + 2.2 * (age - 42) + 60 * np.log(income / 27_000) + rng.normal(0, 60, rows), 300, 850
    )
    balance = np.clip(income * rng.gamma(2.0, 0.15, rows), 0, 1e6)
    balance_null = rng.random(rows) < 0.08
    tenure = np.clip(rng.gamma(2.0, 24, rows), 0, 240).astype("int64")
    visits = np.clip(rng.poisson(3 + tenure / 12), 0, 200).astype("int64")
    rating = rng.choice(5, rows, p=[0.05, 0.1, 0.25, 0.35, 0.25]) + 1
    rating_null = rng.random(rows) < 0.2
    plan = np.minimum((income > 40_000).astype(int) + (rng.random(rows) < 0.3), 2)
    discount = np.clip(rng.beta(2, 8, rows) + 0.1 * (plan == 0), 0, 1)
    region = rng.choice(len(REGIONS), rows)
    product = rng.choice(len(PRODUCTS), rows, p=np.arange(12, 0, -1) / 78)
    zipf = 1 / np.arange(1, CITIES + 1) ** 0.8
    city = rng.choice(CITIES, rows, p=zipf / zipf.sum())
    channel = rng.choice(len(CHANNELS), rows, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    channel_null = rng.random(rows) < 0.05
    has_card = rng.random(rows) < 0.3 + 0.1 * segment
    active = rng.random(rows) < 0.4 + visits / (visits + 10) * 0.5
    churn_logit = -1.0 - 0.04 * tenure / 12 - 1.2 * active + 0.4 * (plan == 0) + (rating < 3) * 0.8
    churned = rng.random(rows) < 1 / (1 + np.exp(-churn_logit))
    signup = START + rng.integers(0, DAYS, rows).astype("timedelta64[D]")
    seen_offset = (rng.exponential(200 * 86_400, rows) + rng.integers(0, 86_400, rows)).astype("int64")
    last_seen = np.minimum(signup.astype("datetime64[s]") + seen_offset.astype("timedelta64[s]"), LATEST)
    labels = {
        "region": np.array(REGIONS),
        "segment": np.array(SEGMENTS),
        "product": np.array(PRODUCTS),
        "city": np.array([f"city-{i:04d}" for i in range(CITIES)]),
        "channel": np.array(CHANNELS),
        "plan": np.array(PLANS),
    }
    values = {
        "customer_id": pa.array(np.arange(start + 1, start + rows + 1, dtype="int64")),
        "age": pa.array(age),
        "income": pa.array(np.round(income, 2)),
        "credit_score": pa.array(np.round(credit, 1)),
        "balance": pa.array(np.round(balance, 2), mask=balance_null),
        "visits": pa.array(visits),
        "tenure_months": pa.array(tenure),
        "rating": pa.array(rating.astype("int64"), mask=rating_null),
        "discount": pa.array(np.round(discount, 4)),
        "region": pa.array(labels["region"][region]),
        "segment": pa.array(labels["segment"][segment]),
        "product": pa.array(labels["product"][product]),
        "city": pa.array(labels["city"][city]),
        "channel": pa.array(labels["channel"][channel], mask=channel_null),
        "plan": pa.array(labels["plan"][plan]),
        "is_active": pa.array(active),
        "has_card": pa.array(has_card),
        "churned": pa.array(churned),
        "signup_date": pa.array(signup.astype("datetime64[D]"), type=pa.date32()),
        "last_seen": pa.array(last_seen.astype("datetime64[us]"), type=pa.timestamp("us")),
    }
    return pa.Table.from_arrays([values[f.name] for f in schema], schema=schema)


def write_source(folder: Path, rows: int, seed: int) -> tuple[Path, Path, float]:
    """The table as Parquet (one row group per batch) and its contract; returns both paths and seconds."""
    started = time.perf_counter()
    table_contract = contract()
    contract_path = folder / "contract.yaml"
    save_contract(table_contract, contract_path)
    schema = arrow_schema(table_contract)
    data_path = folder / "scale.parquet"
    with pq.ParquetWriter(data_path, schema, compression="zstd") as writer:
        for index, start in enumerate(range(0, rows, BATCH_ROWS)):
            rng = np.random.default_rng([seed, index])
            writer.write_table(batch(rng, start, min(BATCH_ROWS, rows - start), schema))
    return data_path, contract_path, time.perf_counter() - started


def write_spec(
    folder: Path, data_path: Path, contract_path: Path, rows: int, seed: int, generator: str | None
) -> Path:
    spec = {
        "dataset": "scale",
        "source": {"path": str(data_path)},
        "contract": str(contract_path),
        "target": "churned",
        "seed": seed,
        "split": {"holdout": 0.2},
        **({"generator": {"name": generator}} if generator else {}),
        "sample": {"rows": rows},
        # Measured here for time and memory, not held to the gates.
        "gates": {name: None for name in GATES},
        "cache": {"enabled": False},
        "output": {"root": str(folder / "out")},
    }
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


GATES = (
    "shape_error_max",
    "trend_error_max",
    "detection_auc_max",
    "dcr_share_max",
    "exact_match_excess_max",
    "mia_auc_max",
    "utility_gap_max",
)


def run_pipeline(spec: Path, folder: Path) -> dict:
    command = [str(CLI), "run", str(spec), "--json"]
    with open(folder / "stdout.json", "wb") as out, open(folder / "run.log", "wb") as log:
        measured = run_measured(command, stdout=out, stderr=log)
    wall, usage, exit_code = measured.wall_seconds, measured.usage, measured.exit_code
    if exit_code != 0:
        sys.stderr.write((folder / "run.log").read_text()[-6000:])
        raise SystemExit(f"synthwright run failed with exit code {exit_code}")
    result = json.loads((folder / "stdout.json").read_text())
    version = Path(result["version_dir"])
    manifest = json.loads((version / "manifest.json").read_text())
    parts = [
        [f["name"], f["rows"], pq.ParquetFile(version / f["name"]).num_row_groups] for f in manifest["files"]
    ]
    return {
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_rss_mib": round(measured.peak_tree_kib / 1024, 1),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1),
        "result": result,
        "manifest": manifest,
        "parts": parts,
    }


def scored_rows(evaluation: dict) -> dict:
    """The rows each validator actually looked at (a cap samples them down; the evaluation says so)."""
    rows = evaluation["rows"]
    fidelity = evaluation["fidelity"].get("rows") or {"real": rows["train"], "synthetic": rows["synthetic"]}
    # older evaluations record no rows for fidelity or utility: then every row was scored
    return {
        "contract": evaluation["contract"]["rows"],
        "fidelity": fidelity,
        "reference_fidelity": evaluation["reference_fidelity"].get("rows"),
        "detection": {"per_side": evaluation["detection"]["rows_per_side"]},
        "privacy": evaluation["privacy"]["rows"],
        "utility": (evaluation.get("utility") or {}).get("rows"),
    }


def _rows(counts: dict | int | None) -> str:
    if counts is None:
        return "—"
    if isinstance(counts, int):
        return f"{counts:,}"
    return ", ".join(f"{k} {v:,}" for k, v in counts.items() if not isinstance(v, bool))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the generated table")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (data, spec, output)")
    parser.add_argument("--generator", help="a generator to name in the spec (default: none, the default)")
    args = parser.parse_args()
    target_seconds = TARGET_SECONDS.get(args.generator or "default", TARGET_SECONDS["default"])
    folder = Path(tempfile.mkdtemp(prefix="synthwright-scale-"))
    try:
        data_path, contract_path, generate_seconds = write_source(folder, args.rows, args.seed)
        source_mib = round(data_path.stat().st_size / 2**20, 1)
        spec = write_spec(folder, data_path, contract_path, args.rows, args.seed, args.generator)
        load_before = os.getloadavg()
        run = run_pipeline(spec, folder)
        load_after = os.getloadavg()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    result, manifest = run["result"], run["manifest"]
    evaluation = manifest["evaluation"]
    timings = {step: round(seconds, 1) for step, seconds in result["timings"].items()}
    figures = {m["name"]: m["value"] for m in result["scorecard"]["metrics"]}
    max_fit = manifest["generator"]["config"].get("max_fit_rows")
    name = manifest["generator"]["name"]
    record = {
        "benchmark": "scale_1m",
        "command": f"synthwright run spec.yaml --json ({name}, sample.rows {args.rows:,}, cache off)",
        "generator": name,
        "training": manifest["generator"].get("training"),
        "rows": args.rows,
        "columns": len(contract().columns),
        "source_parquet_mib": source_mib,
        "generate_seconds": round(generate_seconds, 1),
        "wall_seconds": run["wall_seconds"],
        "peak_rss_mib": run["peak_rss_mib"],
        "peak_tree_rss_mib": run["peak_tree_rss_mib"],
        "cpu_seconds": run["cpu_seconds"],
        "timings": timings,
        "evaluate_seconds": evaluation.get("seconds"),
        "scored_rows": scored_rows(evaluation),
        "published_rows": result["rows"],
        "parts_rows_row_groups": run["parts"],
        "fit_rows": min(manifest["split"]["train_rows"], max_fit or manifest["split"]["train_rows"]),
        "figures": figures,
        "target_seconds": target_seconds,
        "target_met": run["wall_seconds"] < target_seconds and run["peak_tree_rss_mib"] < TARGET_RSS_MIB,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": dt.date.today().isoformat(),
    }
    tree, own = run["peak_tree_rss_mib"], run["peak_rss_mib"]
    print(f"synthwright run on {args.rows:,} rows × {record['columns']} columns ({name}, cache off)")
    print(f"  {'wall':<32}{run['wall_seconds']:>10,.1f} s   (target < {target_seconds} s)")
    print(f"  {'peak RSS, process tree':<32}{tree:>10,.0f} MiB (target < {TARGET_RSS_MIB:,})")
    print(f"  {'peak RSS, synthwright':<32}{own:>10,.0f} MiB")
    for step, seconds in timings.items():
        print(f"  step {step:<27}{seconds:>10,.1f} s")
    scored = record["scored_rows"]
    for part, seconds in (evaluation.get("seconds") or {}).items():
        print(f"    evaluate: {part:<20}{seconds:>10,.1f} s   rows scored: {_rows(scored.get(part))}")
    train_rows = manifest["split"]["train_rows"]
    print(f"  {name} fitted on {record['fit_rows']:,} of {train_rows:,} train rows")
    print(json.dumps(record, default=str))


if __name__ == "__main__":
    main()
