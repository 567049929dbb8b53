"""What Prefect orchestration costs and what the step cache saves, on the Adult copula pipeline.

One process, one embedded Prefect server, started by a small warm-up run of the demo spec and then
kept (as a team's server or `synthwright serve` keeps it), so server start-up is not counted:

- direct:      the graph as a plain function (synthwright.pipelines.run.run), no Prefect at all;
- flow:        the same steps as the `synthesize` flow, cache off (the orchestration overhead);
- first/rerun: the flow with the cache on, on an empty cache and again unchanged.

`direct` and `flow` alternate, `--rounds` times each. Prints one JSON object: wall seconds of each
run, overhead = median(flow) / median(direct) − 1 (target < 10 %), speed-up = first / rerun (target
≥ 10×), and whether every run published the same Parquet bytes.

    .venv/bin/python benchmarks/orchestration_adult.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthwright.flows.synthesize import run_pipeline  # noqa: E402
from synthwright.pipelines.run import run  # noqa: E402
from synthwright.pipelines.spec import load_spec  # noqa: E402

SPEC = REPO / "pipelines" / "examples" / "adult.yaml"
DEMO = REPO / "pipelines" / "examples" / "demo.yaml"


def run_direct(spec) -> tuple[float, bytes]:
    """The graph as a plain function call (what a library user writes): `run(spec)`."""
    started = time.perf_counter()
    result = run(spec)
    return time.perf_counter() - started, _bytes(result.version_dir)


def run_flow(spec) -> tuple[float, bytes, list[str]]:
    started = time.perf_counter()
    result = run_pipeline(spec)
    return time.perf_counter() - started, _bytes(result.version_dir), result.run["cached_steps"]


def _bytes(version_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(Path(version_dir).glob("part-*.parquet")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestration-") as folder:
        root = Path(folder)
        os.environ["SYNTHWRIGHT_CACHE_DIR"] = str(root / "cache")
        run_pipeline(load_spec(DEMO, [f"output.root={root / 'warmup'}", "cache.enabled=false"]))
        uncached = load_spec(SPEC, [f"output.root={root / 'out'}", "cache.enabled=false"])
        cached = load_spec(SPEC, [f"output.root={root / 'out'}"])
        direct, flow, outputs = [], [], []
        for _ in range(args.rounds):
            seconds, data = run_direct(uncached)
            direct.append(seconds)
            outputs.append(data)
            seconds, data, _ = run_flow(uncached)
            flow.append(seconds)
            outputs.append(data)
        first, first_bytes, first_cached = run_flow(cached)
        rerun, rerun_bytes, rerun_cached = run_flow(cached)
        outputs += [first_bytes, rerun_bytes]
    overhead = statistics.median(flow) / statistics.median(direct) - 1
    print(
        json.dumps(
            {
                "spec": str(SPEC.relative_to(REPO)),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "direct_seconds": [round(s, 2) for s in direct],
                "flow_seconds": [round(s, 2) for s in flow],
                "flow_overhead": round(overhead, 4),
                "flow_overhead_target": "< 0.10",
                "cached_first_seconds": round(first, 2),
                "cached_rerun_seconds": round(rerun, 2),
                "rerun_speedup": round(first / rerun, 1),
                "rerun_speedup_target": ">= 10",
                "steps_reused_on_rerun": rerun_cached,
                "steps_reused_on_first": first_cached,
                "same_bytes_every_run": len(set(outputs)) == 1,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
