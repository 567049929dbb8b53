"""`synthwright run` as users call it: exit codes, --json, concurrency, and the embedded mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

from synthwright.pipelines.cli import main
from synthwright.pipelines.store import Store

DEMO = str(REPO / "pipelines" / "examples" / "demo.yaml")
CLI = str(Path(sys.executable).with_name("synthwright"))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def test_run_json_reports_the_published_version(prefect_api_url, tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "run", DEMO, "--json", "--set", f"output.root={tmp_path}", "--set", "sample.rows=200"
    )
    assert code == 0
    result = json.loads(out)
    assert result["status"] == "published"
    assert Path(result["version_dir"]) == tmp_path / "student_placements" / "v000001"
    assert result["scorecard"]["passed"] is True
    names = {m["name"] for m in result["scorecard"]["metrics"]}
    assert {
        "shape_error",
        "detection_auc",
        "dcr_share",
        "mia_auc",
        "utility_gap",
        "contract_violations",
    } <= names
    assert Path(result["report"]).is_file()


def test_run_human_output_names_the_version_and_scorecard(prefect_api_url, tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "run", DEMO, "--set", f"output.root={tmp_path}", "--set", "sample.rows=200"
    )
    assert code == 0
    assert "published student_placements v000001 (200 rows)" in out
    assert "✓ shape_error" in out and "✓ contract_violations 0 ≤ 0" in out
    # demo.yaml switches gates off (its comments say why): every place that shows the verdict says so
    relaxed = "relaxed gates: detection_auc off, dcr_share ≤ 0.700 (default 0.600)"
    assert f"published with {relaxed}" in out
    manifest = json.loads((tmp_path / "student_placements" / "v000001" / "manifest.json").read_text())
    assert "detection_auc off" in manifest["gate"]["relaxed_gates"]
    assert manifest["scorecard"]["relaxed_gates"] == manifest["gate"]["relaxed_gates"]
    _, listing, _ = run_cli(capsys, "versions", "student_placements", "--root", tmp_path, "--json")
    assert json.loads(listing)[0]["gate"].startswith("passed (relaxed: detection_auc off")
    report = (tmp_path / "student_placements" / "v000001" / "report.html").read_text()
    assert "PASSED (relaxed gates)" in report and "detection_auc off" in report


def test_rejected_run_exits_1_with_status_rejected(prefect_api_url, tmp_path, capsys):
    code, out, err = run_cli(
        capsys,
        "run",
        DEMO,
        "--json",
        "--set",
        f"output.root={tmp_path}",
        "--set",
        "gates.shape_error_max=0.1",
    )
    assert code == 1
    result = json.loads(out)
    assert result["status"] == "rejected" and result["version_dir"] is None
    assert (Path(result["report_dir"]) / "rejection.json").is_file()
    assert Store(tmp_path).versions("student_placements") == []


def test_bad_spec_exits_2_naming_file_and_key(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("dataset: x\nsource: {builtin: student_placements}\nsplitt: {holdout: 0.2}\n")
    code, out, err = run_cli(capsys, "run", str(spec))
    assert code == 2 and out == ""
    assert "spec.yaml" in err and "splitt: unknown key" in err
    assert "Traceback" not in err
    code, _, err = run_cli(capsys, "run", str(spec), "--set", "seed")
    assert code == 2 and "--set expects KEY=VALUE" in err


def _run_process(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_concurrent_runs_get_two_versions(prefect_api_url, tmp_path):
    env = {**os.environ, "PREFECT_API_URL": prefect_api_url}
    args = ["run", DEMO, "--json", "--set", f"output.root={tmp_path}", "--set", "sample.rows=200"]
    processes = [_run_process(args, env) for _ in range(2)]
    try:
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:  # a failure must not leave a process running into the next test
            if process.poll() is None:
                process.kill()
                process.communicate()
    results = []
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    assert sorted(r["version"] for r in results) == ["v000001", "v000002"]
    assert [v.name for v in Store(tmp_path).versions("student_placements")] == ["v000001", "v000002"]


def test_a_rejected_run_prints_a_clear_reason_and_no_traceback(prefect_api_url, tmp_path):
    env = {**os.environ, "PREFECT_API_URL": prefect_api_url}
    args = ["run", DEMO, "--set", f"output.root={tmp_path}", "--set", "gates.trend_error_max=1"]
    process = _run_process(args, env)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err[-2000:]
    assert "failed: student_placements: the synthetic data failed the gate(s) trend_error" in err
    assert "fix: " in err and "details: " in err
    assert "Traceback" not in err and out == ""


def test_embedded_mode_needs_no_server(tmp_path):
    """No PREFECT_API_URL: Prefect starts its own temporary server, as `make demo` does."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(
        REPO / ".pytest_cache" / "prefect-home"
    )  # warm after the first run; created by run
    process = _run_process(["run", DEMO, "--json", "--set", f"output.root={tmp_path}"], env)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-2000:]
    result = json.loads(out)
    assert result["status"] == "published" and result["rows"] == 1000
    assert "Starting temporary server" in err


def test_an_unwritable_prefect_home_is_a_clear_error(tmp_path):
    """Embedded mode keeps Prefect's database in PREFECT_HOME; a home that cannot exist is bad input."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(blocker / "home")
    process = _run_process(["run", DEMO, "--set", f"output.root={tmp_path}"], env)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2, err[-2000:]
    assert "cannot create the Prefect home folder" in err and "fix: set PREFECT_HOME" in err
    assert "Traceback" not in err
