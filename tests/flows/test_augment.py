"""`synthwright augment` end to end on the demo table (215 students: 148 placed, 67 not), one test per
request form, with the published row counts and class proportions read back from the Parquet parts.

The tests share one cache folder, so the copula is fitted once and every later request reuses it (the
request's fit key is the pipeline's). Fidelity gates are off: the conditioned rows are compared with
at most 67 real rows, too few for the default bounds to mean much; the forms are what is tested here.
The privacy bounds are demo.yaml's (real rows scored as synthetic reach 0.6 on this small table), and
the attacks' gates are off: their control attack runs on the 13 holdout rows of a group.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from cli_support import Result, assert_clean_user_error, cli
from support import REPO

from synthwright.pipelines.store import Store, read_version

CONTRACT = REPO / "data_contracts" / "examples" / "student_placements.yaml"
REAL_ROWS, PLACED, NOT_PLACED = 215, 148, 67


@pytest.fixture(scope="module")
def request_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("augment")
    path = folder / "request.yaml"
    path.write_text(
        f"""\
dataset: placements-more
source: {{builtin: student_placements}}
contract: {CONTRACT}
target: placed
rebalance: {{placed: {{"false": 0.5}}}}
generator: {{name: copula}}
gates: {{shape_error_max: null, trend_error_max: null, detection_auc_max: null, dcr_share_max: 0.7,
        mia_auc_max: 0.7, singling_out_risk_max: null, attribute_inference_risk_max: null}}
cache: {{root: {folder / "cache"}}}
"""
    )
    return path


def augment(capsys, request_file: Path, root: Path, *args) -> Result:
    return cli(capsys, "augment", request_file, "--json", "--set", f"output.root={root}", *args)


def published(result: Result, root: Path) -> tuple[dict, pd.DataFrame, dict]:
    assert result.code == 0, result.err[-3000:]
    summary = json.loads(result.out)
    assert summary["status"] == "published", summary
    version = Store(root).version(summary["dataset"], None)
    manifest = json.loads((version.path / "manifest.json").read_text())
    return summary, read_version(version), manifest


def test_rebalance_publishes_every_real_row_and_enough_rare_rows_for_half(
    capsys, prefect_api_url, request_file, tmp_path
):
    summary, table, manifest = published(augment(capsys, request_file, tmp_path), tmp_path)
    added = PLACED - NOT_PLACED
    counts = (summary["real_rows"], summary["synthetic_rows"], summary["rows"])
    assert counts == (REAL_ROWS, added, 2 * PLACED)
    assert len(table) == 2 * PLACED and table["is_synthetic"].dtype == bool
    real, synthetic = table[~table["is_synthetic"]], table[table["is_synthetic"]]
    assert len(real) == REAL_ROWS and len(synthetic) == added
    assert synthetic["placed"].eq(False).all()  # the copula's own conditional sampling
    assert table["placed"].value_counts(normalize=True).to_dict() == {True: 0.5, False: 0.5}
    assert table["student_id"].is_unique  # synthetic ids continue after the real ones
    # the request and what it did are in the manifest
    assert manifest["kind"] == "augmented"
    assert manifest["request"]["rebalance"] == {"placed": {"false": 0.5}}
    shares = manifest["augmentation"]["shares"]
    assert shares["real"] == {"False": round(NOT_PLACED / REAL_ROWS, 4), "True": round(PLACED / REAL_ROWS, 4)}
    assert shares["published"] == {"False": 0.5, "True": 0.5}
    # the scorecard measures the lift against SMOTE's, on the real holdout, gated by default
    metrics = {m["name"]: m for m in summary["scorecard"]["metrics"]}
    thresholds = {"minority_f1_lift": 0.0, "roc_auc_lift": -0.01, "balanced_accuracy_lift": -0.01}
    for name, threshold in thresholds.items():
        assert metrics[name]["direction"] == "min" and metrics[name]["threshold"] == threshold
    assert metrics["augmented_contract_violations"]["value"] == 0
    lift = manifest["evaluation"]["utility_lift"]
    assert lift["minority_class"] == "False" and set(lift["smote_lift"]) == set(lift["lift"])
    assert lift["rows"]["holdout"] == REAL_ROWS - manifest["split"]["train_rows"]
    # and the published version passes the CI check
    check = cli(capsys, "check", "--version", "placements-more@v1", "--root", tmp_path)
    assert check.code == 0, check.out


def test_rows_adds_that_many_and_the_marker_column_can_be_renamed(
    capsys, prefect_api_url, request_file, tmp_path
):
    result = augment(capsys, request_file, tmp_path, "--rows", "40", "--set", "synthetic_column=synthetic")
    summary, table, manifest = published(result, tmp_path)
    assert len(table) == REAL_ROWS + 40 and int(table["synthetic"].sum()) == 40
    assert "is_synthetic" not in table.columns
    assert manifest["request"]["rows"] == 40 and manifest["request"]["rebalance"] is None
    assert summary["cached_steps"] and "fit" in summary["cached_steps"]  # the first test's fit


def test_multiplier_sets_the_final_size(capsys, prefect_api_url, request_file, tmp_path):
    _, table, manifest = published(augment(capsys, request_file, tmp_path, "--multiplier", "1.5"), tmp_path)
    added = round(REAL_ROWS * 0.5)
    assert len(table) == REAL_ROWS + added and int(table["is_synthetic"].sum()) == added
    assert manifest["augmentation"]["plan"]["form"] == "multiplier"


def test_conditions_add_rows_with_those_values(capsys, prefect_api_url, request_file, tmp_path):
    result = augment(capsys, request_file, tmp_path, "--rows", "60", "--condition", "gender=F")
    _, table, manifest = published(result, tmp_path)
    synthetic = table[table["is_synthetic"]]
    assert len(table) == REAL_ROWS + 60 and len(synthetic) == 60
    assert synthetic["gender"].eq("F").all()
    assert manifest["request"]["conditions"] == [{"gender": "F", "rows": 60}]
    (group,) = manifest["augmentation"]["plan"]["groups"]
    assert group["conditions"] == {"gender": "F"} and group["rows"] == 60


def assert_refused(result: Result, *needles: str) -> None:
    """Exit 2 with one `error:` line and a `fix:` (the flow's own log lines come before them)."""
    assert result.code == 2, result.err[-3000:]
    assert "Traceback" not in result.err and result.out == ""
    lines = result.err.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1 and lines[errors[0] + 1].strip().startswith("fix: "), result.err[-3000:]
    for needle in needles:
        assert needle in lines[errors[0]] + lines[errors[0] + 1], lines[errors[0] :]


def test_a_request_that_cannot_be_met_fails_before_any_fit(
    capsys, caplog, prefect_api_url, request_file, tmp_path
):
    caplog.set_level(logging.INFO, logger="synthwright")
    result = augment(capsys, request_file, tmp_path, "--rows", "30", "--condition", "gender=X")
    assert_refused(result, "gender", "'X'", "allowed: 'F', 'M'")
    result = augment(capsys, request_file, tmp_path, "--rows", "5000", "--condition", "gender=F")
    assert_refused(result, "gates.synthetic_per_real_max", "ask for at most")
    steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("step=")]
    assert any(s.startswith("step=split") for s in steps)  # the log is seen
    assert not any(s.startswith(("step=fit", "step=plan")) for s in steps)  # the plan failed, no fit ran
    assert Store(tmp_path).versions("placements-more") == []


def test_bad_flags_are_refused_before_any_flow(capsys, request_file, tmp_path):
    assert_clean_user_error(
        augment(capsys, request_file, tmp_path, "--condition", "gender=F"), "--condition needs --rows"
    )
    assert_clean_user_error(
        augment(capsys, request_file, tmp_path, "--rows", "5", "--multiplier", "2"), "give one of"
    )
    assert_clean_user_error(augment(capsys, request_file, tmp_path, "--set", "rows=0"), "request.yaml")


def test_a_required_lift_that_is_not_met_publishes_nothing(capsys, prefect_api_url, request_file, tmp_path):
    result = augment(capsys, request_file, tmp_path, "--set", "gates.roc_auc_lift_min=0.5")
    assert result.code == 1, result.err[-3000:]
    rejection = json.loads(result.out)
    assert rejection["status"] == "rejected" and "roc_auc_lift" in json.dumps(rejection)
    assert Store(tmp_path).versions("placements-more") == []


def test_a_missing_source_file_is_refused_before_prefect_starts(capsys, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    missing = tmp_path / "gone.csv"
    result = cli(capsys, "augment", "--source", missing, "--dataset", "x", "--rows", "5")
    assert_clean_user_error(result, "gone.csv", "not found")
    assert not [r for r in caplog.records if r.name.startswith("prefect")]
