"""The figures behind `synthwright check`'s default drift thresholds, measured on Adult.

Adult (32,561 rows, `data_contracts/examples/adult.yaml`) is shuffled and cut into two halves; half A
is the baseline. Half B is scored against it as it is (no drift: only sampling noise) and after one
deliberate change each:

- age+15:        every age 15 years higher (the whole population ages)
- female x2:     rows resampled so the share of `sex = Female` doubles (33 % → 66 %)
- income x2:     rows resampled so the share of `income = >50K` doubles (24 % → 48 %)
- hours+10:      every `hours-per-week` 10 hours higher

Each case is scored at full size (16,280 rows a side) and on the first `--small` rows of each half (a
daily batch), with `--seeds` different shuffles. Prints one JSON object: per case and size the overall
shape and trend error and the largest column shape error (with its column), min and max over the seeds.

    .venv/bin/python benchmarks/drift_adult.py [--seeds 0 1 2] [--small 2000 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from synthwright.data_contracts.io import load_contract
from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest
from synthwright.validators.fidelity import fidelity

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
CONTRACT = REPO / "data_contracts" / "examples" / "adult.yaml"


def _shift(column: str, by: int) -> Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]:
    def change(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return frame.assign(**{column: frame[column] + by})

    return change


def _double_share(column: str, value: str) -> Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]:
    """Resample rows (same count) so that `value`'s share of `column` doubles."""

    def change(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        hit = frame.index[frame[column] == value]
        miss = frame.index[frame[column] != value]
        wanted = min(round(2 * len(hit)), len(frame))
        rows = [*rng.choice(hit, wanted, replace=True), *rng.choice(miss, len(frame) - wanted, replace=True)]
        return frame.loc[rows].reset_index(drop=True)

    return change


CASES: dict[str, Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame] | None] = {
    "no drift": None,
    "age+15": _shift("age", 15),
    "female x2": _double_share("sex", "Female"),
    "income x2": _double_share("income", ">50K"),
    "hours+10": _shift("hours-per-week", 10),
}


def measure(frame: pd.DataFrame, contract, seed: int, size: int | None) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    half = len(frame) // 2
    baseline = frame.iloc[order[:half]].reset_index(drop=True)
    data = frame.iloc[order[half:]].reset_index(drop=True)
    if size is not None:
        baseline, data = baseline.iloc[:size], data.iloc[:size]
    results = {}
    for name, change in CASES.items():
        changed = data if change is None else change(data, rng)
        scored = fidelity(baseline, changed, contract)
        worst = max(scored.column_errors, key=scored.column_errors.get)
        results[name] = {
            "shape_error": scored.shape_error,
            "trend_error": scored.trend_error,
            "column_shape_error_max": scored.column_errors[worst],
            "worst_column": worst,
        }
    return results


def summarise(runs: list[dict[str, dict]]) -> dict[str, dict]:
    """Per case: each figure's min and max over the seeds, and the worst columns seen."""
    out = {}
    for case in CASES:
        rows = [run[case] for run in runs]
        out[case] = {
            key: [min(r[key] for r in rows), max(r[key] for r in rows)]
            for key in ("shape_error", "trend_error", "column_shape_error_max")
        }
        out[case]["worst_columns"] = sorted({r["worst_column"] for r in rows})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--small", type=int, nargs="+", default=[2000, 500], help="rows a side, small cases")
    args = parser.parse_args()
    started = time.perf_counter()
    contract = load_contract(CONTRACT)
    frame = ingest(ADULT, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]), contract).frame
    sizes = {"full halves": None, **{f"{n} rows a side": n for n in args.small}}
    figures = {
        label: summarise([measure(frame, contract, seed, size) for seed in args.seeds])
        for label, size in sizes.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "drift_adult",
                "unit": "percent, 100 × (1 − SDMetrics score); [min, max] over the seeds",
                "seeds": args.seeds,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "seconds": round(time.perf_counter() - started, 1),
                "figures": figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
