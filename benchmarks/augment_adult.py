"""Adult rebalanced to 50/50: the utility lift of each generator's synthetic rows, against SMOTE.

Runs `synthwright augment pipelines/examples/adult_rebalance.yaml` once per generator, each in a new
process (cache off, so every fit is measured), and prints one JSON object: wall seconds and peak RSS,
the exit code and failed gates, the fidelity and privacy figures of the synthetic ">50K" rows against
the real ">50K" rows, and the fixed model's scores on the real holdout trained on real rows alone, on
real + synthetic rows and on real + SMOTE rows, with the lifts.

    .venv/bin/python benchmarks/augment_adult.py [--generators copula,tvae] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUEST = REPO / "pipelines" / "examples" / "augment" / "adult_rebalance.yaml"
CLI = Path(sys.executable).with_name("synthwright")
FIGURES = ("shape_error", "trend_error", "detection_auc", "dcr_share", "exact_match_excess", "mia_auc")


def run_once(generator: str, root: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    command = [
        str(CLI),
        "augment",
        str(REQUEST),
        "--json",
        "--no-cache",
        "--set",
        f"output.root={root}",
        "--set",
        f"generator.name={generator}",
        # Every figure is measured and reported; nothing is held back by a gate here.
        "--set",
        "gates.shape_error_max=null",
        "--set",
        "gates.trend_error_max=null",
    ]
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    peak_kib = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    if process.returncode not in (0, 1):
        sys.stderr.write(process.stderr[-4000:])
        return {"generator": generator, "exit": process.returncode}
    result = json.loads(process.stdout)
    folder = Path(result["version_dir"] or result["report_dir"])
    published = result["version_dir"] is not None
    record = json.loads((folder / ("manifest.json" if published else "evaluation.json")).read_text())
    evaluation = record.get("evaluation", record)
    scorecard = result["scorecard"]["metrics"]
    lift = evaluation["utility_lift"]
    return {
        "generator": generator,
        "exit": process.returncode,
        "wall_seconds": round(wall, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "timings": result.get("timings"),
        "failed_gates": [m["name"] for m in scorecard if not m["passed"]],
        "figures": {m["name"]: m["value"] for m in scorecard if m["name"] in FIGURES},
        "synthetic_rows": (record.get("augmentation") or {}).get("synthetic_rows"),
        "shares": (record.get("augmentation") or {}).get("shares"),
        "scores": {"real": lift["real"], "augmented": lift["augmented"], "smote": lift["smote"]},
        "lift": lift["lift"],
        "smote_lift": lift["smote_lift"],
        "lift_rows": lift["rows"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", default="copula,tvae")
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="synthwright-augment-bench-"))
    try:
        runs = [run_once(name, root) for name in args.generators.split(",")]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "augment_adult",
                "command": f"synthwright augment {REQUEST.relative_to(REPO)} --json --no-cache "
                "--set generator.name=NAME (fidelity gates off)",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
