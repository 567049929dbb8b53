"""A wide table: `synthwright contract check` on a generated COLUMNS × ROWS mixed table (1,000 × 50).

The table is made here, seeded: a quarter each of integers, floats, three-label and two-label columns.
Its contract comes from `synthwright contract infer`; then `contract check` runs in a new process, as
a user runs it, `--repeats` times. Prints one JSON line: the seconds of each infer and check, and the
contract's size in bytes (what `synthwright.config_io.MAX_CONFIG_BYTES` is sized against).

Target: the check of 1,000 columns in seconds (it took minutes when GX validated the whole frame for
every expectation). Timings on a shared machine vary; repeat and report the spread.

    .venv/bin/python benchmarks/wide_table.py [--columns 1000] [--rows 50] [--repeats 2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLI = Path(sys.executable).with_name("synthwright")


def write_table(path: Path, columns: int, rows: int, seed: int = 0) -> None:
    """A CSV of `columns` mixed columns: integers, floats (4 decimals), labels a/b/c, labels x/y."""
    rng = np.random.default_rng(seed)
    cells = []
    for i in range(columns):
        kind = i % 4
        if kind == 0:
            cells.append(rng.integers(0, 100, rows).astype(str))
        elif kind == 1:
            cells.append(np.round(rng.normal(0, 1, rows), 4).astype(str))
        else:
            cells.append(rng.choice(["a", "b", "c"] if kind == 2 else ["x", "y"], rows))
    lines = [",".join(f"c{i:04d}" for i in range(columns))]
    lines += [",".join(column[r] for column in cells) for r in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(*args: str) -> float:
    """Seconds of `synthwright ARGS` in a new process; it must exit 0."""
    started = time.perf_counter()
    subprocess.run([str(CLI), *args], check=True, capture_output=True)
    return round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the table and contract")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="wide-table-"))
    try:
        data, contract = folder / "wide.csv", folder / "wide.yaml"
        write_table(data, args.columns, args.rows)
        infer = timed("contract", "infer", str(data), "--out", str(contract))
        check = ("contract", "check", str(data), "--contract", str(contract))
        checks = [timed(*check) for _ in range(args.repeats)]
        print(
            json.dumps(
                {
                    "columns": args.columns,
                    "rows": args.rows,
                    "infer_seconds": infer,
                    "check_seconds": checks,
                    "contract_bytes": contract.stat().st_size,
                    "folder": str(folder) if args.keep else None,
                }
            )
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
