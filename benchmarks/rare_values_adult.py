"""What rare-value protection costs in fidelity on Adult: the same generator and seed, protection on and off.

Adult is split 80/20 (seed 0, stratified by income). Each generator is fitted twice on the same train
rows with the same seed: with the default protection (`RareValues()`: categories of fewer than 5
training rows pooled, numbers clipped to the 5th smallest/largest value) and with it off
(`RareValues(min_rows=1)`). Both samples (as many rows as train) are scored against train with the
same SDMetrics shape and trend errors the scorecard uses, and against the holdout for leaks.

Prints one JSON object: per generator and setting the shape and trend error (%), the columns whose
shape moved most, the rare-value leaks, and what the protection pooled and clipped.

    .venv/bin/python benchmarks/rare_values_adult.py [--generators copula] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

from synthwright.data_contracts.io import load_contract
from synthwright.data_contracts.model import RareValues
from synthwright.generators.registry import create_generator
from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest
from synthwright.validators.fidelity import fidelity
from synthwright.validators.privacy import rare_value_leaks

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
CONTRACT = REPO / "data_contracts" / "examples" / "adult.yaml"
CONFIGS = {"copula": {"default_distribution": "beta"}, "diffusion": {"preset": "fast"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", nargs="+", default=["copula"])
    parser.add_argument("--rows", type=int, default=None, help="sample rows (default: as many as train)")
    args = parser.parse_args()

    contract = load_contract(CONTRACT)
    frame = ingest(ADULT, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]), contract).frame
    train_index, holdout_index = train_test_split(
        frame.index, test_size=0.2, random_state=0, stratify=frame["income"]
    )
    train, holdout = frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)]
    rows = args.rows or len(train)
    results: dict = {}
    for name in args.generators:
        scores = {}
        for setting, policy in (("protected", RareValues()), ("off", RareValues(min_rows=1))):
            started = time.perf_counter()
            generator = create_generator(name, CONFIGS.get(name), seed=0).fit(
                train, contract, rare_values=policy
            )
            sample = generator.sample(rows, seed=0)
            measured = fidelity(train, sample, contract, seed=0)
            scores[setting] = {
                "shape_error": measured.shape_error,
                "trend_error": measured.trend_error,
                "column_shape_error": measured.column_errors,
                "rare_value_leaks": rare_value_leaks(train, holdout, sample, contract, RareValues()),
                "pooled": {
                    p.name: {"values": p.rare_values, "rows": p.rare_rows}
                    for p in generator.plan_.protected
                    if p.kind == "labels" and p.rare_values
                },
                "clipped": {
                    p.name: {"rows": p.clipped_rows, "low": p.low, "high": p.high}
                    for p in generator.plan_.protected
                    if p.kind == "range" and p.clipped_rows
                },
                "seconds": round(time.perf_counter() - started, 1),
            }
        on, off = scores["protected"]["column_shape_error"], scores["off"]["column_shape_error"]
        moved = sorted(on, key=lambda c: -abs(on[c] - off[c]))[:4]
        results[name] = {
            **scores,
            "shape_cost_pp": round(scores["protected"]["shape_error"] - scores["off"]["shape_error"], 3),
            "trend_cost_pp": round(scores["protected"]["trend_error"] - scores["off"]["trend_error"], 3),
            "most_moved_columns": {c: {"protected": on[c], "off": off[c]} for c in moved},
        }
    print(
        json.dumps(
            {
                "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
                "train_rows": len(train),
                "holdout_rows": len(holdout),
                "sample_rows": rows,
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
