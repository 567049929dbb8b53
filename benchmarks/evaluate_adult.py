"""`synthwright evaluate --json` on Adult, measured as a user runs it: a new process per candidate.

Adult is split 80/20 (seed 0, stratified by income): 26,048 train rows, 6,513 holdout rows. Each
candidate "synthetic" table has 26,048 rows:

- copula:    the Gaussian copula fitted on train (the generator the demo publishes)
- bootstrap: train rows resampled with replacement (a copier: the privacy gate must reject it)
- shuffle:   each train column permuted on its own (right shapes, no rows: fidelity must reject it)
- real:      not synthetic at all: 6,513 real rows held out of both train and holdout (train shrinks to
             19,535 rows for this one); it must pass every default gate

Prints one JSON object: per candidate the wall seconds and peak RSS of the evaluate process, its exit
code, every scorecard metric and the evaluation's own per-part seconds. The issue's target: under 60 s
and 3 GiB for the copula on 2 cores.

    .venv/bin/python benchmarks/evaluate_adult.py [--candidates copula bootstrap shuffle real]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from synthwright.data_contracts.io import load_contract
from synthwright.generators.registry import create_generator
from synthwright.pipelines.frames import write_frame
from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
CONTRACT = REPO / "data_contracts" / "examples" / "adult.yaml"
CLI = Path(sys.executable).with_name("synthwright")
CANDIDATES = ("copula", "bootstrap", "shuffle", "real")


def prepare(folder: Path, candidates: list[str]) -> dict[str, tuple[Path, Path]]:
    """Write train/holdout and each candidate; returns candidate → (train file, synthetic file)."""
    contract = load_contract(CONTRACT)
    frame = ingest(ADULT, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]), contract).frame
    train_index, holdout_index = train_test_split(
        frame.index, test_size=0.2, random_state=0, stratify=frame["income"]
    )
    train, holdout = frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)]
    train_path = write_frame(train, contract, folder / "train.parquet")
    write_frame(holdout, contract, folder / "holdout.parquet")
    rng = np.random.default_rng(0)
    files = {}
    for name in candidates:
        if name == "real":
            keep, unseen = train_test_split(train.index, test_size=len(holdout), random_state=0)
            files[name] = (
                write_frame(train.loc[sorted(keep)], contract, folder / "train-real.parquet"),
                write_frame(train.loc[sorted(unseen)], contract, folder / "real.parquet"),
            )
            continue
        if name == "shuffle":
            synthetic = train.copy()
            for column in synthetic.columns:
                synthetic[column] = synthetic[column].to_numpy()[rng.permutation(len(synthetic))]
        else:
            config = {"default_distribution": "beta"} if name == "copula" else {}
            generator = create_generator(name, config, seed=0).fit(train, contract)
            synthetic = generator.sample(len(train), seed=0)
        files[name] = (train_path, write_frame(synthetic, contract, folder / f"{name}.parquet"))
    return files


def evaluate_once(folder: Path, train: Path, synthetic: Path) -> dict:
    command = [
        str(CLI),
        "evaluate",
        "--train", str(train),
        "--holdout", str(folder / "holdout.parquet"),
        "--synthetic", str(synthetic),
        "--contract", str(CONTRACT),
        "--target", "income",
        "--report", str(folder / f"{synthetic.stem}-report.html"),
        "--json",
    ]  # fmt: skip
    stdout, stderr = folder / "stdout.json", folder / "stderr.txt"
    started = time.perf_counter()
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak RSS
    wall = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code not in (0, 1):
        sys.stderr.write(stderr.read_text()[-4000:])
        raise SystemExit(f"evaluate failed with exit code {exit_code}")
    result = json.loads(stdout.read_text())
    return {
        "wall_seconds": round(wall, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
        "exit_code": exit_code,
        "passed": result["passed"],
        "failed": [m["name"] for m in result["scorecard"]["metrics"] if not m["passed"]],
        "metrics": {m["name"]: m["value"] for m in result["scorecard"]["metrics"]},
        "dcr_share_interval": result["privacy"]["dcr_share_interval"],
        "utility": {"trtr": result["utility"]["trtr"], "tstr": result["utility"]["tstr"]},
        "seconds": result["seconds"],
        "report_bytes": Path(result["report"]).stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", choices=CANDIDATES, default=list(CANDIDATES))
    parser.add_argument("--keep", action="store_true", help="keep the folder with files and reports")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="synthwright-evaluate-"))
    try:
        files = prepare(folder, args.candidates)
        results = {name: evaluate_once(folder, *files[name]) for name in args.candidates}
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "evaluate_adult",
                "command": "synthwright evaluate --train … --holdout … --synthetic … --contract "
                "data_contracts/examples/adult.yaml --target income --json",
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "rows": {"train": 26048, "holdout": 6513, "synthetic": 26048},
                "candidates": results,
                "folder": str(folder) if args.keep else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
