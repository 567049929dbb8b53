"""Our diffusion generator on Adult: quality, privacy, utility, fit time, sampling speed and memory.

Protocol (the diffusion issue's): Adult split 80/20 (seed 0, stratified by income), fit on the 26,048
training rows with a preset (seed 0), sample as many rows as the training split. Prints one JSON object
(and writes it to `--out`):
  - shape_error, trend_error: SDMetrics' column-shape and pair-trend errors (percent) against train;
  - detection_auc: a classifier telling real holdout rows from synthetic ones (0.5 = cannot);
  - tstr_roc_auc (and trtr_roc_auc for reference): a fixed gradient-boosting model trained on the
    synthetic (real) training rows, scored on the real holdout, target `income`;
  - dcr_share: the share of synthetic rows closer to a training row than to a holdout row (0.5 = no
    memorisation);
  - fit_seconds, sample_rows_per_second (the whole first `sample` call of the fitted model: denoising,
    decoding, contract conformance), large_sample_rows_per_second (a further call for
    `--large-rows`, 200,000 by default: the rate for large outputs), peak_rss_mib (fit and samples,
    before any scoring).
With `--steps 8 16 32` the same fitted model also samples at each number of sampling steps, and each
sample is scored: the quality/speed trade-off of fewer denoising steps.

Run on an otherwise idle machine (torch's threads spin-wait under load). The default preset takes about
a quarter of an hour on 2 cores; smoke-test with `--preset fast`.

    .venv/bin/python benchmarks/diffusion_adult.py [--preset default] [--config '{"epochs": 100}']
        [--steps 8 16 32] [--device auto] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

from synthwright.data_contracts.io import load_contract
from synthwright.generators.registry import create_generator
from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest
from synthwright.validators.fidelity import detection, fidelity
from synthwright.validators.privacy import privacy
from synthwright.validators.utility import utility

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
CONTRACT = REPO / "data_contracts" / "examples" / "adult.yaml"
TARGET = "income"
TARGETS = {
    "shape_error": 1.75,
    "trend_error": 3.0,
    "tstr_roc_auc": 0.90,
    "dcr_share": 0.55,
    "fit_seconds": 1200,
    "sample_rows_per_second": 20_000,
}


def split():
    contract = load_contract(CONTRACT)
    frame = ingest(ADULT, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]), contract).frame
    train_index, holdout_index = train_test_split(
        frame.index, test_size=0.2, random_state=0, stratify=frame[TARGET]
    )
    return frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)], contract


def score(train, holdout, synthetic, contract) -> dict:
    shapes = fidelity(train, synthetic, contract)
    useful = utility(train, holdout, synthetic, contract, TARGET)
    return {
        "shape_error": shapes.shape_error,
        "trend_error": shapes.trend_error,
        "detection_auc": detection(holdout, synthetic, contract, per_column=False).auc,
        "tstr_roc_auc": useful.synthetic["roc_auc"],
        "trtr_roc_auc": useful.real["roc_auc"],
        "dcr_share": privacy(train, holdout, synthetic, contract).dcr_share,
        "worst_columns": dict(sorted(shapes.column_errors.items(), key=lambda kv: -kv[1])[:4]),
    }


def fit_and_sample(model, train, contract, large_rows: int, progress) -> tuple:
    """Fit, sample as many rows as trained on, then `large_rows` more: the synthetic rows and the
    timing and memory fields every generator benchmark reports (peak RSS before any scoring)."""
    started = time.perf_counter()
    model.fit(train, contract, progress=progress)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(len(train))
    sample_seconds = time.perf_counter() - started
    started = time.perf_counter()
    large = len(model.sample(large_rows, seed=1)) if large_rows else 0
    large_seconds = time.perf_counter() - started
    return synthetic, {
        "config": model.config.model_dump(mode="json"),
        "device": model.training_["device"],
        "train_rows": len(train),
        "synthetic_rows": len(synthetic),
        "epochs_completed": model.training_["epochs_completed"],
        "fit_seconds": round(fit_seconds, 1),
        "sample_seconds": round(sample_seconds, 2),
        "sample_rows_per_second": round(len(synthetic) / sample_seconds),
        "large_sample_rows": large,
        "large_sample_rows_per_second": round(large / large_seconds) if large else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="default", choices=["fast", "default", "quality"])
    parser.add_argument("--config", default="{}", help="JSON of knobs over the preset")
    parser.add_argument("--steps", type=int, nargs="*", default=[], help="also sample at these step counts")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--large-rows", type=int, default=200_000, help="rows of the large-output timing")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    train, holdout, contract = split()
    config = {"preset": args.preset, **json.loads(args.config)}
    model = create_generator("diffusion", config, seed=0, device=args.device)

    def progress(update) -> None:
        if update.total and (update.done % 25 == 0 or update.done == update.total):
            print(f"  {update.message}: {update.done}/{update.total} {update.metrics}", file=sys.stderr)

    synthetic, measured = fit_and_sample(model, train, contract, args.large_rows, progress)
    result = {
        "benchmark": "diffusion_adult",
        **measured,
        "holdout_rows": len(holdout),
        **score(train, holdout, synthetic, contract),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "targets": TARGETS,
    }
    trade_off = []
    for steps in args.steps:
        model.config = model.config.model_copy(update={"sampling_steps": steps})
        started = time.perf_counter()
        sample = model.sample(len(train))
        seconds = time.perf_counter() - started
        trade_off.append(
            {
                "sampling_steps": steps,
                "rows_per_second": round(len(sample) / seconds),
                **score(train, holdout, sample, contract),
            }
        )
        print(f"  steps {steps}: {trade_off[-1]}", file=sys.stderr)
    if trade_off:
        result["steps_trade_off"] = trade_off
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
