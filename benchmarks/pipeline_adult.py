"""End-to-end Adult pipeline, measured as a user would run it: a new `synthwright run` process.

Prints one JSON object: wall seconds and peak RSS of each run, the per-step timings the flow reports,
rows published, the scorecard, and whether the two runs (same seed) wrote identical Parquet bytes.
The issue's target: a published version of 26k+ rows in under 60 s on 2 cores.

    .venv/bin/python benchmarks/pipeline_adult.py [--runs 2] [--keep]
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
SPEC = REPO / "pipelines" / "examples" / "adult.yaml"
CLI = Path(sys.executable).with_name("synthwright")


def run_once(root: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    process = subprocess.run(
        [str(CLI), "run", str(SPEC), "--json", "--set", f"output.root={root}"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if process.returncode != 0:
        sys.stderr.write(process.stderr[-4000:])
        raise SystemExit(f"run failed with exit code {process.returncode}")
    result = json.loads(process.stdout)
    parts = sorted(Path(result["version_dir"]).glob("part-*.parquet"))
    return {
        "wall_seconds": round(wall, 2),
        # RUSAGE_CHILDREN keeps the largest child so far: a new maximum, or the earlier one again
        "peak_rss_mib": round(max(peak_kib, before) / 1024, 1),
        "rows": result["rows"],
        "version": result["version"],
        "timings": result["timings"],
        "scorecard": {m["name"]: m["value"] for m in result["scorecard"]["metrics"]},
        "passed": result["scorecard"]["passed"],
        "part_bytes": [p.read_bytes() for p in parts],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the output folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="synthwright-bench-"))
    try:
        runs = [run_once(root) for _ in range(args.runs)]
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    identical = all(r["part_bytes"] == runs[0]["part_bytes"] for r in runs)
    for r in runs:
        del r["part_bytes"]
    print(
        json.dumps(
            {
                "benchmark": "pipeline_adult",
                "command": f"synthwright run {SPEC.relative_to(REPO)} --json",
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "prefect_home": os.environ.get("PREFECT_HOME", "~/.prefect"),
                "runs": runs,
                "same_seed_identical_parquet": identical,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
