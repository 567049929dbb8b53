"""The benchmark suite: our generators and their peers on five tables, one protocol, one scorer.

Protocol. Each table (benchmarks/tables.py: adult with its shipped contract; default, shoppers, magic
and beijing with inferred contracts) is read through our ingest and split 80/20 with seed 0
(stratified by the target for classification). The splits are written to `<out>/tables/<table>/` as
train.parquet and holdout.parquet (with the contract as contract.yaml), and every generator reads the
same train.parquet. Each (table, generator) fit runs alone in its own process
(benchmarks/suite_fit.py), one after another: it fits on the training split, samples as many rows as
it trained on, and writes synthetic.parquet and fit.json into `<out>/runs/<table>/<generator>/`. The
suite then scores every synthetic table in this process with the same functions for every generator
(synthwright.validators, as benchmarks/diffusion_adult.py does): peers' rows are only read into the
contract's dtypes first (values that do not parse become missing and are counted in
`unparsed_values`); ours are conformed to the contract by the generators themselves.

Generators (command-line names):
  - ours: copula, tvae, ctgan, diffusion (the default generator at its default preset and default time
    budget: no config), diffusion-best (DIFFUSION_BEST below: a 15-minute fit), llm (defaults); fitted
    with seed 0 and sampled with seed 0, on `--device`;
  - peers, run by `--peer-python` (default: this Python), never importing synthwright: sdv-copula,
    sdv-tvae, sdv-ctgan (SDV's synthesizers at their defaults, metadata detected from the training
    frame) and tabularargn (MOSTLY AI's mostlyai-engine, TabularARGN at its defaults). A peer whose
    library does not import there is skipped, with the package and how to install it.
A fit that fails is reported with its error's last line; one past `--timeout-minutes` is killed and
reported as timed out; the suite goes on either way.

`--quick` is a smoke test, not a benchmark: every table is first cut to a seeded 3,000 rows, and every
generator gets a tiny config (each GENERATORS entry's `quick`: our neural ones the `fast` preset (the
llm one epoch of it) or 2 epochs, SDV's 2 epochs, TabularARGN one epoch or 15 seconds).

Fields, per (table, generator), in results.json (`rows`) and results.md:
  - shape_error, trend_error: SDMetrics' column-shape and column-pair-trend errors (percent, every
    pair scored) of the synthetic rows against the training split;
  - detection_auc: a classifier telling real holdout rows from synthetic ones (0.5 = cannot);
  - tstr, trtr: a fixed gradient-boosting model trained on the synthetic (real) training rows, scored
    on the real holdout: ROC AUC for classification, R² for beijing (`utility_metric` says which);
  - dcr_share: the share of synthetic rows closer to a training row than to a holdout row (0.5 = no
    memorisation);
  - fit_seconds (the fit alone: for TabularARGN split, analyze, encode and train; for SDV metadata
    detection and fit), sample_rows_per_second (the one sampling call, ours with contract conformance),
    peak_rss_mib (the fit process and its largest child, before scoring), process_seconds (the whole
    process: start, imports, fit, sample, writing); the generator's config, library versions and
    training report (epochs completed), and `status`: ok, skipped, failed or timed out (with `reason`).
results.json also holds the machine (platform, CPUs, memory, load average at the start, torch and
Python versions, the code version, the date) and the exact command. results.md has one table per
benchmark table; for Adult it adds the only published figures we have a source for (shape/trend error
from the TabPC paper's (2026) independent re-run of TabSyn, TabDiff and TabPC), and, wherever both ran,
our `diffusion` against `tabularargn` with the targets: lower trend error, lower detection AUC and
higher TSTR than TabularARGN, at ≤ 0.5× its fit time (met / not met).

How long: `--quick` on one table takes a minute or two. A full run is many hours: on 2 CPU cores an
estimated 2–3 hours per table (SDV's CTGAN and TVAE at 300 epochs, TabularARGN with its defaults,
diffusion-best's 15 minutes, the llm and our neural models), so roughly 10–15 hours for all five (an
estimate, not a measurement). Run it on an otherwise idle machine: torch's threads spin-wait under load,
and the fits' wall times are the point.

    .venv/bin/python benchmarks/suite.py [--tables adult default ...] [--generators diffusion tabularargn ...]
        [--quick] [--out FOLDER] [--peer-python /tmp/bench-venv/bin/python] [--timeout-minutes 180]
        [--device auto]
    smoke test:  .venv/bin/python benchmarks/suite.py --quick --tables adult \\
        --peer-python /tmp/bench-venv/bin/python

The bench environment for the peers (mostlyai-engine pins psutil < 6 and cannot join .venv):
    python3.11 -m venv /tmp/bench-venv
    /tmp/bench-venv/bin/pip install torch==2.13.0
    /tmp/bench-venv/bin/pip install mostlyai-engine sdv==2.0.0
    /tmp/bench-venv/bin/pip uninstall -y torchvision torchaudio   # their wheels do not load with torch 2.13
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
from suite_fit import EXIT_MISSING
from tables import TABLES, Table, load, quick_rows, split

from synthwright import code_version
from synthwright.data_contracts.dtypes import parse_frame
from synthwright.data_contracts.io import save_contract
from synthwright.data_contracts.model import Contract
from synthwright.data_contracts.sdv_metadata import modelled
from synthwright.validators.fidelity import detection, fidelity
from synthwright.validators.privacy import privacy
from synthwright.validators.utility import utility

HERE = Path(__file__).resolve().parent
WORKER = HERE / "suite_fit.py"
RESULTS = HERE / "results"
SEED = 0
QUICK_ROWS = 3_000
DIFFUSION_BEST = {"epochs": 3000, "max_minutes": 14, "sampling_steps": 48}
"""diffusion-best: the default preset with a 14-minute training budget (a 15-minute fit on 2 cores), room
for the epochs it allows (the default preset stops at 1,000) and twice the sampling steps."""


@dataclass(frozen=True)
class Generator:
    worker: str
    """suite_fit.py's --generator: our registry name, or the peer's own name."""
    config: dict[str, Any] = field(default_factory=dict)
    quick: dict[str, Any] = field(default_factory=dict)
    peer: bool = False


GENERATORS: dict[str, Generator] = {
    "copula": Generator("copula"),
    "tvae": Generator("tvae", quick={"epochs": 2}),
    "ctgan": Generator("ctgan", quick={"epochs": 2}),
    "diffusion": Generator("diffusion", quick={"preset": "fast"}),
    "diffusion-best": Generator("diffusion", DIFFUSION_BEST, quick={"preset": "fast", "max_minutes": 0.5}),
    "llm": Generator("llm", quick={"preset": "fast", "epochs": 1}),
    "sdv-copula": Generator("sdv-copula", peer=True),
    "sdv-tvae": Generator("sdv-tvae", quick={"epochs": 2}, peer=True),
    "sdv-ctgan": Generator("sdv-ctgan", quick={"epochs": 2}, peer=True),
    "tabularargn": Generator("tabularargn", quick={"max_epochs": 1, "max_training_time": 0.25}, peer=True),
}
INSTALL = {
    "sdv": "{python} -m pip install sdv==2.0.0",
    "mostlyai-engine": "it needs a virtualenv of its own (it pins psutil<6, which constraints.txt does not "
    "allow): python3.11 -m venv /tmp/bench-venv && /tmp/bench-venv/bin/pip install torch==2.13.0 && "
    "/tmp/bench-venv/bin/pip install mostlyai-engine sdv==2.0.0 && /tmp/bench-venv/bin/pip uninstall -y "
    "torchvision torchaudio, then pass --peer-python /tmp/bench-venv/bin/python",
}
PUBLISHED = {
    "adult": {
        "source": "the TabPC paper (2026), its independent re-run of each model on Adult; "
        "shape and trend error in percent",
        "rows": {"TabSyn": (0.79, 2.05), "TabDiff": (0.68, 1.54), "TabPC": (0.58, 1.44)},
    }
}
TARGET_FIT_RATIO = 0.5
"""Ours (`diffusion`) against TabularARGN: fit wall time at most this share of TabularARGN's."""


# ---- the splits -----------------------------------------------------------------------------------


@dataclass
class Prepared:
    table: Table
    train: pd.DataFrame
    holdout: pd.DataFrame
    contract: Contract
    folder: Path

    @property
    def train_path(self) -> Path:
        return self.folder / "train.parquet"

    @property
    def contract_path(self) -> Path:
        return self.folder / "contract.yaml"


def prepare(table: Table, quick: bool, out: Path) -> Prepared:
    frame, contract = load(table)
    if quick:
        frame = quick_rows(frame, QUICK_ROWS)
    train, holdout = split(frame, table)
    folder = out / "tables" / table.name
    folder.mkdir(parents=True, exist_ok=True)
    train.to_parquet(folder / "train.parquet", index=False)
    holdout.to_parquet(folder / "holdout.parquet", index=False)
    save_contract(contract, folder / "contract.yaml")
    return Prepared(table, train, holdout, contract, folder)


# ---- one fit, in its own process ------------------------------------------------------------------


def run_fit(name: str, prepared: Prepared, args, missing: dict[tuple[str, str], str]) -> dict:
    """Start the worker, wait for it (killed past the timeout), and read what it wrote."""
    generator = GENERATORS[name]
    python = args.peer_python if generator.peer else sys.executable
    config = generator.quick if args.quick else generator.config
    if name == "tabularargn" and args.peer_max_minutes is not None:
        config = {**config, "max_training_time": args.peer_max_minutes}  # no longer its defaults
    folder = args.out / "runs" / prepared.table.name / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fit.json").unlink(missing_ok=True)
    known = next((reason for (py, gen), reason in missing.items() if py == python and gen == name), None)
    if known is not None:
        return {"status": "skipped", "reason": known}
    command = [
        python,
        str(WORKER),
        "--generator",
        generator.worker,
        "--train",
        str(prepared.train_path.resolve()),
        "--out",
        str(folder.resolve()),
        "--config",
        json.dumps(config),
        "--seed",
        str(SEED),
    ]
    if generator.peer:
        if prepared.contract.primary_key:
            command += ["--primary-key", prepared.contract.primary_key]
    else:
        command += ["--contract", str(prepared.contract_path.resolve()), "--device", args.device]
    started = time.perf_counter()
    with open(folder / "stdout.log", "wb") as out, open(folder / "stderr.log", "wb") as err:
        try:
            process = subprocess.Popen(command, cwd=folder, stdout=out, stderr=err, start_new_session=True)
        except OSError as error:  # e.g. a --peer-python that does not exist
            reason = f"cannot start: {error}"
            return {"config": config, "python": python, "status": "failed", "reason": reason}
        try:
            code = process.wait(timeout=args.timeout_minutes * 60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the worker and its children
            process.wait()
            code = None
    seconds = round(time.perf_counter() - started, 1)
    record: dict[str, Any] = {"config": config, "python": python, "process_seconds": seconds}
    if code is None:
        return {**record, "status": "timed out", "reason": f"killed after {args.timeout_minutes:g} minutes"}
    written = json.loads((folder / "fit.json").read_text()) if (folder / "fit.json").exists() else {}
    if code == EXIT_MISSING and written.get("status") == "skipped":
        package = written["package"]
        how = INSTALL[package].format(python=python)
        reason = f"{package} does not import in {python} ({written['reason']}); to install: {how}"
        missing[(python, name)] = reason
        return {**record, "status": "skipped", "reason": reason}
    if code != 0:
        return {**record, "status": "failed", "reason": last_line(folder / "stderr.log", code)}
    written["worker"] = written.pop("generator", generator.worker)  # the row keeps the suite's name
    return {**record, **written, "config": written.get("config", config)}


def last_line(log: Path, code: int) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {code}, nothing on stderr"


# ---- scoring: one scorer for every generator ------------------------------------------------------


def read_synthetic(path: Path, contract: Contract) -> tuple[pd.DataFrame, dict[str, int]]:
    """The synthetic rows in the contract's dtypes, and the values per scored column that did not parse. A
    column the scorer skips (an identifier, personal data) that a peer left out is filled with nulls."""
    synthetic = pd.read_parquet(path)
    absent = [c for c in contract.columns if c.name not in synthetic.columns]
    scored = [c.name for c in absent if modelled(c)]
    if scored:
        raise ValueError(f"the synthetic table lacks scored columns {scored}")
    for column in absent:
        synthetic[column.name] = pd.NA
    frame, parsed = parse_frame(synthetic, contract)
    scored = {c.name for c in contract.columns if modelled(c)}  # a peer's own key format is no error
    return frame, {name: p.bad_count for name, p in parsed.items() if p.bad_count and name in scored}


def score(prepared: Prepared, synthetic: pd.DataFrame) -> dict:
    train, holdout, contract = prepared.train, prepared.holdout, prepared.contract
    shapes = fidelity(train, synthetic, contract, seed=SEED)
    useful = utility(train, holdout, synthetic, contract, prepared.table.target, seed=SEED)
    return {
        "shape_error": shapes.shape_error,
        "trend_error": shapes.trend_error,
        "detection_auc": detection(holdout, synthetic, contract, seed=SEED, per_column=False).auc,
        "utility_metric": useful.headline,
        "tstr": useful.synthetic[useful.headline],
        "trtr": useful.real[useful.headline],
        "dcr_share": privacy(train, holdout, synthetic, contract, seed=SEED).dcr_share,
        "worst_columns": dict(sorted(shapes.column_errors.items(), key=lambda kv: -kv[1])[:4]),
    }


# ---- the report -----------------------------------------------------------------------------------


def machine() -> dict:
    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    memory = None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total = next((line for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")), "")
        memory = round(int(total.split()[1]) / 1024**2, 1) if total else None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "node": platform.node(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": memory,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "torch": installed("torch"),
        "sdv": installed("sdv"),
        "synthwright": code_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def comparisons(rows: list[dict]) -> dict[str, dict]:
    """Per table where both ran: our `diffusion` against `tabularargn`, with the targets."""
    found: dict[str, dict] = {}
    for table in dict.fromkeys(r["table"] for r in rows):
        by = {r["generator"]: r for r in rows if r["table"] == table and r["status"] == "ok"}
        ours, theirs = by.get("diffusion"), by.get("tabularargn")
        if not ours or not theirs:
            continue
        checks = {
            "trend_error": ("lower", ours["trend_error"] < theirs["trend_error"]),
            "detection_auc": ("lower", ours["detection_auc"] < theirs["detection_auc"]),
            "tstr": ("higher", ours["tstr"] > theirs["tstr"]),
            "fit_seconds": (
                f"≤ {TARGET_FIT_RATIO}×",
                ours["fit_seconds"] <= TARGET_FIT_RATIO * theirs["fit_seconds"],
            ),
        }
        found[table] = {
            key: {
                "ours": ours[key],
                "tabularargn": theirs[key],
                "ratio": round(ours[key] / theirs[key], 3) if theirs[key] else None,
                "target": target,
                "met": bool(met),
            }
            for key, (target, met) in checks.items()
        }
    return found


def _cell(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


COLUMNS = (
    ("shape %", "shape_error", 2),
    ("trend %", "trend_error", 2),
    ("detection AUC", "detection_auc", 3),
    ("TSTR", "tstr", 3),
    ("TRTR", "trtr", 3),
    ("DCR share", "dcr_share", 3),
    ("fit s", "fit_seconds", 1),
    ("rows/s", "sample_rows_per_second", 0),
    ("peak RSS MiB", "peak_rss_mib", 0),
)


def markdown(results: dict) -> str:
    lines = [
        f"# Benchmark suite{' (--quick: a smoke test, not figures to quote)' if results['quick'] else ''}",
        "",
        f"`{results['command']}`",
        "",
        "Machine: {platform}, {cpu_count} CPUs, {memory_gib} GiB, load {load_average_at_start} at the "
        "start; Python {python}, torch {torch}; synthwright {synthwright}; {date}.".format(
            **results["machine"]
        ),
    ]
    for name, table in results["tables"].items():
        rows = [r for r in results["rows"] if r["table"] == name]
        metric = "ROC AUC" if table["task"] == "classification" else "R²"
        lines += [
            "",
            f"## {name}",
            "",
            f"{table['train_rows']:,} training rows, {table['holdout_rows']:,} holdout rows; target "
            f"`{table['target']}` ({table['task']}: TSTR and TRTR are {metric}); contract "
            f"{table['contract']}.",
            "",
            "| generator | " + " | ".join(c[0] for c in COLUMNS) + " |",
            "| --- |" + " ---: |" * len(COLUMNS),
        ]
        notes = []
        for row in rows:
            label = row["generator"]
            if label == "tabularargn" and results.get("peer_max_minutes") is not None:
                label += f" (training capped at {results['peer_max_minutes']:g} min)"
            if row["status"] == "ok":
                cells = [_cell(row.get(key), digits) for _, key, digits in COLUMNS]
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
            else:
                lines.append(f"| {row['generator']} ({row['status']}) |" + " — |" * len(COLUMNS))
                notes.append(f"- {row['generator']} {row['status']}: {row['reason']}")
        published = PUBLISHED.get(name)
        if published:
            for model, (shape, trend) in published["rows"].items():
                lines.append(
                    f"| *{model} (published)* | {shape:.2f} | {trend:.2f} |" + " — |" * (len(COLUMNS) - 2)
                )
        lines += ["", *notes] if notes else []
        if published:
            figures = ", ".join(f"{m} {s}/{t}" for m, (s, t) in published["rows"].items())
            lines += ["", f"Published (shape/trend error %): {figures}; source: {published['source']}."]
        comparison = results["diffusion_vs_tabularargn"].get(name)
        if comparison:
            parts = [
                f"{key} {c['ours']} vs {c['tabularargn']} (ratio {c['ratio']}, target {c['target']}: "
                f"{'met' if c['met'] else 'not met'})"
                for key, c in comparison.items()
            ]
            lines += ["", "diffusion vs tabularargn: " + "; ".join(parts) + "."]
    return "\n".join(lines) + "\n"


def write(results: dict, out: Path) -> None:
    results["diffusion_vs_tabularargn"] = comparisons(results["rows"])
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "results.md").write_text(markdown(results))


# ---- main -----------------------------------------------------------------------------------------


def summary(row: dict) -> str:
    if row["status"] != "ok":
        return f"{row['status']}: {row['reason']}"
    return (
        f"ok, fit {row['fit_seconds']:.1f} s, shape {row['shape_error']:.2f} %, "
        f"trend {row['trend_error']:.2f} %, detection {row['detection_auc']:.3f}, "
        f"TSTR {row['tstr']:.3f}, DCR {row['dcr_share']:.3f}, {row['peak_rss_mib']} MiB"
    )


def default_out() -> Path:
    # benchmarks/results/ is git-ignored: results are run outputs, never committed
    return RESULTS / f"suite-{dt.datetime.now():%Y%m%d-%H%M%S}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--generators", nargs="+", default=list(GENERATORS), choices=list(GENERATORS))
    parser.add_argument("--quick", action="store_true", help="a smoke test: 3,000 rows, tiny configs")
    parser.add_argument("--out", type=Path, help="default: benchmarks/results/suite-<timestamp>/")
    parser.add_argument("--peer-python", default=sys.executable, help="the Python that runs the peers")
    parser.add_argument("--timeout-minutes", type=float, default=180, help="per fit; killed past it")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="for ours")
    parser.add_argument(
        "--peer-max-minutes",
        type=float,
        help="cap TabularARGN's training (its max_training_time); its rows then say so, as they are no "
        "longer its defaults",
    )
    args = parser.parse_args()
    args.out = args.out or default_out()
    # the workers run in their own folders: a relative interpreter path must not depend on that (and a
    # virtualenv's python is a symlink that must not be resolved, or it leaves its environment)
    args.peer_python = os.path.abspath(args.peer_python)
    args.out.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "benchmark": "suite",
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "python": sys.executable,
        "peer_python": args.peer_python,
        "quick": args.quick,
        "seed": SEED,
        "timeout_minutes": args.timeout_minutes,
        "peer_max_minutes": args.peer_max_minutes,
        "device": args.device,
        "machine": machine(),
        "published": PUBLISHED,
        "tables": {},
        "rows": [],
    }
    missing: dict[tuple[str, str], str] = {}
    started = time.perf_counter()
    for table_name in args.tables:
        prepared = prepare(TABLES[table_name], args.quick, args.out)
        table = prepared.table
        results["tables"][table_name] = {
            "target": table.target,
            "task": table.task,
            "contract": "shipped" if table.contract else "inferred",
            "train_rows": len(prepared.train),
            "holdout_rows": len(prepared.holdout),
            "folder": str(prepared.folder),
        }
        print(f"{table_name}: {len(prepared.train):,} train, {len(prepared.holdout):,} holdout", flush=True)
        for name in args.generators:
            row: dict[str, Any] = {"table": table_name, "generator": name}
            row.update(run_fit(name, prepared, args, missing))
            if row["status"] == "ok":
                try:
                    synthetic, unparsed = read_synthetic(
                        args.out / "runs" / table_name / name / "synthetic.parquet", prepared.contract
                    )
                    row.update(score(prepared, synthetic), unparsed_values=unparsed)
                except Exception as error:  # a table we cannot score is this row's failure, not the run's
                    row.update(status="failed", reason=f"scoring: {type(error).__name__}: {error}")
            results["rows"].append(row)
            print(f"  {table_name} / {name}: {summary(row)}", flush=True)
            write(results, args.out)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    write(results, args.out)
    print(f"\n{markdown(results)}")
    print(f"written: {args.out / 'results.json'}, {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
