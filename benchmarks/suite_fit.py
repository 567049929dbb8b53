"""One fit of the benchmark suite (benchmarks/suite.py), alone in its own process.

Reads the training split (Parquet), fits one generator, samples as many rows as it trained on, and
writes into `--out`: `synthetic.parquet` and `fit.json` (fit and sampling seconds, sampled rows per
second, peak RSS, the generator's config, library versions and what training reported, e.g. epochs).
Scoring is not done here: the suite scores every generator's rows with one scorer afterwards.

Our generators (copula, tvae, ctgan, diffusion, llm: synthwright's registry names) need synthwright and
the contract. The peers do not import synthwright, so that they can run under another Python:
  - sdv-copula, sdv-tvae, sdv-ctgan: SDV's GaussianCopula/TVAE/CTGAN synthesizers, SDV's defaults,
    metadata detected from the training frame;
  - tabularargn: MOSTLY AI's `mostlyai-engine` (TabularARGN), its defaults: split, analyze, encode,
    train and generate in a workspace folder under `--out` (removed afterwards).
A library that does not import here exits with code 3 (`EXIT_MISSING`) after writing the reason into
fit.json: the suite reports the generator as skipped, not failed.

    python benchmarks/suite_fit.py --generator NAME --train train.parquet --out FOLDER
        [--config JSON] [--contract contract.yaml] [--primary-key COLUMN] [--seed 0] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import shutil
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

EXIT_MISSING = 3
OURS = ("copula", "tvae", "ctgan", "diffusion", "llm")
SDV = {
    "sdv-copula": "GaussianCopulaSynthesizer",
    "sdv-tvae": "TVAESynthesizer",
    "sdv-ctgan": "CTGANSynthesizer",
}
PEER_PACKAGES = {**dict.fromkeys(SDV, "sdv"), "tabularargn": "mostlyai-engine"}


class Missing(Exception):
    """The generator's library does not import in this Python."""


def versions(*distributions: str) -> dict[str, str | None]:
    found = {}
    for name in distributions:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def seed_globals(seed: int) -> None:
    """Libraries that take no seed draw from the global generators: seed them all."""
    random.seed(seed)
    np.random.seed(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def fit_ours(name: str, train: pd.DataFrame, args) -> tuple[pd.DataFrame, float, float, dict]:
    from synthwright.data_contracts.io import load_contract
    from synthwright.generators.registry import create_generator

    contract = load_contract(args.contract)
    model = create_generator(name, json.loads(args.config), seed=args.seed, device=args.device)
    started = time.perf_counter()
    model.fit(train, contract)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(len(train), seed=args.seed)
    sample_seconds = time.perf_counter() - started
    return (
        synthetic,
        fit_seconds,
        sample_seconds,
        {
            "config": model.config.model_dump(mode="json"),
            "device": model.device_used(),
            "training": getattr(model, "training_", None),
            "library": versions("synthwright", "torch", "sdv"),
        },
    )


def fit_sdv(name: str, train: pd.DataFrame, args) -> tuple[pd.DataFrame, float, float, dict]:
    try:
        from sdv import single_table
        from sdv.metadata import Metadata
    except ImportError as error:
        raise Missing(f"{type(error).__name__}: {error}") from error
    config = json.loads(args.config)
    seed_globals(args.seed)
    started = time.perf_counter()
    metadata = Metadata.detect_from_dataframes({"table": train})
    synthesizer = getattr(single_table, SDV[name])(metadata, **config)
    synthesizer.fit({"table": train})  # SDV 2: a single table is a one-table dictionary too
    fit_seconds = time.perf_counter() - started
    seed_globals(args.seed)
    started = time.perf_counter()
    synthetic = synthesizer.sample(num_rows=len(train))
    synthetic = synthetic["table"] if isinstance(synthetic, dict) else synthetic
    sample_seconds = time.perf_counter() - started
    training = None
    if hasattr(synthesizer, "get_loss_values"):
        losses = synthesizer.get_loss_values()
        training = {"epochs_completed": int(losses["Epoch"].nunique()) if len(losses) else 0}
    return (
        synthetic,
        fit_seconds,
        sample_seconds,
        {
            "config": {k: repr(v) for k, v in synthesizer.get_parameters().items()},
            "training": training,
            "library": versions("sdv", "torch"),
        },
    )


def fit_tabularargn(train: pd.DataFrame, args) -> tuple[pd.DataFrame, float, float, dict]:
    try:
        from mostlyai import engine
    except ImportError as error:
        raise Missing(f"{type(error).__name__}: {error}") from error
    config = json.loads(args.config)
    workspace = Path(args.out) / "engine-ws"
    shutil.rmtree(workspace, ignore_errors=True)
    engine.set_random_state(args.seed)
    started = time.perf_counter()
    engine.split(tgt_data=train, tgt_primary_key=args.primary_key, workspace_dir=workspace)
    engine.analyze(workspace_dir=workspace)
    engine.encode(workspace_dir=workspace)
    engine.train(workspace_dir=workspace, **config)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    engine.generate(sample_size=len(train), workspace_dir=workspace)
    synthetic = pd.read_parquet(workspace / "SyntheticData")
    sample_seconds = time.perf_counter() - started
    messages = workspace / "ModelStore" / "model-data" / "progress-messages.csv"
    training = None
    if messages.exists():
        progress = pd.read_csv(messages)
        if len(progress) and "epoch" in progress:
            training = {"epochs_completed": float(progress["epoch"].max()), "progress_rows": len(progress)}
    shutil.rmtree(workspace, ignore_errors=True)
    return (
        synthetic,
        fit_seconds,
        sample_seconds,
        {"config": config, "training": training, "library": versions("mostlyai-engine", "torch")},
    )


def peak_rss() -> dict[str, int]:
    """Peak resident memory in MiB: this process, its largest child (Linux reports KiB), and the sum
    (an upper bound of the process tree's peak; the same as the first when nothing was forked)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "peak_rss_mib": round(own + children),
        "peak_rss_self_mib": round(own),
        "peak_rss_children_mib": round(children),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generator", required=True, choices=[*OURS, *SDV, "tabularargn"])
    parser.add_argument("--train", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--config", default="{}", help="JSON of the generator's settings")
    parser.add_argument("--contract", type=Path, help="our generators only")
    parser.add_argument("--primary-key", help="the table's key column (tabularargn's tgt_primary_key)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="our generators only")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    record = {
        "generator": args.generator,
        "python": sys.executable,
        "python_version": platform.python_version(),
    }
    train = pd.read_parquet(args.train)
    try:
        if args.generator in OURS:
            synthetic, fit_seconds, sample_seconds, info = fit_ours(args.generator, train, args)
        elif args.generator in SDV:
            synthetic, fit_seconds, sample_seconds, info = fit_sdv(args.generator, train, args)
        else:
            synthetic, fit_seconds, sample_seconds, info = fit_tabularargn(train, args)
    except Missing as missing:
        package = PEER_PACKAGES[args.generator]
        record.update(status="skipped", package=package, reason=str(missing))
        (args.out / "fit.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"{package} does not import in {sys.executable}: {missing}", file=sys.stderr)
        sys.exit(EXIT_MISSING)
    memory = peak_rss()  # before writing: the fit and the sample only
    synthetic.to_parquet(args.out / "synthetic.parquet", index=False)
    record.update(
        status="ok",
        train_rows=len(train),
        synthetic_rows=len(synthetic),
        fit_seconds=round(fit_seconds, 2),
        sample_seconds=round(sample_seconds, 3),
        sample_rows_per_second=round(len(synthetic) / sample_seconds) if sample_seconds > 0 else None,
        **memory,
        **info,
    )
    (args.out / "fit.json").write_text(json.dumps(record, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
