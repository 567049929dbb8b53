"""Every shared table through the default path: no generator named, every default gate on.

For Adult (its shipped contract) and each table in `../shared/datasets/` (an inferred contract; for
the baseball folder its `people` table, which holds names), a spec names only the source, the target
and an output folder, and `run(spec)` (the plain runner, no Prefect) fits the default generator,
evaluates and applies the default gates. A gate rejection is a result here, not an error: the point
is which gates pass, the three attack risks, and the value-level leaks, table by table.

Prints one JSON object and a Markdown table (`--markdown`).

    .venv/bin/python benchmarks/default_gates_tables.py [--tables adult magic] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from synthwright.errors import GateFailedError
from synthwright.pipelines.run import run
from synthwright.pipelines.spec import PipelineSpec
from synthwright.validators.gates import Gates, Scorecard

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets"
TABLES: dict[str, dict] = {
    "adult": {
        "source": {"path": str(DATA / "adult.csv"), "na_values": ["", "?"]},
        "contract": str(REPO / "data_contracts" / "examples" / "adult.yaml"),
        "target": "income",
    },
    "default": {"source": {"path": str(DATA / "default.csv")}, "target": "default.payment.next.month"},
    "shoppers": {"source": {"path": str(DATA / "shoppers.csv")}, "target": "Revenue"},
    "magic": {"source": {"path": str(DATA / "magic.csv")}, "target": "class"},
    "beijing": {"source": {"path": str(DATA / "beijing.csv")}, "target": "pm"},
    "baseball-people": {"source": {"path": str(DATA / "baseball" / "people.csv")}, "target": "bats"},
}
SHOWN = (
    "shape_error",
    "trend_error",
    "detection_auc",
    "dcr_share",
    "mia_auc",
    "rare_value_leaks",
    "singling_out_risk",
    "linkability_risk",
    "attribute_inference_risk",
    "utility_gap",
    "utility_f1_gap",
)


def one(name: str, settings: dict, root: Path) -> dict:
    spec = PipelineSpec.model_validate(
        {"dataset": name, **settings, "seed": 0, "output": {"root": str(root)}, "cache": {"enabled": False}}
    )
    assert spec.gates == Gates() and "generator" not in spec.model_fields_set  # the default path
    started = time.perf_counter()
    try:
        scorecard: Scorecard = run(spec).scorecard
        outcome = "published"
    except GateFailedError as error:
        scorecard, outcome = error.scorecard, "rejected"
    metrics = {m.name: m for m in scorecard.metrics}
    return {
        "outcome": outcome,
        "generator": spec.generator.name,
        "seconds": round(time.perf_counter() - started, 1),
        "failed": [m.name for m in scorecard.failures],
        "metrics": {
            m.name: {"value": m.value, "threshold": m.threshold, "interval": m.interval, "passed": m.passed}
            for m in metrics.values()
        },
        "attack_details": {m.name: m.description for m in scorecard.metrics if m.name.endswith("_risk")},
    }


def markdown(results: dict) -> str:
    head = "| table | outcome | failed gates | " + " | ".join(SHOWN) + " |"
    rows = [head, "|" + " --- |" * (3 + len(SHOWN))]
    for name, result in results.items():
        cells = []
        for metric in SHOWN:
            m = result["metrics"].get(metric)
            cells.append("—" if m is None else f"{m['value']:.3g}{'' if m['passed'] else ' ✗'}")
        failed = ", ".join(result["failed"]) or "none"
        rows.append(
            f"| {name} | {result['outcome']} ({result['seconds']} s) | {failed} | " + " | ".join(cells) + " |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="default-gates-") as folder:
        for name in args.tables:
            results[name] = one(name, TABLES[name], Path(folder))
            print(f"{name}: {results[name]['outcome']}, failed {results[name]['failed']}", flush=True)
    print(json.dumps({"machine": f"{platform.node()} {platform.machine()}", "results": results}, indent=2))
    if args.markdown:
        print(markdown(results))


if __name__ == "__main__":
    main()
