"""`synthwright evaluate`: exit codes, JSON, the report file, gate overrides and clear errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.io import save_contract
from synthwright.pipelines.cli import main
from synthwright.pipelines.frames import write_frame

ROWS = 600


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Train, holdout, a real "synthetic" sample, and a copier's output (train rows, faked e-mails)."""
    folder = tmp_path_factory.mktemp("evaluate")
    contract = mixed_contract()
    frame = make_mixed_frame(ROWS, seed=3)
    train, holdout, unseen = frame.iloc[:360], frame.iloc[360:480], frame.iloc[480:]
    copies = train.sample(len(train), replace=True, random_state=0).reset_index(drop=True)
    copies["email"] = [f"fake{i}@example.org" for i in range(len(copies))]
    copies["customer_id"] = range(1, len(copies) + 1)
    save_contract(contract, folder / "contract.yaml")
    paths = {"contract": folder / "contract.yaml"}
    for name, part in (("train", train), ("holdout", holdout), ("unseen", unseen), ("copies", copies)):
        paths[name] = write_frame(part.reset_index(drop=True), contract, folder / f"{name}.parquet")
    return paths


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def evaluate_args(files: dict[str, Path], synthetic: str, report: Path, *extra: str) -> list[str]:
    return [
        "evaluate",
        "--train", str(files["train"]),
        "--holdout", str(files["holdout"]),
        "--synthetic", str(files[synthetic]),
        "--contract", str(files["contract"]),
        "--report", str(report),
        *extra,
    ]  # fmt: skip


def test_real_rows_never_seen_pass_and_exit_0_with_a_report(files, tmp_path, capsys, monkeypatch):
    # as in a new process: no handler yet (flow tests leave Prefect's console handler on this logger)
    monkeypatch.setattr(logging.getLogger("synthwright"), "handlers", [])
    report = tmp_path / "report.html"
    code, out, err = run_cli(capsys, *evaluate_args(files, "unseen", report, "--target", "colour"))
    assert code == 0, out
    for part in ("contract", "fidelity", "detection", "privacy", "utility"):
        assert f"{part} measured in" in err  # progress on stderr, stdout stays the result
    assert out.startswith("passed:") and "✓ dcr_share" in out and "✓ utility_gap" in out
    assert f"report: {report}" in out
    assert "PASSED" in report.read_text()


def test_a_copier_is_rejected_exit_1_and_json_names_the_failed_gates(files, tmp_path, capsys):
    report = tmp_path / "copier.html"
    code, out, _ = run_cli(capsys, *evaluate_args(files, "copies", report, "--json"))
    assert code == 1
    result = json.loads(out)
    assert result["passed"] is False and result["report"] == str(report)
    failed = {m["name"] for m in result["scorecard"]["metrics"] if not m["passed"]}
    assert {"exact_match_excess", "mia_auc"} <= failed
    assert result["utility"] is None  # no --target
    assert {"fidelity", "detection", "privacy", "contract", "seconds"} <= result.keys()
    assert "REJECTED" in report.read_text()


def test_gate_overrides_change_the_verdict(files, tmp_path, capsys):
    args = evaluate_args(files, "copies", tmp_path / "r.html", "--json")
    code, out, _ = run_cli(
        capsys, *args, "--gate", "exact_match_excess_max=null", "--gate", "mia_auc_max=null",
        "--gate", "dcr_share_max=1", "--gate", "singling_out_risk_max=null",
        "--gate", "linkability_risk_max=null", "--gate", "attribute_inference_risk_max=null",
    )  # fmt: skip
    assert code == 0, [m for m in json.loads(out)["scorecard"]["metrics"] if not m["passed"]]
    code, _, err = run_cli(capsys, *args, "--gate", "no_such_gate=1")
    assert code == 2 and "no_such_gate" in err


def test_regression_task_and_bad_task_or_target(files, tmp_path, capsys):
    args = evaluate_args(files, "unseen", tmp_path / "r.html", "--json", "--target", "income")
    code, out, _ = run_cli(capsys, *args, "--task", "regression")
    assert code in (0, 1) and json.loads(out)["utility"]["task"] == "regression"
    code, _, err = run_cli(capsys, *args, "--task", "ranking")
    assert code == 2 and "--task must be classification or regression" in err
    code, _, err = run_cli(capsys, *evaluate_args(files, "unseen", tmp_path / "r.html", "--target", "nope"))
    assert code == 2 and "'nope' is not a column" in err and "Traceback" not in err


def test_a_missing_file_is_exit_2_naming_it(files, tmp_path, capsys):
    args = evaluate_args(files, "unseen", tmp_path / "r.html")
    args[args.index("--synthetic") + 1] = str(tmp_path / "missing.parquet")
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "missing.parquet" in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_synthetic_values_that_do_not_parse_are_contract_violations(files, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    frame = make_mixed_frame(120, seed=9)
    frame["age"] = frame["age"].astype(object)
    frame.loc[:4, "age"] = "old"
    frame.to_csv(bad, index=False)
    args = evaluate_args(files, "unseen", tmp_path / "r.html", "--json")
    args[args.index("--synthetic") + 1] = str(bad)
    code, out, _ = run_cli(capsys, *args)
    assert code == 1
    metrics = {m["name"]: m for m in json.loads(out)["scorecard"]["metrics"]}
    assert not metrics["contract_violations"]["passed"]
