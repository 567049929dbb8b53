"""`synthwright evaluate` beside a busy process: the slow-down a shared CI runner sees (target ≤ 2×).

On 2 cores with one other single-threaded job, OpenMP and BLAS pools of one thread per core wait on
each other (the gradient-boosting fits in detection and utility above all). Since issue 23 each
command sizes its pools to the cores idle when it starts (synthwright.threads). This measures it.

The table is `../shared/datasets/beijing.csv` (43,824 rows; the project's tests never read it): 11,000
train, 11,000 holdout (seeded, disjoint), and 11,000 synthetic rows from a Gaussian copula fitted on the
train rows (`synthwright fit -g copula`, then `sample`). Then `synthwright evaluate --target pm` runs in
a new process, as a user runs it, three times:

    idle        nothing else running
    busy        beside one process spinning on one core (started 2 s before)
    busy-all    the same, with SYNTHWRIGHT_THREADS=all: every pool one thread per core, as before

and prints the seconds and the ratios busy/idle and busy-all/idle, then one JSON line.

    .venv/bin/python benchmarks/evaluate_under_load.py [--rows 11000] [--data PATH] [--keep]
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

import pandas as pd

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "datasets" / "beijing.csv"
SPIN = "while True:\n    pass\n"


def synthwright(*args: object, env: dict[str, str] | None = None) -> float:
    """Run `synthwright ARGS` in a new process; its wall seconds (it must end in 0 or 1: a verdict)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "synthwright.pipelines.cli", *map(str, args)],
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"synthwright {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr}")
    return seconds


def prepare(data: Path, rows: int, folder: Path) -> dict[str, Path]:
    frame = pd.read_csv(data).sample(frac=1.0, random_state=0).reset_index(drop=True)
    if len(frame) < 2 * rows:
        raise SystemExit(f"{data} has {len(frame)} rows; {2 * rows} are needed")
    paths = {"train": folder / "train.csv", "holdout": folder / "holdout.csv"}
    frame.iloc[:rows].to_csv(paths["train"], index=False)
    frame.iloc[rows : 2 * rows].to_csv(paths["holdout"], index=False)
    synthwright("contract", "infer", paths["train"], "--out", folder / "contract.yaml")
    paths["contract"] = folder / "contract.yaml"
    synthwright("fit", paths["train"], "-g", "copula", "--contract", paths["contract"], "--out", folder / "m")
    paths["synthetic"] = folder / "synthetic.csv"
    synthwright("sample", folder / "m", "--rows", rows, "--out", paths["synthetic"])
    return paths


def evaluate(paths: dict[str, Path], folder: Path, *, busy: bool, threads: str | None) -> float:
    env = os.environ.copy()
    env.pop("SYNTHWRIGHT_THREADS", None)
    if threads is not None:
        env["SYNTHWRIGHT_THREADS"] = threads
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
    try:
        if spinner is not None:
            time.sleep(2.0)
        return synthwright(
            "evaluate",
            "--train",
            paths["train"],
            "--holdout",
            paths["holdout"],
            "--synthetic",
            paths["synthetic"],
            "--contract",
            paths["contract"],
            "--target",
            "pm",
            "--report",
            folder / "report.html",
            env=env,
        )
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=11_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="evaluate-under-load-"))
    try:
        paths = prepare(args.data, args.rows, folder)
        seconds = {
            "idle": evaluate(paths, folder, busy=False, threads=None),
            "busy": evaluate(paths, folder, busy=True, threads=None),
            "busy-all": evaluate(paths, folder, busy=True, threads="all"),
        }
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    ratios = {
        "busy/idle": seconds["busy"] / seconds["idle"],
        "busy-all/idle": seconds["busy-all"] / seconds["idle"],
    }
    for name, value in seconds.items():
        print(f"{name:>9}  {value:7.1f} s")
    for name, value in ratios.items():
        print(f"{name:>13}  {value:5.2f}×")
    print(
        json.dumps(
            {
                "benchmark": "evaluate_under_load",
                "data": str(args.data),
                "rows": args.rows,
                "seconds": {k: round(v, 1) for k, v in seconds.items()},
                "ratios": {k: round(v, 2) for k, v in ratios.items()},
                "target": "busy/idle <= 2",
                "cores": os.cpu_count(),
                "machine": platform.platform(),
                "python": platform.python_version(),
            }
        )
    )


if __name__ == "__main__":
    main()
