"""Our privacy attacks (`synthwright.validators.attacks`) against anonymeter's, on Adult.

Adult is split 80/20 (seed 0, stratified by income, as `evaluate_adult.py`): 26,048 train rows, 6,513
holdout rows. Candidates, each 26,048 rows:

- copula: the Gaussian copula fitted on train (seconds to fit);
- copier: the training rows themselves, the worst case every attack must flag.

The three tables are written as Parquet; ours runs on them in this process (one thread, timed), and
anonymeter 1.1 runs on the same files in its own virtual environment (`anonymeter_side.py`; anonymeter
pins numpy < 1.27) with the same number of attacks, the same linkability halves and the same secret
columns. Both sides draw their own random targets and predicates, so figures agree when their 95 %
intervals overlap, not digit for digit. Singling out is compared twice: ours as it runs by default
against anonymeter as released, and ours with `size_model="anonymeter"` against anonymeter with its
size correction fitted to the predicates that single out (1.1 fits a constant, so its control count
is scaled by an arbitrary factor). Prints a table on stderr and one JSON object on stdout.

    python3.11 -m venv /tmp/anon-venv && /tmp/anon-venv/bin/pip install anonymeter
    .venv/bin/python benchmarks/attacks_vs_anonymeter.py --anonymeter-python /tmp/anon-venv/bin/python \
        [--candidates copula copier] [--n-attacks 500] [--seed 0] [--out FOLDER]
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

from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from synthwright.data_contracts.io import load_contract
from synthwright.data_contracts.model import NUMERIC_KINDS, Contract
from synthwright.generators.registry import create_generator
from synthwright.pipelines.frames import read_frame, write_frame
from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest
from synthwright.validators.attacks import attack_risks
from synthwright.validators.features import scored_columns

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO.parent / "shared" / "datasets" / "adult.csv"
CONTRACT = REPO / "data_contracts" / "examples" / "adult.yaml"
SIDE = REPO / "benchmarks" / "anonymeter_side.py"
CANDIDATES = ("copula", "copier")


def prepare(folder: Path, contract: Contract, candidates: list[str], seed: int) -> dict[str, Path]:
    """Write train.parquet, holdout.parquet and one file per candidate; returns candidate → file."""
    frame = ingest(ADULT, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]), contract).frame
    train_index, holdout_index = train_test_split(
        frame.index, test_size=0.2, random_state=seed, stratify=frame["income"]
    )
    train, holdout = frame.loc[sorted(train_index)], frame.loc[sorted(holdout_index)]
    write_frame(train, contract, folder / "train.parquet")
    write_frame(holdout, contract, folder / "holdout.parquet")
    files = {}
    for name in candidates:
        if name == "copier":
            synthetic = train
        else:
            generator = create_generator(name, {"default_distribution": "beta"}, seed=seed).fit(
                train, contract
            )
            synthetic = generator.sample(len(train), seed=seed)
        files[name] = write_frame(synthetic, contract, folder / f"{name}.parquet")
    return files


def ours(
    folder: Path,
    synthetic: Path,
    contract: Contract,
    n_attacks: int,
    seed: int,
    size_model: str = "saturating",
) -> dict:
    """`attack_risks` on the files, on one thread, timed (reading the files not included)."""
    train, holdout = (read_frame(folder / f"{side}.parquet", contract) for side in ("train", "holdout"))
    fake = read_frame(synthetic, contract)
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        result = attack_risks(
            train, holdout, fake, contract, seed=seed, n_attacks=n_attacks, size_model=size_model
        )
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "size_model": size_model, **result.to_dict()}


def theirs(python: str, folder: Path, synthetic: Path, spec: dict, n_attacks: int, seed: int) -> dict:
    command = [
        python, str(SIDE),
        "--train", str(folder / "train.parquet"),
        "--holdout", str(folder / "holdout.parquet"),
        "--synthetic", str(synthetic),
        "--spec", json.dumps(spec),
        "--n-attacks", str(n_attacks),
        "--seed", str(seed),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"anonymeter_side.py failed with exit code {done.returncode}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    return result


def compare(our: dict, our_anonymeter_size: dict, their: dict) -> list[dict]:
    """One row per attack: singling out per kind, twice (ours with its default size model against
    anonymeter as released; ours with anonymeter's size model against anonymeter with that model
    fitted to the counts it was meant to fit), linkability, inference per secret."""
    singling, inference = our["singling_out"]["parts"], our["attribute_inference"]["parts"]
    singling_anonymeter = our_anonymeter_size["singling_out"]["parts"]
    pairs = []
    for mode in ("univariate", "multivariate"):
        pairs += [
            (f"singling_out {mode}", singling[mode], their[f"singling_out_{mode}"]),
            ("  anonymeter size model*", singling_anonymeter[mode], their[f"singling_out_{mode}_counted"]),
        ]
    pairs.append(("linkability", our["linkability"], their["linkability"]))
    pairs += [(f"inference {s}", part, their["attribute_inference"][s]) for s, part in inference.items()]
    rows = []
    for name, a, b in pairs:
        row = {
            "attack": name,
            "ours": {k: a[k] for k in ("risk", "interval", "main_rate", "control_rate", "n_attacks")},
        }
        if "error" in b:
            rows.append({**row, "anonymeter": b, "intervals_overlap": None})
            continue
        row["anonymeter"] = {
            "risk": round(b["risk"], 4),
            "interval": [round(v, 4) for v in b["interval"]],
            "main_rate": round(b["main_rate"], 4),
            "control_rate": round(b["control_rate"], 4),
            "n_attacks": b["n_attacks"],
        }
        row["intervals_overlap"] = max(a["interval"][0], b["interval"][0]) <= min(
            a["interval"][1], b["interval"][1]
        )
        rows.append(row)
    return rows


def table(candidate: str, rows: list[dict]) -> str:
    lines = [
        f"{candidate}:",
        f"  {'attack':<30} {'ours: risk [95% CI]  main/control':<44} "
        f"{'anonymeter: risk [95% CI]  main/control':<44} overlap",
    ]
    for row in rows:
        a, b = row["ours"], row["anonymeter"]
        if row["intervals_overlap"] is None:
            lines.append(f"  {row['attack']:<30} {_risk_text(a):<44} {b['error'][:44]:<44} -")
            continue
        overlap = "yes" if row["intervals_overlap"] else "NO"
        lines.append(f"  {row['attack']:<30} {_risk_text(a):<44} {_risk_text(b):<44} {overlap}")
    return "\n".join(lines)


def _risk_text(record: dict) -> str:
    low, high = record["interval"]
    rates = f"{record['main_rate']:.3f}/{record['control_rate']:.3f}"
    return f"{record['risk']:.3f} [{low:.3f}, {high:.3f}]  {rates}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anonymeter-python", default="/tmp/anon-venv/bin/python")
    parser.add_argument("--candidates", nargs="+", choices=CANDIDATES, default=list(CANDIDATES))
    parser.add_argument("--n-attacks", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for the Parquet files (default: a temporary one)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="synthwright-attacks-"))
    folder.mkdir(parents=True, exist_ok=True)
    contract = load_contract(CONTRACT)
    columns = scored_columns(contract)
    names = [c.name for c in columns]
    results = {}
    try:
        files = prepare(folder, contract, args.candidates, args.seed)
        for name, path in files.items():
            our = ours(folder, path, contract, args.n_attacks, args.seed)
            our_anonymeter_size = ours(folder, path, contract, args.n_attacks, args.seed, "anonymeter")
            spec = {
                "columns": names,
                "numeric": [c.name for c in columns if c.kind in NUMERIC_KINDS],
                "aux_cols": [names[: len(names) // 2], names[len(names) // 2 :]],
                "secrets": list(our["attribute_inference"].get("parts", {})),
            }
            their = theirs(args.anonymeter_python, folder, path, spec, args.n_attacks, args.seed)
            rows = compare(our, our_anonymeter_size, their)
            print(table(name, rows), file=sys.stderr)
            print(
                "  * ours with size_model='anonymeter' / anonymeter with its size correction fitted to the "
                "predicates that single out (1.1 fits a constant)",
                file=sys.stderr,
            )
            results[name] = {
                "ours": our,
                "ours_singling_out_anonymeter_size_model": our_anonymeter_size["singling_out"],
                "anonymeter": their,
                "agreement": rows,
                "overlapping": sum(bool(r["intervals_overlap"]) for r in rows),
                "compared": sum(r["intervals_overlap"] is not None for r in rows),
            }
    finally:
        if args.out is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "attacks_vs_anonymeter",
                "command": " ".join(["benchmarks/attacks_vs_anonymeter.py", *sys.argv[1:]]),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "n_attacks": args.n_attacks,
                "seed": args.seed,
                "candidates": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
