"""The pipeline's graph as plain functions (`run`, `augment`), on the demo table, without Prefect:
publish, the gates and their rejection records, tournaments, approval, augmentation, and a process
where prefect cannot even be imported. (tests/flows/ runs the same graph through Prefect.)"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import REPO

from synthwright.data_contracts.io import load_contract, save_contract
from synthwright.errors import (
    ApprovalRejectedError,
    ConfigError,
    ContractViolationError,
    GateFailedError,
    SourceError,
)
from synthwright.files import file_sha256
from synthwright.pipelines.augment_request import load_request
from synthwright.pipelines.augment_steps import augment
from synthwright.pipelines.gate import Answer
from synthwright.pipelines.run import LocalRunner, run
from synthwright.pipelines.spec import load_spec
from synthwright.pipelines.store import Store

DEMO = REPO / "pipelines" / "examples" / "demo.yaml"
CONTENDERS = "generators=[{name: copula}, {name: bootstrap}, {name: ctgan, config: {epochs: 1}}]"
STEPS = ["ingest", "validate_input", "split", "fit", "sample", "evaluate", "publish"]


def demo_spec(root: Path, *overrides: str):
    return load_spec(DEMO, [f"output.root={root}", "sample.rows=300", *overrides])


def parts(version_dir: str | Path) -> list[Path]:
    return sorted(Path(version_dir).glob("part-*.parquet"))


def steps_logged(caplog) -> list[str]:
    return [r.getMessage().split()[0] for r in caplog.records if r.getMessage().startswith("step=")]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    return root, run(demo_spec(root)), run(demo_spec(root))


def test_a_run_publishes_a_complete_version(published):
    root, result, _ = published
    assert result.status == "published"
    assert result.version == "v000001" and result.rows == 300
    folder = result.version_dir
    assert folder == root / "student_placements" / "v000001"
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("source", "contract", "generator", "seed", "code_version", "scorecard", "gate"):
        assert key in manifest, key
    for key in ("evaluation", "files", "attachments", "spec", "run"):
        assert key in manifest, key
    assert {"fidelity", "detection", "privacy", "utility", "contract"} <= manifest["evaluation"].keys()
    assert [a["name"] for a in manifest["attachments"]] == ["report.html"]
    assert file_sha256(folder / "report.html") == manifest["attachments"][0]["sha256"]
    assert result.report == folder / "report.html"
    assert "student_placements" in (folder / "report.html").read_text()
    assert manifest["gate"]["passed"] is True and manifest["scorecard"] == result.scorecard.to_dict()
    assert manifest["generator"]["name"] == "copula" and manifest["seed"] == 0
    assert len(manifest["source"]["sha256"]) == 64
    assert [f["name"] for f in manifest["files"]] == [p.name for p in parts(folder)]
    assert all(file_sha256(folder / f["name"]) == f["sha256"] for f in manifest["files"])
    assert list(result.run["timings"]) == STEPS
    assert "flow_run_id" not in manifest["run"]  # no orchestrator, no run id to record
    assert not (root / "student_placements" / "rejected").exists()
    assert result.to_dict()["version_dir"] == str(folder)


def test_same_seed_gives_identical_parquet_bytes(published):
    _, first, second = published
    assert second.version == "v000002"
    assert [p.read_bytes() for p in parts(first.version_dir)] == [
        p.read_bytes() for p in parts(second.version_dir)
    ]


def test_another_seed_gives_other_bytes(published, tmp_path):
    _, first, _ = published
    other = run(demo_spec(tmp_path, "seed=1"))
    assert parts(other.version_dir)[0].read_bytes() != parts(first.version_dir)[0].read_bytes()


def test_a_failed_gate_publishes_nothing_and_records_why(tmp_path):
    with pytest.raises(GateFailedError, match="trend_error") as info:
        run(demo_spec(tmp_path, "gates.trend_error_max=0.5"))
    assert Store(tmp_path).versions("student_placements") == []
    record = json.loads((Path(info.value.report_dir) / "rejection.json").read_text())
    assert record["stage"] == "gates"
    failed = [m["name"] for m in record["scorecard"]["metrics"] if not m["passed"]]
    assert failed == ["trend_error"]
    report = Path(info.value.report_dir) / "report.html"
    assert record["report"] == str(report) and "trend_error" in report.read_text()
    assert json.loads((report.parent / "evaluation.json").read_text())["passed"] is False
    assert "tune the generator(s)" in info.value.hint and str(info.value.report_dir) in info.value.hint


def test_input_that_breaks_its_contract_is_stopped_before_fitting(tmp_path, caplog):
    contract = load_contract(REPO / "data_contracts" / "examples" / "student_placements.yaml")
    columns = [c.model_copy(update={"max": 70.0}) if c.name == "mba_perc" else c for c in contract.columns]
    save_contract(contract.model_copy(update={"columns": columns}), tmp_path / "strict.yaml")
    caplog.set_level(logging.INFO, logger="synthwright")
    with pytest.raises(ContractViolationError, match="'mba_perc': .* outside") as info:
        run(demo_spec(tmp_path, f"contract={tmp_path / 'strict.yaml'}"))
    record = json.loads((Path(info.value.report_dir) / "rejection.json").read_text())
    assert record["stage"] == "input_contract" and record["violations"]["passed"] is False
    assert Store(tmp_path).versions("student_placements") == []
    assert steps_logged(caplog) == ["step=ingest", "step=reject"]


def test_a_missing_source_file_is_a_clear_error_before_any_step(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="synthwright")
    spec = demo_spec(tmp_path, "source.builtin=null", f"source.path={tmp_path / 'nope.csv'}")
    with pytest.raises(SourceError, match="nope.csv"):
        run(spec)
    assert steps_logged(caplog) == []


def test_an_inferred_contract_is_recorded_in_the_manifest(tmp_path):
    result = run(demo_spec(tmp_path, "contract=null", "target=null"))
    manifest = json.loads((result.version_dir / "manifest.json").read_text())
    assert manifest["contract"]["inferred"] is True
    assert manifest["contract"]["definition"]["primary_key"] == "student_id"
    assert manifest["contract"]["definition"]["dataset"] == "student_placements"


# ---- tournaments ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tournament(tmp_path_factory):
    root = tmp_path_factory.mktemp("tournament")
    return root, run(demo_spec(root, CONTENDERS))


def test_a_tournament_publishes_the_best_passing_contender_and_never_the_bootstrap(tournament):
    _, result = tournament
    record = result.run["tournament"]
    contenders = {c["contender"]: c for c in record["contenders"]}
    assert set(contenders) == {"copula", "bootstrap", "ctgan"}
    assert record["winner"] != "bootstrap"
    bootstrap = contenders["bootstrap"]
    assert not bootstrap["passed"] and {"exact_match_excess", "mia_auc"} <= set(bootstrap["failed_gates"])
    passing = [c for c in record["contenders"] if c["passed"]]
    assert record["winner"] == min(passing, key=lambda c: c["fidelity_error"])["contender"]
    manifest = json.loads((result.version_dir / "manifest.json").read_text())
    assert manifest["run"]["tournament"] == record
    assert manifest["generator"]["name"] == contenders[record["winner"]]["generator"]
    assert record["reason"].startswith(f"{record['winner']} passes every gate")
    assert "bootstrap failed" in record["reason"]
    assert {f"fit[{name}]" for name in contenders} <= set(result.run["timings"])


def test_a_tournament_nobody_passes_publishes_nothing_and_says_which_gate_each_failed(tmp_path):
    with pytest.raises(GateFailedError, match="no contender passed every gate") as info:
        run(
            demo_spec(tmp_path, "generators=[{name: copula}, {name: bootstrap}]", "gates.trend_error_max=0.1")
        )
    message = str(info.value)
    assert "copula failed trend_error" in message and "bootstrap failed" in message
    assert Store(tmp_path).versions("student_placements") == []
    folder = Path(info.value.report_dir)
    record = json.loads((folder / "rejection.json").read_text())
    assert record["tournament"]["winner"] is None
    assert info.value.tournament == record["tournament"]
    assert sorted(p.name for p in folder.glob("report-*.html")) == [
        "report-bootstrap.html",
        "report-copula.html",
    ]


def test_a_bad_contender_config_stops_the_run_before_any_step(tmp_path):
    with pytest.raises(ConfigError, match=r"(?s)generators\[ctgan\]: .*epochz"):
        run(demo_spec(tmp_path, "generators=[{name: copula}, {name: ctgan, config: {epochz: 1}}]"))
    assert not (tmp_path / "student_placements").exists()


# ---- approval -----------------------------------------------------------------------------------------


def test_an_approved_run_records_its_reviewer_in_the_manifest(tmp_path):
    asked = []

    def approver(spec, scored, decision):
        asked.append((spec.dataset, scored.scorecard.passed, decision))
        return Answer(approved=True, reviewer="ann", reason="looks right")

    result = run(demo_spec(tmp_path, "approval=required"), runner=LocalRunner(approver=approver))
    ((dataset, passed, decision),) = asked
    assert dataset == "student_placements" and passed and decision.startswith("copula passes every gate")
    approval = json.loads((result.version_dir / "manifest.json").read_text())["run"]["approval"]
    assert (
        approval["approved"] is True and approval["reviewer"] == "ann" and approval["reason"] == "looks right"
    )


def test_a_refused_run_publishes_nothing_and_records_the_refusal(tmp_path):
    def approver(spec, scored, decision):
        return Answer(approved=False, reviewer="bob", reason="too few rows")

    with pytest.raises(ApprovalRejectedError, match="rejected at approval by bob: too few rows") as info:
        run(demo_spec(tmp_path, "approval=required"), runner=LocalRunner(approver=approver))
    assert Store(tmp_path).versions("student_placements") == []
    record = json.loads((Path(info.value.report_dir) / "rejection.json").read_text())
    assert record["stage"] == "approval" and record["approval"]["reviewer"] == "bob"
    assert (Path(info.value.report_dir) / "report.html").is_file()


def test_approval_without_an_approver_is_refused_before_any_step(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="synthwright")
    with pytest.raises(ConfigError, match="approval: required") as info:
        run(demo_spec(tmp_path, "approval=required"))
    assert "LocalRunner(approver=" in info.value.hint
    assert steps_logged(caplog) == []


# ---- without Prefect ----------------------------------------------------------------------------------

NO_PREFECT = """
import sys

class NoPrefect:
    def find_spec(self, name, path=None, target=None):
        if name == "prefect" or name.startswith("prefect."):
            raise ImportError(f"{name} is blocked in this test")

sys.meta_path.insert(0, NoPrefect())
from synthwright.pipelines.run import run
from synthwright.pipelines.spec import load_spec

result = run(load_spec(sys.argv[1], [f"output.root={sys.argv[2]}", "sample.rows=300"]))
assert not any(name == "prefect" or name.startswith("prefect.") for name in sys.modules)
print(result.version_dir)
"""


def test_run_publishes_the_demo_in_a_process_where_prefect_cannot_be_imported(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(NO_PREFECT), str(DEMO), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    version = Path(done.stdout.strip().splitlines()[-1])
    assert version == tmp_path / "student_placements" / "v000001"
    assert json.loads((version / "manifest.json").read_text())["gate"]["passed"] is True


# ---- augmentation: the same graph, its own steps ------------------------------------------------------


def test_augment_runs_the_same_graph_without_prefect(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="synthwright")
    request = load_request(
        None,
        [
            "dataset=placements-more",
            # the copula, fast and deterministic: the default generator sizes its training to the machine
            "generator={name: copula}",
            "source.builtin=student_placements",
            f"contract={REPO / 'data_contracts' / 'examples' / 'student_placements.yaml'}",
            "target=placed",
            "rebalance={placed: {'false': 0.5}}",
            # the conditioned rows meet 54 real train and 13 holdout rows: the attacks' control is noise
            "gates={shape_error_max: null, trend_error_max: null, detection_auc_max: null,"
            " dcr_share_max: 0.7, mia_auc_max: 0.7, singling_out_risk_max: null,"
            " attribute_inference_risk_max: null}",
            f"output.root={tmp_path}",
        ],
    )
    result = augment(request)
    assert (result.real_rows, result.synthetic_rows, result.rows) == (215, 148 - 67, 2 * 148)
    assert result.plan["form"] == "rebalance" and result.to_dict()["plan"] == result.plan
    manifest = json.loads((result.version_dir / "manifest.json").read_text())
    assert manifest["kind"] == "augmented" and manifest["augmentation"]["shares"]["published"] == {
        "False": 0.5,
        "True": 0.5,
    }
    assert steps_logged(caplog) == [f"step={s}" for s in [*STEPS[:3], "plan", *STEPS[3:]]]


def _xor_table(path: Path) -> Path:
    """1,200 rows whose rare class (16 %) lives in two corners of (x1, x2): an interaction a Gaussian
    copula cannot learn, so its rows of that class are scattered and teach a model the wrong regions."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.uniform(-1, 1, 1200), rng.uniform(-1, 1, 1200)
    rare = ((x1 > 0.3) & (x2 > 0.3)) | ((x1 < -0.6) & (x2 < -0.6))
    frame = pd.DataFrame({"x1": x1.round(4), "x2": x2.round(4), "label": np.where(rare, "yes", "no")})
    frame.to_csv(path, index=False)
    return path


def test_an_augmentation_that_lowers_the_minority_f1_is_rejected_by_default_with_the_lift_shown(tmp_path):
    request = load_request(
        None,
        [
            "dataset=xor-balanced",
            # the copula, fast and deterministic: the default generator sizes its training to the machine
            "generator={name: copula}",
            f"source.path={_xor_table(tmp_path / 'xor.csv')}",
            "target=label",
            "rebalance={label: {'yes': 0.5}}",
            # fidelity and the row-level privacy bounds open: this is about the lift gates' defaults
            "gates={shape_error_max: null, trend_error_max: null, detection_auc_max: null,"
            " dcr_share_max: 0.7}",
            f"output.root={tmp_path / 'out'}",
        ],
    )
    with pytest.raises(GateFailedError, match="minority_f1_lift") as caught:
        augment(request)
    failed = {m.name: m for m in caught.value.scorecard.failures}
    assert failed["minority_f1_lift"].value < -0.1 and failed["minority_f1_lift"].threshold == 0.0
    assert "smote" in failed["minority_f1_lift"].description.lower()
    report = (caught.value.report_dir / "report.html").read_text()
    assert "Utility lift: does adding the synthetic rows help a model?" in report
    assert "Utility was not measured" not in report
    assert Store(tmp_path / "out").versions("xor-balanced") == []


def test_a_regression_augmentation_is_held_to_its_r2_and_mae_lifts(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 600)
    pd.DataFrame({"x": x.round(3), "y": (3 * x + rng.normal(0, 1, 600)).round(3)}).to_csv(
        tmp_path / "r.csv", index=False
    )
    request = load_request(
        None,
        [
            "dataset=more-rows",
            # the copula, fast and deterministic: the default generator sizes its training to the machine
            "generator={name: copula}",
            f"source.path={tmp_path / 'r.csv'}",
            "target=y",
            "multiplier=1.5",
            "gates={detection_auc_max: null}",
            f"output.root={tmp_path / 'out'}",
        ],
    )
    try:
        scorecard = augment(request).scorecard
    except GateFailedError as error:
        scorecard = error.scorecard
    lifts = {m.name: m for m in scorecard.metrics if m.name.endswith("_lift")}
    assert set(lifts) == {"r2_lift", "mae_lift"}
    assert lifts["r2_lift"].threshold == 0.0 and lifts["mae_lift"].threshold == -0.01
    assert "relaxed gates: detection_auc off" in scorecard.relaxed_line
