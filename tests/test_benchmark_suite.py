"""The benchmark suite (benchmarks/suite.py) end to end on its smoke test, as a user runs it.

`--quick` on Adult (3,000 rows, 80/20) with our copula, SDV's copula and TabularARGN, in a new process:
each fit in its own worker, one scorer, results.json and results.md. TabularARGN's library
(mostlyai-engine) pins psutil < 6, which constraints.txt cannot hold, so it is never in the project's
virtualenv: the suite must report it as skipped, say which package is missing and how to install it,
and go on.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

from support import REPO

SUITE = REPO / "benchmarks" / "suite.py"


def test_quick_suite_scores_every_generator_and_skips_a_missing_peer(adult_path, tmp_path):
    command = [sys.executable, str(SUITE), "--quick", "--tables", "adult"]
    command += ["--generators", "copula", "sdv-copula", "tabularargn", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] and results["machine"]["cpu_count"] >= 1 and results["machine"]["torch"]
    assert "--quick" in results["command"]
    assert results["tables"]["adult"]["train_rows"] == 2400
    assert results["tables"]["adult"]["holdout_rows"] == 600
    assert (tmp_path / "tables" / "adult" / "train.parquet").exists()
    rows = {row["generator"]: row for row in results["rows"]}
    assert list(rows) == ["copula", "sdv-copula", "tabularargn"]

    for name in ("copula", "sdv-copula"):
        row = rows[name]
        assert row["status"] == "ok", row
        assert math.isfinite(row["shape_error"]) and math.isfinite(row["trend_error"])
        assert 0 <= row["detection_auc"] <= 1
        assert row["utility_metric"] == "roc_auc" and 0 <= row["tstr"] <= 1 and 0 <= row["trtr"] <= 1
        assert 0 <= row["dcr_share"] <= 1
        assert row["fit_seconds"] > 0 and row["sample_rows_per_second"] > 0 and row["peak_rss_mib"] > 0
        assert row["synthetic_rows"] == 2400
    assert rows["copula"]["trtr"] == rows["sdv-copula"]["trtr"]  # the same real model, whoever generated

    skipped = rows["tabularargn"]
    assert skipped["status"] == "skipped", skipped
    assert "mostlyai-engine" in skipped["reason"] and "pip install" in skipped["reason"]
    assert "tabularargn: skipped" in done.stdout

    report = (tmp_path / "results.md").read_text()
    assert "| copula |" in report and "| sdv-copula |" in report
    assert "| tabularargn (skipped) |" in report and "mostlyai-engine" in report
    assert "*TabSyn (published)* | 0.79 | 2.05 |" in report
