"""The synthesize flow on the demo table, through a real Prefect server: what Prefect adds to the
plain graph (its flow run, a failed state, the UI's artifacts). The graph's own behaviour (publish,
gates, rejection records, tournaments) is tested without Prefect in tests/pipelines/test_run.py."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from support import REPO

from synthwright.errors import GateFailedError, SourceError
from synthwright.flows.synthesize import run_pipeline
from synthwright.pipelines.run import run
from synthwright.pipelines.spec import load_spec
from synthwright.pipelines.store import Store

DEMO = REPO / "pipelines" / "examples" / "demo.yaml"


def demo_spec(root: Path, *overrides: str):
    return load_spec(DEMO, [f"output.root={root}", "sample.rows=300", *overrides])


def parts(version_dir: str | Path) -> list[Path]:
    return sorted(Path(version_dir).glob("part-*.parquet"))


@pytest.fixture(scope="module")
def published(prefect_api_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    return root, run_pipeline(demo_spec(root)).to_dict()


def test_the_flow_runs_the_plain_graph_and_records_its_flow_run(published, tmp_path):
    """The same graph as `run(spec)` (tests/pipelines/test_run.py has its behaviour): the same bytes,
    the same steps, plus what Prefect adds, the flow run's id."""
    _, result = published
    assert result["status"] == "published" and result["version"] == "v000001" and result["rows"] == 300
    plain = run(demo_spec(tmp_path, "cache.enabled=false"))
    assert [p.read_bytes() for p in parts(result["version_dir"])] == [
        p.read_bytes() for p in parts(plain.version_dir)
    ]
    assert list(result["timings"]) == list(plain.run["timings"])
    manifest = json.loads((Path(result["version_dir"]) / "manifest.json").read_text())
    assert manifest["run"]["flow_run_id"] == result["flow_run_id"]
    UUID(result["flow_run_id"])


def test_a_missing_source_file_is_refused_before_prefect_starts(tmp_path):
    spec = demo_spec(tmp_path, "source.builtin=null", f"source.path={tmp_path / 'nope.csv'}")
    with pytest.raises(SourceError, match="nope.csv"):
        run_pipeline(spec)


# ---- what the Prefect UI shows -----------------------------------------------------------------------


def _flow_runs(name: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))


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
    _, result = published
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


def test_a_rejected_run_ends_failed_and_posts_why_as_artifacts(prefect_api_url, tmp_path):
    with pytest.raises(GateFailedError) as info:
        run_pipeline(demo_spec(tmp_path, "dataset=gated_demo", "gates.trend_error_max=0.5"))
    assert Store(tmp_path).versions("gated_demo") == []
    assert json.loads((Path(info.value.report_dir) / "rejection.json").read_text())["stage"] == "gates"
    assert [run.state.is_failed() for run in _flow_runs("gated_demo-seed0")] == [True]
    (table,) = _artifacts(key="gated-demo-scorecard")
    rows = {r["metric"]: r for r in json.loads(table.data)}
    assert rows["trend_error"]["result"] == "FAIL" and rows["trend_error"]["gate"] == "≤ 0.500 %"
    assert "rejected: failed trend_error; nothing published" in table.description
    (link,) = _artifacts(key="gated-demo-report")
    assert (Path(info.value.report_dir) / "report.html").resolve().as_uri() in link.data
