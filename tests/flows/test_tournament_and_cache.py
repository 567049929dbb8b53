"""What the Prefect runner adds to the graph, on the demo table, through a real Prefect server (the
session's test server): cross-run caching, retries, a tournament's artifact and its contenders on a
Dask cluster. (Tournaments themselves are tested without Prefect in tests/pipelines/test_run.py.)"""

from __future__ import annotations

import errno
import json
import stat
from pathlib import Path

import pytest
from support import REPO

from synthwright.errors import SourceError
from synthwright.flows.synthesize import run_pipeline
from synthwright.flows.tasks import COMPLETE, is_transient_io_error
from synthwright.pipelines import steps
from synthwright.pipelines.spec import load_spec

DEMO = REPO / "pipelines" / "examples" / "demo.yaml"
CONTENDERS = [
    "generators=[{name: copula}, {name: bootstrap}, {name: ctgan, config: {epochs: 1}}]",
]


def demo_spec(root: Path, *overrides: str):
    return load_spec(DEMO, [f"output.root={root}", "sample.rows=300", *overrides])


def run_flow(spec) -> dict:
    return run_pipeline(spec).to_dict()


def part_bytes(result: dict) -> bytes:
    return next(Path(result["version_dir"]).glob("part-*.parquet")).read_bytes()


@pytest.fixture(scope="module")
def tournament(prefect_api_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("tournament")
    return root, run_flow(demo_spec(root, *CONTENDERS))


def test_a_tournament_posts_its_table_artifact(tournament, prefect_api_url):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["student-placements-tournament"]))
        )
    assert found, "no tournament artifact"
    rows = found[0].data if isinstance(found[0].data, list) else json.loads(found[0].data)
    assert [row["contender"] for row in rows][0] == tournament[1]["tournament"]["winner"]
    assert "winner:" in found[0].description


def test_an_unchanged_rerun_reuses_every_step_and_publishes_the_same_bytes(prefect_api_url, tmp_path):
    first = run_flow(demo_spec(tmp_path))
    second = run_flow(demo_spec(tmp_path))
    assert first["cached_steps"] == [] and second["version"] == "v000002"
    assert second["cached_steps"] == ["ingest", "validate_input", "split", "fit", "sample", "evaluate"]
    assert part_bytes(first) == part_bytes(second)
    manifest = json.loads((Path(second["version_dir"]) / "manifest.json").read_text())
    assert manifest["run"]["cached_steps"] == second["cached_steps"]
    assert manifest["run"]["flow_run_id"] == second["flow_run_id"] != first["flow_run_id"]
    # new gates re-evaluate, but reuse the fitted model and its sample
    regated = run_flow(demo_spec(tmp_path, "gates.shape_error_max=19.5"))
    assert regated["cached_steps"] == ["ingest", "validate_input", "split", "fit", "sample"]


def test_without_the_cache_nothing_is_read_or_written_there(prefect_api_url, tmp_path, private_cache):
    first = run_flow(demo_spec(tmp_path))
    before = sorted(p for p in private_cache.rglob("*") if p.is_file())
    uncached = run_flow(demo_spec(tmp_path, "cache.enabled=false"))
    assert uncached["cached_steps"] == [] and part_bytes(uncached) == part_bytes(first)
    assert sorted(p for p in private_cache.rglob("*") if p.is_file()) == before


def test_a_deleted_cache_folder_is_recomputed_not_trusted(prefect_api_url, tmp_path, private_cache):
    first = run_flow(demo_spec(tmp_path))
    (fit_folder,) = (private_cache / "fit").iterdir()
    (fit_folder / COMPLETE).unlink()  # as a crash half-way through writing the model would leave it
    second = run_flow(demo_spec(tmp_path))
    assert "fit" not in second["cached_steps"] and (fit_folder / COMPLETE).is_file()
    assert part_bytes(first) == part_bytes(second)


def test_a_new_cache_folder_is_private(prefect_api_url, tmp_path):
    cache = tmp_path / "new" / "cache"
    run_flow(demo_spec(tmp_path, f"cache.root={cache}"))
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700  # it holds real rows
    assert {p.name for p in cache.iterdir()} >= {"ingest", "split", "fit", "sample", "evaluate"}


def test_a_transient_read_error_is_retried(prefect_api_url, tmp_path, monkeypatch):
    calls = []
    real = steps.ingest

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(errno.EIO, "Input/output error (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, "ingest", flaky)
    result = run_flow(demo_spec(tmp_path, "cache.enabled=false"))
    assert result["status"] == "published" and len(calls) == 2


def test_bad_input_is_not_retried(prefect_api_url, tmp_path, monkeypatch):
    calls = []
    real = steps.ingest

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(steps, "ingest", counted)
    empty = tmp_path / "empty.csv"  # there (so the run's preflight passes), but unreadable
    empty.write_text("")
    spec = demo_spec(tmp_path, "source.builtin=null", f"source.path={empty}")
    with pytest.raises(SourceError, match="empty"):
        run_flow(spec)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error, transient",
    [
        (OSError(errno.EIO, "io"), True),
        (OSError(errno.ESTALE, "stale NFS handle"), True),
        (TimeoutError(errno.ETIMEDOUT, "timed out"), True),
        (FileNotFoundError(errno.ENOENT, "missing"), False),
        (PermissionError(errno.EACCES, "denied"), False),
        (ValueError("bad value"), False),
        (None, False),
    ],
)
def test_only_transient_io_errors_count_as_transient(error, transient):
    assert is_transient_io_error(error) is transient


def test_a_transient_error_behind_our_own_error_counts():
    try:
        try:
            raise OSError(errno.EAGAIN, "try again")
        except OSError as cause:
            raise SourceError("cannot read data.csv") from cause
    except SourceError as error:
        assert is_transient_io_error(error)
    assert not is_transient_io_error(SourceError("data.csv is empty"))


def test_a_tournament_on_a_dask_cluster_picks_the_same_winner_and_bytes(
    prefect_api_url, tournament, tmp_path
):
    """The same contenders on a local Dask cluster (worker processes) as on the thread pool."""
    pytest.importorskip("prefect_dask")
    _, threads = tournament
    dask = run_flow(demo_spec(tmp_path, *CONTENDERS, "runner.kind=dask", "cache.enabled=false"))
    assert dask["tournament"]["winner"] == threads["tournament"]["winner"]
    assert part_bytes(dask) == part_bytes(threads)
