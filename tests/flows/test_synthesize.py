"""The synthesize flow end to end on the demo table, through a real Prefect server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import REPO

from data_contracts.io import load_contract, save_contract
from flows.synthesize import run_pipeline
from pipelines.spec import load_spec
from pipelines.store import Store
from synthwright.errors import ContractViolationError, GateFailedError, SourceError
from synthwright.files import file_sha256

DEMO = REPO / "pipelines" / "examples" / "demo.yaml"


def demo_spec(root: Path, *overrides: str):
    return load_spec(DEMO, [f"output.root={root}", "sample.rows=300", *overrides])


def parts(version_dir: str | Path) -> list[Path]:
    return sorted(Path(version_dir).glob("part-*.parquet"))


@pytest.fixture(scope="module")
def published(prefect_api_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    return root, run_pipeline(demo_spec(root)), run_pipeline(demo_spec(root))


def test_a_run_publishes_a_complete_version(published):
    root, result, _ = published
    assert result["status"] == "published"
    assert result["version"] == "v000001" and result["rows"] == 300
    folder = Path(result["version_dir"])
    assert folder == root / "student_placements" / "v000001"
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in (
        "source",
        "contract",
        "generator",
        "seed",
        "code_version",
        "scorecard",
        "gate",
        "evaluation",
        "files",
        "attachments",
        "spec",
    ):
        assert key in manifest, key
    assert {"fidelity", "detection", "privacy", "utility", "contract"} <= manifest["evaluation"].keys()
    assert [a["name"] for a in manifest["attachments"]] == ["report.html"]
    assert file_sha256(folder / "report.html") == manifest["attachments"][0]["sha256"]
    assert result["report"] == str(folder / "report.html")
    assert "student_placements" in (folder / "report.html").read_text()
    assert manifest["gate"]["passed"] is True and manifest["scorecard"] == result["scorecard"]
    assert manifest["generator"]["name"] == "copula" and manifest["seed"] == 0
    assert len(manifest["source"]["sha256"]) == 64
    assert [f["name"] for f in manifest["files"]] == [p.name for p in parts(folder)]
    assert all(file_sha256(folder / f["name"]) == f["sha256"] for f in manifest["files"])
    assert set(result["timings"]) == {
        "ingest",
        "check_input",
        "split",
        "fit",
        "sample",
        "evaluate",
        "publish",
    }
    assert not (root / "student_placements" / "rejected").exists()


def test_same_seed_gives_identical_parquet_bytes(published):
    _, first, second = published
    assert second["version"] == "v000002"
    assert [p.read_bytes() for p in parts(first["version_dir"])] == [
        p.read_bytes() for p in parts(second["version_dir"])
    ]


def test_another_seed_gives_other_bytes(prefect_api_url, published, tmp_path):
    _, first, _ = published
    other = run_pipeline(demo_spec(tmp_path, "seed=1"))
    assert parts(other["version_dir"])[0].read_bytes() != parts(first["version_dir"])[0].read_bytes()


def test_a_failed_gate_publishes_nothing_and_records_why(prefect_api_url, tmp_path):
    with pytest.raises(GateFailedError, match="trend_error") as info:
        run_pipeline(demo_spec(tmp_path, "gates.trend_error_max=0.5"))
    assert Store(tmp_path).versions("student_placements") == []
    record = json.loads((Path(info.value.report_dir) / "rejection.json").read_text())
    assert record["stage"] == "gates"
    failed = [m["name"] for m in record["scorecard"]["metrics"] if not m["passed"]]
    assert failed == ["trend_error"]
    report = Path(info.value.report_dir) / "report.html"
    assert record["report"] == str(report) and "trend_error" in report.read_text()
    assert json.loads((report.parent / "evaluation.json").read_text())["passed"] is False


def test_input_that_breaks_its_contract_is_stopped_before_fitting(prefect_api_url, tmp_path):
    contract = load_contract(REPO / "data_contracts" / "examples" / "student_placements.yaml")
    columns = [c.model_copy(update={"max": 70.0}) if c.name == "mba_perc" else c for c in contract.columns]
    save_contract(contract.model_copy(update={"columns": columns}), tmp_path / "strict.yaml")
    with pytest.raises(ContractViolationError, match="'mba_perc': .* outside") as info:
        run_pipeline(demo_spec(tmp_path, f"contract={tmp_path / 'strict.yaml'}"))
    record = json.loads((Path(info.value.report_dir) / "rejection.json").read_text())
    assert record["stage"] == "input_contract" and record["violations"]["passed"] is False
    assert Store(tmp_path).versions("student_placements") == []


def test_a_missing_source_file_is_a_clear_error(prefect_api_url, tmp_path):
    spec = demo_spec(tmp_path, "source.builtin=null", f"source.path={tmp_path / 'nope.csv'}")
    with pytest.raises(SourceError, match="nope.csv"):
        run_pipeline(spec)


def test_an_inferred_contract_is_recorded_in_the_manifest(prefect_api_url, tmp_path):
    result = run_pipeline(demo_spec(tmp_path, "contract=null", "target=null"))
    manifest = json.loads((Path(result["version_dir"]) / "manifest.json").read_text())
    assert manifest["contract"]["inferred"] is True
    assert manifest["contract"]["definition"]["primary_key"] == "student_id"


# ---- what the Prefect UI shows -----------------------------------------------------------------------


def _artifacts(**filters):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    parts = {}
    if "flow_run_id" in filters:
        parts["flow_run_id"] = ArtifactFilterFlowRunId(any_=[filters["flow_run_id"]])
    if "key" in filters:
        parts["key"] = ArtifactFilterKey(any_=[filters["key"]])
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(**parts))
    return sorted(found, key=lambda a: a.created)


def test_a_published_run_posts_its_scorecard_and_report_as_artifacts(published):
    from uuid import UUID

    _, result, _ = published
    artifacts = {a.type: a for a in _artifacts(flow_run_id=UUID(result["flow_run_id"]))}
    assert set(artifacts) == {"table", "markdown"}, artifacts  # Prefect stores a link as markdown
    table = artifacts["table"]
    assert table.key == "student-placements-scorecard"
    rows = json.loads(table.data)
    assert [r["metric"] for r in rows] == [m["name"] for m in result["scorecard"]["metrics"]]
    assert {r["result"] for r in rows} <= {"pass", "not gated"}
    assert "published v000001" in table.description
    link = artifacts["markdown"]
    assert link.key == "student-placements-report"
    assert Path(result["report"]).resolve().as_uri() in link.data


def test_a_rejected_run_posts_why_as_artifacts(prefect_api_url, tmp_path):
    with pytest.raises(GateFailedError) as info:
        run_pipeline(demo_spec(tmp_path, "dataset=gated_demo", "gates.trend_error_max=0.5"))
    (table,) = _artifacts(key="gated-demo-scorecard")
    rows = {r["metric"]: r for r in json.loads(table.data)}
    assert rows["trend_error"]["result"] == "FAIL" and rows["trend_error"]["gate"] == "≤ 0.500 %"
    assert "rejected: failed trend_error; nothing published" in table.description
    (link,) = _artifacts(key="gated-demo-report")
    assert (Path(info.value.report_dir) / "report.html").resolve().as_uri() in link.data
