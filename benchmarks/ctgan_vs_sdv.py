"""Our CTGAN against SDV's CTGANSynthesizer on Adult: fit time, where it goes, and quality.

Same data, same epochs, same machine, one fit per new process, run one after the other and alternating
(`--order sdv-first`: sdv, ours, sdv, ours, … for `--repeats`). Adult is split as the pipeline does (80/20,
seed 0, stratified by income): both models fit the 26,049 training rows with their defaults (batch 500,
pac 10, (256, 256) networks, learning rates 2e-4) and sample as many rows. Each is seeded: ours by its
`seed`, SDV's by seeding `random`, `numpy.random` and `torch` before it is built, fitted and sampled.

Each fit's child process reports:
  - fit_seconds: the whole `fit` call (imports are done before and reported apart, as import_seconds);
  - phases: where that time goes. Ours: input parsing and the column plan, then the encoding (the
    mode-specific `TableEncoding.fit_transform`, condition sampler and networks), then the epochs. SDV:
    `preprocess` (validation and RDT's HyperTransformer), then in ctgan its `DataTransformer.fit` (a
    Bayesian GMM per number) and `.transform`, the `DataSampler`, the networks, then the epochs;
  - seconds_per_epoch (the epochs' mean; epoch_seconds_median leaves out the first, which warms torch
    up), sample_seconds (len(train) rows), peak_rss_mib (the child's own, from wait4) and
    peak_tree_rss_mib (the child and its descendants summed, sampled from /proc every 0.25 s: ctgan's
    DataTransformer.transform runs joblib worker processes on more than 500 rows).
With `--repeats` above 1 the summary and ratios take each model's median.
The parent then scores both samples the same way (synthwright.validators.fidelity): column-shape and
pair-trend error against the training split, and detection ROC AUC of real holdout rows against
synthetic rows.

The issue's target: our fit at most 0.5 × SDV's time, at equal or better shape and trend error.
Prints one JSON object (and writes it to `--out`); progress goes to stderr. The full run (300 epochs of 52
steps, for each model) takes an hour or more on 2 cores; smoke-test it with `--epochs 1 --rows 3000`.

Run it on an otherwise idle machine: with other work on 2 cores, torch's 2 threads spin-wait and an
epoch can take 5-20 times its CPU time, for both models (`machine.load_average_1min` shows the load).

    .venv/bin/python benchmarks/ctgan_vs_sdv.py [--epochs 300] [--rows N] [--order sdv-first]
        [--repeats 1] [--threads N] [--out FILE] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from synthwright.data_contracts.io import load_contract
from synthwright.data_contracts.sdv_metadata import sdv_columns
from synthwright.pipelines.frames import read_frame, write_frame
from synthwright.pipelines.ingest import ReadOptions, ingest

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
CONTRACT = REPO / "data_contracts" / "examples" / "adult.yaml"
TARGET = "income"
SEED = 0
HOLDOUT = 0.2
TARGET_RATIO = 0.5
CANDIDATES = ("ours", "sdv")


# ---- the parent: data, alternating children, scoring ------------------------------------------------


def prepare(folder: Path, rows: int | None) -> tuple[int, int]:
    """Write train.parquet and holdout.parquet as the pipeline's split step would; return their sizes."""
    result = ingest(ADULT, ReadOptions(na_values=["", "?"]), load_contract(CONTRACT))
    frame, contract = result.frame, result.contract
    if rows is not None:
        if rows > len(frame):
            raise SystemExit(f"--rows {rows} is more than Adult's {len(frame)} rows")
        keep = np.sort(np.random.default_rng(SEED).choice(len(frame), rows, replace=False))
        frame = frame.iloc[keep].reset_index(drop=True)
    labels = frame[TARGET].astype(object).where(frame[TARGET].notna(), "<null>")
    train_index, holdout_index = train_test_split(
        frame.index, test_size=int(round(len(frame) * HOLDOUT)), random_state=SEED, stratify=labels
    )
    train, holdout = frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)]
    write_frame(train, contract, folder / "train.parquet")
    write_frame(holdout, contract, folder / "holdout.parquet")
    return len(train), len(holdout)


class TreeMemory(threading.Thread):
    """Peak summed RSS of a process and its descendants, sampled from /proc (SDV's joblib workers count)."""

    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_kib = pid, every, 0
        self.finished = threading.Event()

    def run(self) -> None:
        while not self.finished.wait(self.every):
            self.peak_kib = max(self.peak_kib, self.sample())

    def sample(self) -> int:
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:  # the command may hold spaces and parentheses: read the fields after the last ')'
                    parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree, grew = {self.pid}, True
        while grew:
            more = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= more
            grew = bool(more)
        total = 0
        for pid in tree:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
            )
        return total


@dataclass(frozen=True)
class Measured:
    exit_code: int
    wall_seconds: float
    usage: Any  # os.wait4's resource usage: ru_maxrss (KiB) is the process's own peak RSS
    peak_tree_kib: int  # the process and its descendants, summed (0 without /proc)


def run_measured(command: list[str], **popen: Any) -> Measured:
    """Run `command` to its end: its wall time, its own peak RSS (wait4) and its tree's (/proc)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, **popen)
    memory = TreeMemory(process.pid)
    if Path("/proc").is_dir():
        memory.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    memory.finished.set()
    return Measured(os.waitstatus_to_exitcode(status), wall, usage, memory.peak_kib)


def run_child(kind: str, run: int, folder: Path, epochs: int, threads: int | None) -> dict:
    """One fit and sample in a new process; its own peak RSS comes from wait4, its tree's from /proc."""
    tag = f"run{run}-{kind}"
    command = [sys.executable, __file__, "--child", kind, "--work", str(folder), "--tag", tag]
    command += ["--epochs", str(epochs)] + (["--threads", str(threads)] if threads else [])
    print(f"[{tag}] starting", file=sys.stderr, flush=True)
    measured = run_measured(command)  # stderr passes through: the child's progress lines
    if measured.exit_code != 0:
        raise SystemExit(f"[{tag}] child failed with exit code {measured.exit_code}")
    result = json.loads((folder / f"{tag}.json").read_text())
    result.update(
        run=run,
        candidate=kind,
        process_wall_seconds=round(measured.wall_seconds, 2),
        peak_rss_mib=round(measured.usage.ru_maxrss / 1024, 1),
        peak_tree_rss_mib=round(measured.peak_tree_kib / 1024, 1) if measured.peak_tree_kib else None,
    )
    return result


def score(folder: Path, result: dict) -> dict:
    from synthwright.validators.fidelity import detection, fidelity

    contract = load_contract(CONTRACT)
    train = read_frame(folder / "train.parquet", contract)
    holdout = read_frame(folder / "holdout.parquet", contract)
    synthetic = read_frame(folder / result["sample_file"], contract)
    started = time.perf_counter()
    measured = fidelity(train, synthetic, contract)
    detected = detection(holdout, synthetic, contract, seed=SEED, per_column=False)
    return {
        "shape_error": measured.shape_error,
        "trend_error": measured.trend_error,
        "detection_auc": detected.auc,
        "detection_rows_per_side": detected.rows_per_side,
        "column_errors": measured.column_errors,
        "pair_errors": measured.pair_errors,
        "scoring_seconds": round(time.perf_counter() - started, 2),
    }


def median_of(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r[key] is not None]
    return round(statistics.median(values), 4) if values else None


def summarise(runs: list[dict], kind: str) -> dict:
    mine = [r for r in runs if r["candidate"] == kind]
    phases = {
        name: round(statistics.median(r["phases"][name] for r in mine), 3) for name in mine[0]["phases"]
    }
    quality = {
        key: round(statistics.median(r["quality"][key] for r in mine), 4)
        for key in ("shape_error", "trend_error", "detection_auc")
    }
    return {
        "fit_seconds": median_of(mine, "fit_seconds"),
        "seconds_per_epoch": median_of(mine, "seconds_per_epoch"),
        "sample_seconds": median_of(mine, "sample_seconds"),
        "epoch_seconds_median": median_of(mine, "epoch_seconds_median"),
        "peak_rss_mib": median_of(mine, "peak_rss_mib"),
        "peak_tree_rss_mib": median_of(mine, "peak_tree_rss_mib"),
        "phases": phases,
        "quality": quality,
    }


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {name: version(name) for name in ("torch", "ctgan", "sdv", "rdt", "sdmetrics")},
    }


def parent(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="synthwright-ctgan-vs-sdv-"))
    started, load_before = time.perf_counter(), os.getloadavg()
    try:
        train_rows, holdout_rows = prepare(folder, args.rows)
        first, second = ("sdv", "ours") if args.order == "sdv-first" else ("ours", "sdv")
        runs = []
        for run in range(1, args.repeats + 1):
            for kind in (first, second):
                runs.append(run_child(kind, run, folder, args.epochs, args.threads))
        for result in runs:
            result["quality"] = score(folder, result)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    ours, sdv = summarise(runs, "ours"), summarise(runs, "sdv")
    threads = {r["candidate"]: r["torch_threads"] for r in runs}
    out = {
        "benchmark": "ctgan_vs_sdv",
        "command": " ".join(["benchmarks/ctgan_vs_sdv.py", *sys.argv[1:]]),
        "machine": {
            **machine(),
            "torch_threads": threads,
            "device": runs[0]["device"],
            # other work on the machine skews the timings (2 torch threads on 2 busy cores spin-wait)
            "load_average_1min": {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)},
        },
        "epochs": args.epochs,
        "rows": {"adult": args.rows or "all", "train": train_rows, "holdout": holdout_rows},
        "order": [f"{r['run']}:{r['candidate']}" for r in runs],
        "runs": runs,
        "summary": {"ours": ours, "sdv": sdv},
        "ratio_fit_seconds": round(ours["fit_seconds"] / sdv["fit_seconds"], 4),
        "ratio_seconds_per_epoch": round(ours["seconds_per_epoch"] / sdv["seconds_per_epoch"], 4),
        "ratio_epoch_seconds_median": (
            round(ours["epoch_seconds_median"] / sdv["epoch_seconds_median"], 4)
            if ours["epoch_seconds_median"] and sdv["epoch_seconds_median"]
            else None
        ),
        "ratio_before_first_epoch": round(
            ours["phases"]["before_first_epoch"] / sdv["phases"]["before_first_epoch"], 4
        ),
        "quality": {"ours": ours["quality"], "sdv": sdv["quality"]},
        "target_met": bool(
            ours["fit_seconds"] / sdv["fit_seconds"] <= TARGET_RATIO
            and ours["quality"]["shape_error"] <= sdv["quality"]["shape_error"]
            and ours["quality"]["trend_error"] <= sdv["quality"]["trend_error"]
        ),
        "benchmark_seconds": round(time.perf_counter() - started, 1),
        "folder": str(folder) if args.keep else None,
    }
    text = json.dumps(out, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


# ---- the children: one fit and one sample each -------------------------------------------------------


class Marks:
    """Wall-clock marks and summed durations of wrapped calls, and a progress line per ~10 % of epochs."""

    def __init__(self, tag: str, epochs: int):
        self.tag, self.epochs = tag, epochs
        self.start = time.perf_counter()
        self.at: dict[str, float] = {}
        self.spent: dict[str, float] = {}
        self.epoch_ends: list[float] = []
        self.step = max(epochs // 10, 1)

    def mark(self, name: str) -> None:
        self.at.setdefault(name, time.perf_counter())
        if name == "first_epoch":
            self.before_first_epoch = dict(self.spent)  # wrapped calls made before training

    def spent_before(self, name: str) -> float:
        return self.before_first_epoch.get(name, 0.0)

    def timed(self, name: str, function):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - began

        return wrapper

    def epoch_done(self, losses: dict[str, float] | None = None) -> None:
        self.epoch_ends.append(time.perf_counter())
        done = len(self.epoch_ends)
        if done % self.step and done != self.epochs:
            return
        seconds = self.epoch_ends[-1] - self.at["first_epoch"]
        extra = " ".join(f"{k}={v:.3g}" for k, v in (losses or {}).items())
        print(
            f"[{self.tag}] epoch {done}/{self.epochs} ({100 * done // self.epochs}%) "
            f"{seconds:.1f} s training, {seconds / done:.3f} s/epoch {extra}".rstrip(),
            file=sys.stderr,
            flush=True,
        )

    def since_start(self, name: str) -> float:
        return self.at[name] - self.start


def child_ours(work: Path, tag: str, epochs: int, train) -> dict:
    import synthwright.generators.neural.condition_sampler as sampler_module
    import synthwright.generators.neural.encoding as encoding_module
    from synthwright.generators.base import ProgressUpdate
    from synthwright.generators.registry import create_generator

    model = create_generator("ctgan", {"epochs": epochs}, seed=SEED)
    marks = Marks(tag, epochs)
    table_encoding, sampler = encoding_module.TableEncoding, sampler_module.ConditionSampler
    # classmethods: wrap the bound method and put it back as a plain attribute of the class
    table_encoding.fit_transform = marks.timed("TableEncoding.fit_transform", table_encoding.fit_transform)
    sampler.build = marks.timed("ConditionSampler.build", sampler.build)

    def progress(update: ProgressUpdate) -> None:
        if update.total is None:
            marks.mark("encoding")
        elif update.done == 0:
            marks.mark("first_epoch")
        else:
            marks.epoch_done(update.metrics)

    contract = load_contract(CONTRACT)
    marks.start = time.perf_counter()
    model.fit(train, contract, progress=progress)
    end = time.perf_counter()
    first, last = marks.at["first_epoch"], marks.epoch_ends[-1]
    phases = {
        "before_first_epoch": first - marks.start,
        "input_and_column_plan": marks.since_start("encoding"),
        "encoding_to_first_epoch": first - marks.at["encoding"],
        "TableEncoding.fit_transform": marks.spent_before("TableEncoding.fit_transform"),
        "ConditionSampler.build": marks.spent_before("ConditionSampler.build"),
        "epochs": last - first,
        "after_last_epoch": end - last,
    }
    sample_started = time.perf_counter()
    synthetic = model.sample(len(train), seed=SEED)
    sample_seconds = time.perf_counter() - sample_started
    write_frame(synthetic, contract, work / f"{tag}-sample.parquet")
    return {
        "fit_seconds": end - marks.start,
        "phases": phases,
        "epochs_completed": len(marks.epoch_ends),
        "epoch_ends": marks.epoch_ends,
        "first_epoch_seconds": marks.epoch_ends[0] - first,
        "sample_seconds": sample_seconds,
        "device": model.training_["device"],
        "reported_training_seconds": model.training_["seconds"],
        "conform_problems": [],
    }


def child_sdv(work: Path, tag: str, epochs: int, train) -> dict:
    import random
    import warnings

    import ctgan.data_sampler
    import ctgan.data_transformer
    import ctgan.synthesizers.ctgan as ctgan_module
    import torch  # noqa: TID251 (the benchmark seeds SDV's torch, as synthwright.generators.base.seeded does)
    from sdv.logging.utils import disable_single_table_logger
    from sdv.single_table import CTGANSynthesizer

    from synthwright.data_contracts.conform import conform
    from synthwright.data_contracts.sdv_metadata import TABLE, sdv_metadata
    from synthwright.generators.copula import _for_sdv

    def seed_all() -> None:
        random.seed(SEED)
        np.random.seed(SEED)
        torch.manual_seed(SEED)

    contract = load_contract(CONTRACT)
    data = _for_sdv(train[list(sdv_columns(contract))])
    marks = Marks(tag, epochs)
    transformer, data_sampler = ctgan.data_transformer.DataTransformer, ctgan.data_sampler.DataSampler
    transformer.fit = marks.timed("ctgan.DataTransformer.fit", transformer.fit)
    transformer.transform = marks.timed("ctgan.DataTransformer.transform", transformer.transform)
    data_sampler.__init__ = marks.timed("ctgan.DataSampler", data_sampler.__init__)

    def epoch_clock(iterable, **_):  # ctgan's epoch loop is `for i in tqdm(range(epochs), ...)`
        marks.mark("first_epoch")
        for index, item in enumerate(iterable):
            if index:
                marks.epoch_done()
            yield item
        marks.epoch_done()

    ctgan_module.tqdm = epoch_clock

    with warnings.catch_warnings(), disable_single_table_logger():
        warnings.simplefilter("ignore")
        seed_all()
        synthesizer = CTGANSynthesizer(sdv_metadata(contract), epochs=epochs)
        synthesizer.preprocess = marks.timed("sdv.preprocess", synthesizer.preprocess)
        marks.start = time.perf_counter()
        synthesizer.fit({TABLE: data})
        end = time.perf_counter()
        seed_all()
        sample_started = time.perf_counter()
        synthetic = synthesizer.sample(len(train))[TABLE]
        sample_seconds = time.perf_counter() - sample_started
    first, last = marks.at["first_epoch"], marks.epoch_ends[-1]
    parts = {
        name: marks.spent_before(name)
        for name in (
            "sdv.preprocess",
            "ctgan.DataTransformer.fit",
            "ctgan.DataTransformer.transform",
            "ctgan.DataSampler",
        )
    }
    phases = {
        "before_first_epoch": first - marks.start,
        **parts,
        "other_before_first_epoch": first - marks.start - sum(parts.values()),  # validation, networks
        "epochs": last - first,
        "after_last_epoch": end - last,
    }
    conformed, problems = conform(synthetic, contract)
    write_frame(conformed, contract, work / f"{tag}-sample.parquet")
    return {
        "fit_seconds": end - marks.start,
        "phases": phases,
        "epochs_completed": len(marks.epoch_ends),
        "epoch_ends": marks.epoch_ends,
        "first_epoch_seconds": marks.epoch_ends[0] - first,
        "sample_seconds": sample_seconds,
        "device": str(synthesizer._model._device),
        "conform_problems": problems,
    }


def child(args: argparse.Namespace) -> None:
    work, tag = Path(args.work), args.tag
    contract = load_contract(CONTRACT)
    train = read_frame(work / "train.parquet", contract)
    started = time.perf_counter()
    import ctgan.synthesizers.ctgan  # noqa: F401  (both models train ctgan's networks)
    import torch  # noqa: TID251 (threads are recorded; torch is imported by both models anyway)

    if args.child == "sdv":
        import sdv.single_table  # noqa: F401
    else:
        import synthwright.generators.ctgan  # noqa: F401
        import synthwright.generators.neural.activation  # noqa: F401
        import synthwright.generators.neural.condition_sampler  # noqa: F401
        import synthwright.generators.neural.critic  # noqa: F401
        import synthwright.generators.neural.device  # noqa: F401
        import synthwright.generators.neural.training  # noqa: F401
        import synthwright.generators.neural.weights  # noqa: F401
    import_seconds = time.perf_counter() - started
    if args.threads:
        torch.set_num_threads(args.threads)
    run = child_ours if args.child == "ours" else child_sdv
    result = run(work, tag, args.epochs, train)
    result["phases"] = {k: round(v, 3) for k, v in result["phases"].items()}
    epochs_done = result["epochs_completed"]
    durations = np.diff(result.pop("epoch_ends"))  # epochs after the first (which warms torch up)
    result.update(
        epoch_seconds_median=round(float(np.median(durations)), 4) if len(durations) else None,
        fit_seconds=round(result["fit_seconds"], 3),
        seconds_per_epoch=round(result["phases"]["epochs"] / max(epochs_done, 1), 4),
        first_epoch_seconds=round(result["first_epoch_seconds"], 3),
        sample_seconds=round(result["sample_seconds"], 3),
        import_seconds=round(import_seconds, 3),
        torch_threads=torch.get_num_threads(),
        sample_file=f"{tag}-sample.parquet",
    )
    phases = result["phases"]
    print(
        f"[{tag}] fit {result['fit_seconds']:.1f} s ({phases['before_first_epoch']:.1f} s before the first "
        f"epoch, {result['seconds_per_epoch']:.3f} s/epoch), sample {result['sample_seconds']:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    (work / f"{tag}.json").write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="epochs for both (SDV's default: 300)")
    parser.add_argument("--rows", type=int, default=None, help="a seeded subsample of Adult (smoke runs)")
    parser.add_argument("--order", choices=("sdv-first", "ours-first"), default="sdv-first")
    parser.add_argument("--repeats", type=int, default=1, help="fits of each, alternating")
    parser.add_argument("--threads", type=int, help="torch threads in both children (default: torch's)")
    parser.add_argument("--out", help="also write the JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the folder with the data and samples")
    parser.add_argument("--child", choices=CANDIDATES, help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 1 or args.repeats < 1 or (args.threads is not None and args.threads < 1):
        parser.error("--epochs, --repeats and --threads must be at least 1")
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
