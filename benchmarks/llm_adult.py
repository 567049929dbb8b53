"""Our llm generator (the from-scratch transformer) on Adult: the diffusion benchmark's protocol and fields.

Protocol: Adult split 80/20 (seed 0, stratified by income), fit on the 26,048 training rows with a
preset (seed 0), sample as many rows as the training split; scored exactly as
`benchmarks/diffusion_adult.py` scores (shape/trend error, detection AUC, TSTR/TRTR ROC AUC, DCR share,
fit seconds, rows/s of the first and of a large `sample` call, peak RSS). Two more fields show that
constrained decoding keeps every row valid:
  - raw_rows_valid_share: the share of the model's own rows (before the output is conformed to the
    contract, which would clip or round) whose every value is inside the contract;
  - contract_passed: the contract's Great Expectations suite on the whole synthetic table.

Run on an otherwise idle machine. The default preset takes about a quarter of an hour on 2 cores;
smoke-test with `--preset fast`.

    .venv/bin/python benchmarks/llm_adult.py [--preset default] [--config '{"epochs": 10}']
        [--device auto] [--large-rows 200000] [--conditions] [--out FILE]

`--conditions` adds what fixing age, hours or income does to the rest of the sampled rows, against
the training rows that hold the same value.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diffusion_adult import fit_and_sample, score, split  # noqa: E402  (the shared protocol)

from synthwright.data_contracts.conform import rows_inside  # noqa: E402
from synthwright.generators.base import seeded  # noqa: E402
from synthwright.generators.registry import create_generator  # noqa: E402
from synthwright.validators.contract import validate_contract  # noqa: E402

TARGETS = {
    "shape_error": 3.0,
    "trend_error": 5.0,
    "tstr_roc_auc": 0.89,
    "dcr_share": 0.55,
    "fit_seconds": 1200,
    "sample_rows_per_second": 2_000,
    "raw_rows_valid_share": 1.0,
}


def condition_effects(model, train) -> list[dict]:
    """3,000 rows per condition against the training rows that hold it (age: within a year): does
    fixing a number move the rest of the row as the data does?"""
    found = []
    for column, value, near in [
        ("age", 25, 1),
        ("age", 40, 1),
        ("age", 60, 1),
        ("hours-per-week", 20, 0),
        ("hours-per-week", 60, 0),
    ]:
        synthetic = model.sample(3000, conditions={column: value}, seed=1)
        real = train[(train[column] >= value - near) & (train[column] <= value + near)]
        found.append(
            {
                "condition": f"{column}={value}",
                "income_over_50k": {
                    "synthetic": round(float((synthetic["income"] == ">50K").mean()), 3),
                    "real": round(float((real["income"] == ">50K").mean()), 3),
                },
                "married": {
                    "synthetic": round(
                        float((synthetic["marital-status"] == "Married-civ-spouse").mean()), 3
                    ),
                    "real": round(float((real["marital-status"] == "Married-civ-spouse").mean()), 3),
                },
            }
        )
    rich = model.sample(3000, conditions={"income": ">50K"}, seed=1)
    found.append(
        {
            "condition": "income=>50K",
            "mean_age": {
                "synthetic": round(float(rich["age"].mean()), 1),
                "real": round(float(train.loc[train["income"] == ">50K", "age"].mean()), 1),
            },
        }
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="default", choices=["fast", "default", "quality"])
    parser.add_argument("--config", default="{}", help="JSON of knobs over the preset")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--large-rows", type=int, default=200_000, help="rows of the large-output timing")
    parser.add_argument(
        "--conditions", action="store_true", help="also: what conditions on age and hours do to income"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    train, holdout, contract = split()
    config = {"preset": args.preset, **json.loads(args.config)}
    model = create_generator("llm", config, seed=0, device=args.device)

    def progress(update) -> None:
        if update.total and update.metrics:
            print(f"  {update.message}: {update.done}/{update.total} {update.metrics}", file=sys.stderr)

    synthetic, measured = fit_and_sample(model, train, contract, args.large_rows, progress)
    with seeded(0):  # the model's own rows, before conformance could repair anything
        raw = model.plan_.decode(model._sample(len(train), 0), 0)
    valid = rows_inside(raw, contract)
    report = validate_contract(synthetic, contract, source="synthetic Adult")

    result = {
        "benchmark": "llm_adult",
        **measured,
        "holdout_rows": len(holdout),
        "tokens_per_row": model.vocabulary_.length,
        "vocabulary_size": model.vocabulary_.size,
        "raw_rows_valid_share": float(valid.mean()),
        "contract_passed": report.passed,
        **score(train, holdout, synthetic, contract),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "targets": TARGETS,
    }
    if args.conditions:
        result["conditions"] = condition_effects(model, train)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
