"""synthwright against a real Prefect server: schedules on a process worker and on `serve`, work-pool
routing, human approval through the API, and the clear errors without a server.

One `prefect server start` per module (own PREFECT_HOME, fast scheduler loop). Everything slow starts
at once in one module fixture (a deployment and its worker, a served deployment, an approved, a
rejected and an unanswered run) and each test then waits, bounded, for its own part: on 2 cores the
whole module takes about as long as its slowest scenario. Every client process gets the server's
PREFECT_API_URL, its own PREFECT_HOME and its own SYNTHWRIGHT_CACHE_DIR; every process is killed with
its whole tree at the end.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from server_support import (
    PREFECT,
    SYNTHWRIGHT,
    PrefectServer,
    Proc,
    Result,
    abort,
    offline_env,
    wait_until,
)
from support import REPO

DEMO = REPO / "pipelines" / "examples" / "demo.yaml"
CONTRACT = REPO / "data_contracts" / "examples" / "student_placements.yaml"
ROWS = 300
INTERVAL = 30  # seconds between scheduled runs: the first comes INTERVAL s after registering
RUN_SECONDS = 150  # one demo run on a loaded 2-core machine, generously
CLI_SECONDS = 60  # one short CLI command (imports prefect: a few seconds)


# ---- helpers -------------------------------------------------------------------------------------


def write_spec(folder: Path, dataset: str, **changes: Any) -> Path:
    """The demo spec (its gates) as a copy for `dataset`: absolute contract, own output root, 300 rows."""
    spec = yaml.safe_load(DEMO.read_text())
    spec.update(
        dataset=dataset,
        contract=str(CONTRACT),
        sample={"rows": ROWS},
        output={"root": str(folder / "out")},
        **changes,
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dataset}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def run_command(name: str, args: list[Any], env: dict[str, str], folder: Path, timeout: float) -> Result:
    proc = Proc(name, [str(a) for a in args], env, folder, folder)
    try:
        code = proc.wait(timeout)
    finally:
        proc.stop()
    return Result(code, proc.out, proc.err, proc)


def deploy_records(result: Result) -> list[dict[str, Any]]:
    """What `deploy --json` printed: stdout is one JSON list and nothing else."""
    assert result.code == 0, result.describe()
    try:
        return json.loads(result.out)
    except json.JSONDecodeError as error:
        raise AssertionError(f"stdout of deploy --json is not JSON: {error}\n{result.describe()}") from None


def assert_clean_exit_2(result: Result, *needles: str) -> None:
    """Exit 2, an `error:` line, every needle in stderr, and no traceback anywhere."""
    assert result.code == 2, result.describe()
    assert "error:" in result.err, result.describe()
    assert "Traceback" not in result.err + result.out, result.describe()
    assert "internal error" not in result.err, result.describe()
    for needle in needles:
        assert needle in result.err, f"{needle!r} not in stderr\n{result.describe()}"


def assert_valid_version(version_dir: Path, dataset: str) -> dict[str, Any]:
    """A committed version: manifest fields, Parquet parts with matching sha256 and row counts."""
    assert version_dir.is_dir(), f"no {version_dir}; found {sorted(version_dir.parent.glob('*'))}"
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["version"] == version_dir.name
    assert manifest["dataset"] == dataset
    assert manifest["status"] == "published"
    assert manifest["rows"] == ROWS
    assert manifest["gate"]["passed"] is True
    assert manifest["scorecard"]["passed"] is True
    parts = sorted(p.name for p in version_dir.glob("part-*.parquet"))
    assert parts and parts == [f["name"] for f in manifest["files"]], (parts, manifest["files"])
    for record in manifest["files"]:
        path = version_dir / record["name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == record["sha256"], record
        assert pq.ParquetFile(path).metadata.num_rows == record["rows"], record
    assert sum(f["rows"] for f in manifest["files"]) == ROWS
    assert (version_dir / "report.html").is_file()
    return manifest


def versions_of(root: Path, dataset: str) -> list[Path]:
    return sorted((root / dataset).glob("v[0-9][0-9][0-9][0-9][0-9][0-9]"))


def flow_runs_named(server: PrefectServer, name: str) -> list[Any]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with server.client() as client:
        return client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))


def flow_runs_of(server: PrefectServer, deployment_id: str) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with server.client() as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[uuid.UUID(deployment_id)]))
        )


def deployment(server: PrefectServer, deployment_id: str) -> Any:
    with server.client() as client:
        return client.read_deployment(uuid.UUID(deployment_id))


def wait_for_completed_run(
    server: PrefectServer, deployment_id: str, procs: list[Proc], timeout: float
) -> Any:
    """The first Completed flow run of a deployment; fails at once if a run fails or a process dies."""

    def check() -> Any:
        for proc in procs:
            if proc.poll() is not None:
                abort(f"{proc.name} exited while waiting for a scheduled run\n{proc.tail()}")
        runs = flow_runs_of(server, deployment_id)
        for run in runs:
            if run.state is not None and (run.state.is_failed() or run.state.is_crashed()):
                abort(
                    f"flow run {run.name} ({run.id}) ended {run.state.name}: {run.state.message}\n"
                    + "\n".join(p.tail() for p in procs)
                )
        done = [run for run in runs if run.state is not None and run.state.is_completed()]
        return done[0] if done else None

    def context() -> str:
        try:
            states = [
                f"{r.name}: {r.state.name if r.state else None}" for r in flow_runs_of(server, deployment_id)
            ]
        except Exception as error:  # noqa: BLE001
            states = [f"(could not read the runs: {error!r})"]
        return f"runs of deployment {deployment_id}: {states}\n" + "\n".join(p.tail() for p in procs)

    return wait_until(check, timeout, f"a Completed run of deployment {deployment_id}", context)


# ---- the module's server and scenarios -----------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    for attempt in range(3):  # another process may take the free port before the server binds it
        started = PrefectServer(tmp_path_factory.mktemp("prefect-server"))
        try:
            started.wait_healthy(timeout=90)
            break
        except AssertionError:
            started.stop()
            if attempt == 2 or "address already in use" not in started.proc.err:
                raise
    try:
        yield started
    finally:
        started.stop()


@dataclass
class Scenarios:
    """What the module fixture started; each test waits for its own part."""

    folder: Path
    worker_spec: Path
    worker_deploy: Result
    worker: Proc | None
    serve_spec: Path
    serve: Proc
    approve_spec: Path
    approve_run: Proc
    reject_spec: Path
    reject_run: Proc
    timeout_run: Proc
    procs: list[Proc] = field(default_factory=list)


@pytest.fixture(scope="module")
def scenarios(server, tmp_path_factory):
    """Start every slow scenario at once: a scheduled deployment and a process worker, a served
    schedule, and three approval-gated runs (one to approve, one to reject, one nobody answers)."""
    folder = tmp_path_factory.mktemp("scenarios")
    procs: list[Proc] = []
    try:
        worker_dir = folder / "worker"
        worker_spec = write_spec(worker_dir, "placements_worker")
        # Registered first and alone: it creates the `cpu` pool the other deploys then find.
        deployed = run_command(
            "deploy-worker-spec",
            [SYNTHWRIGHT, "deploy", worker_spec, "--interval", INTERVAL, "--json"],
            server.client_env(worker_dir),
            worker_dir,
            CLI_SECONDS * 2,
        )
        worker = None
        if deployed.code == 0:
            worker = Proc(
                "worker",
                [PREFECT, "worker", "start", "--pool", "cpu", "--type", "process", "--limit", "1"],
                server.client_env(worker_dir, PREFECT_WORKER_QUERY_SECONDS="1"),
                worker_dir,
                worker_dir,
            )
            procs.append(worker)

        serve_dir = folder / "serve"
        serve_spec = write_spec(serve_dir, "placements_served")
        serve = Proc(
            "serve",
            [SYNTHWRIGHT, "serve", serve_spec, "--interval", INTERVAL],
            server.client_env(serve_dir, PREFECT_RUNNER_POLL_FREQUENCY="1", PREFECT_RUNNER_PROCESS_LIMIT="1"),
            serve_dir,
            serve_dir,
        )
        procs.append(serve)

        runs = {}
        for case in ("approve", "reject", "timeout"):
            case_dir = folder / case
            timeout = {"approval_timeout_minutes": 0.1} if case == "timeout" else {}  # 6 s
            spec = write_spec(case_dir, f"placements_{case}", approval="required", **timeout)
            runs[case] = (
                spec,
                Proc(
                    f"run-{case}",
                    [SYNTHWRIGHT, "run", spec, "--json"],
                    server.client_env(case_dir),
                    case_dir,
                    case_dir,
                ),
            )
            procs.append(runs[case][1])

        yield Scenarios(
            folder,
            worker_spec,
            deployed,
            worker,
            serve_spec,
            serve,
            runs["approve"][0],
            runs["approve"][1],
            runs["reject"][0],
            runs["reject"][1],
            runs["timeout"][1],
            procs,
        )
    finally:
        for proc in procs:
            proc.stop()


def paused_run_id(server: PrefectServer, run: Proc, dataset: str) -> str:
    """Wait until the run named `<dataset>-seed0` is Paused on the server; its id."""
    name = f"{dataset}-seed0"

    def check() -> str | None:
        if run.poll() is not None:
            abort(f"{run.name} exited before pausing for approval\n{run.tail()}")
        for flow_run in flow_runs_named(server, name):
            if flow_run.state is not None and flow_run.state.is_paused():
                return str(flow_run.id)
        return None

    def context() -> str:
        try:
            states = [(r.id, r.state.name if r.state else None) for r in flow_runs_named(server, name)]
        except Exception as error:  # noqa: BLE001
            states = [repr(error)]
        return f"flow runs named {name}: {states}\n{run.tail()}"

    return wait_until(check, RUN_SECONDS, f"flow run {name} to be Paused", context)


def answer(server, scenarios, case: str, label: str, *args: str):
    """`synthwright ARGS…` as the reviewer of one approval case (its own folder and PREFECT_HOME)."""
    folder = scenarios.folder / case
    return run_command(label, [SYNTHWRIGHT, *args], server.client_env(folder), folder, CLI_SECONDS)


# ---- approval ------------------------------------------------------------------------------------


def test_approved_run_resumes_and_publishes_with_the_reviewer(server, scenarios):
    run = scenarios.approve_run
    run_id = paused_run_id(server, run, "placements_approve")
    answered = answer(server, scenarios, "approve", "approve", "approve", run_id, "--reviewer", "alice")
    assert answered.code == 0, answered.describe()
    assert "approved flow run" in answered.out and "alice" in answered.out, answered.describe()

    assert run.wait(RUN_SECONDS) == 0, run.tail()
    result = json.loads(run.out)
    assert result["status"] == "published" and result["flow_run_id"] == run_id, result
    root = scenarios.folder / "approve" / "out"
    assert [Path(result["version_dir"])] == versions_of(root, "placements_approve")
    manifest = assert_valid_version(root / "placements_approve" / "v000001", "placements_approve")
    approval = manifest["run"]["approval"]
    assert approval["approved"] is True and approval["reviewer"] == "alice", approval
    assert manifest["run"]["flow_run_id"] == run_id
    assert not (root / "placements_approve" / "rejected").exists()
    [flow_run] = flow_runs_named(server, "placements_approve-seed0")
    assert flow_run.state.is_completed(), flow_run.state

    again = answer(server, scenarios, "approve", "approve-again", "approve", run_id, "--reviewer", "alice")
    assert_clean_exit_2(again, f"flow run {run_id} is not waiting for approval")


def test_rejected_run_publishes_nothing_and_records_why(server, scenarios):
    run = scenarios.reject_run
    run_id = paused_run_id(server, run, "placements_reject")
    answered = answer(
        server, scenarios, "reject", "reject", "reject", run_id, "--reason", "too risky", "--reviewer", "bob"
    )
    assert answered.code == 0, answered.describe()
    assert "rejected flow run" in answered.out and "bob" in answered.out, answered.describe()

    assert run.wait(RUN_SECONDS) == 1, run.tail()
    result = json.loads(run.out)
    assert result["status"] == "rejected" and result["stage"] == "approval", result
    assert result["reviewer"] == "bob" and result["reason"] == "too risky", result
    assert result["version_dir"] is None
    root = scenarios.folder / "reject" / "out"
    assert versions_of(root, "placements_reject") == []
    [record_file] = (root / "placements_reject" / "rejected").glob("*/rejection.json")
    assert Path(result["report_dir"]) == record_file.parent
    record = json.loads(record_file.read_text())
    assert record["stage"] == "approval", record
    assert record["approval"]["approved"] is False
    assert record["approval"]["reason"] == "too risky" and record["approval"]["reviewer"] == "bob"
    assert "too risky" in run.err and "Traceback" not in run.err, run.tail()
    [flow_run] = flow_runs_named(server, "placements_reject-seed0")
    assert flow_run.state.is_failed(), flow_run.state


def test_an_unanswered_approval_times_out_and_publishes_nothing(server, scenarios):
    run = scenarios.timeout_run
    assert run.wait(RUN_SECONDS) == 1, run.tail()
    root = scenarios.folder / "timeout" / "out"
    assert versions_of(root, "placements_timeout") == []
    [record_file] = (root / "placements_timeout" / "rejected").glob("*/rejection.json")
    record = json.loads(record_file.read_text())
    assert record["stage"] == "approval", record
    assert record["approval"]["approved"] is False
    assert record["approval"]["reason"] == "no answer within 0.1 minutes", record
    assert "no answer within 0.1 minutes" in run.err and "Traceback" not in run.err, run.tail()
    [flow_run] = flow_runs_named(server, "placements_timeout-seed0")
    assert flow_run.state.is_failed(), flow_run.state


def test_the_waiting_line_names_the_real_timeout(scenarios):
    run = scenarios.timeout_run
    run.wait(RUN_SECONDS)
    waiting = [line for line in run.err.splitlines() if "waiting for approval" in line]
    assert waiting, run.tail()
    assert "(timeout 0.1 min)" in waiting[0], waiting[0]  # not "0 min" (was formatted with %.0f)


# ---- schedules (checked early: their later runs would only add load) ---------------------------


def test_a_scheduled_deployment_runs_on_a_process_worker_and_publishes(server, scenarios):
    assert scenarios.worker_deploy.code == 0 and scenarios.worker is not None, (
        scenarios.worker_deploy.describe()
    )
    [item] = deploy_records(scenarios.worker_deploy)
    run = wait_for_completed_run(server, item["deployment_id"], [scenarios.worker], INTERVAL + RUN_SECONDS)
    scenarios.worker.stop()  # no further scheduled run starts while we look
    root = scenarios.folder / "worker" / "out"
    published = {
        assert_valid_version(v, "placements_worker")["run"]["flow_run_id"]: v
        for v in versions_of(root, "placements_worker")
    }
    assert str(run.id) in published, (run.id, published)
    assert run.deployment_id == uuid.UUID(item["deployment_id"]) and run.work_pool_name == "cpu"


def test_serve_runs_its_schedule_and_publishes(server, scenarios):
    serve = scenarios.serve

    def registered() -> str | None:
        if serve.poll() is not None:
            abort(f"serve exited\n{serve.tail()}")
        with server.client() as client:
            return str(client.read_deployment_by_name("synthesize-spec-file/placements_served").id)

    deployment_id = wait_until(registered, CLI_SECONDS, "the served deployment", serve.tail)
    run = wait_for_completed_run(server, deployment_id, [serve], INTERVAL + RUN_SECONDS)
    serve.stop()
    served = deployment(server, deployment_id)
    assert served.work_pool_name is None and served.parameters["spec_file"] == str(scenarios.serve_spec)
    root = scenarios.folder / "serve" / "out"
    published = {
        assert_valid_version(v, "placements_served")["run"]["flow_run_id"]: v
        for v in versions_of(root, "placements_served")
    }
    assert str(run.id) in published, (run.id, published)


# ---- approval: answering what is not paused --------------------------------------------------


def test_approving_an_unknown_run_exits_2_without_a_traceback(server, tmp_path):
    unknown = str(uuid.uuid4())
    result = run_command(
        "approve-unknown",
        [SYNTHWRIGHT, "approve", unknown],
        server.client_env(tmp_path),
        tmp_path,
        CLI_SECONDS,
    )
    assert_clean_exit_2(result, unknown)
    assert f"no flow run {unknown}" in result.err, result.describe()


# ---- deploy: work pools and routing --------------------------------------------------------------


def test_deploy_json_registers_the_schedule_on_the_cpu_pool(server, scenarios):
    [item] = deploy_records(scenarios.worker_deploy)
    assert item["pool"] == "cpu" and item["routing"] == "CPU only", item
    assert item["name"] == "placements_worker" and item["interval_seconds"] == INTERVAL, item
    assert item["spec_file"] == str(scenarios.worker_spec), item
    registered = deployment(server, item["deployment_id"])
    assert registered.work_pool_name == "cpu"
    assert registered.parameters["spec_file"] == str(scenarios.worker_spec)
    [schedule] = registered.schedules
    assert schedule.schedule.interval.total_seconds() == INTERVAL


def test_deploy_json_prints_nothing_but_json(scenarios):
    """Prefect's flow.deploy() prints a process-pool hint and a table; they must not reach stdout."""
    deployed = scenarios.worker_deploy
    assert isinstance(deploy_records(deployed), list)
    assert "Deployments" not in deployed.out and "Looks like you're deploying" not in deployed.out


def test_a_torch_spec_goes_to_the_gpu_pool_only_when_the_server_has_one(server, scenarios, tmp_path):
    spec = write_spec(tmp_path, "placements_tvae", generator={"name": "tvae"})
    env = server.client_env(tmp_path)

    without = run_command(
        "deploy-tvae-no-gpu", [SYNTHWRIGHT, "deploy", spec, "--json"], env, tmp_path, CLI_SECONDS
    )
    assert without.code == 0, without.describe()
    [item] = deploy_records(without)
    assert item["pool"] == "cpu", item
    assert "no 'gpu' pool" in item["routing"] and item["routing"].endswith("CPU"), item
    assert deployment(server, item["deployment_id"]).work_pool_name == "cpu"

    created = run_command(
        "create-gpu-pool",
        [PREFECT, "work-pool", "create", "gpu", "--type", "process"],
        env,
        tmp_path,
        CLI_SECONDS,
    )
    assert created.code == 0, created.describe()

    with_gpu = run_command(
        "deploy-tvae-gpu", [SYNTHWRIGHT, "deploy", spec, "--json"], env, tmp_path, CLI_SECONDS
    )
    assert with_gpu.code == 0, with_gpu.describe()
    [item] = deploy_records(with_gpu)
    assert item["pool"] == "gpu" and "GPU pool" in item["routing"], item
    assert deployment(server, item["deployment_id"]).work_pool_name == "gpu"


# ---- without a server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """The commands that need a server, run at once without PREFECT_API_URL."""
    folder = tmp_path_factory.mktemp("offline")
    spec = write_spec(folder, "placements_offline", approval="required")
    commands = {
        "run": [SYNTHWRIGHT, "run", spec],
        "serve": [SYNTHWRIGHT, "serve", spec, "--interval", INTERVAL],
        "deploy": [SYNTHWRIGHT, "deploy", spec],
        "approve": [SYNTHWRIGHT, "approve", str(uuid.uuid4())],
    }
    procs = {
        name: Proc(f"offline-{name}", args, offline_env(folder), folder, folder)
        for name, args in commands.items()
    }
    try:
        results = {}
        for name, proc in procs.items():
            code = proc.wait(CLI_SECONDS * 2)
            results[name] = Result(code, proc.out, proc.err, proc)
        yield folder, results
    finally:
        for proc in procs.values():
            proc.stop()


def test_an_approval_run_without_a_server_exits_2_saying_one_is_needed(offline):
    folder, results = offline
    assert_clean_exit_2(results["run"], "needs a Prefect server", "PREFECT_API_URL")
    assert not (folder / "out").exists()


@pytest.mark.parametrize("command", ["serve", "deploy", "approve"])
def test_server_commands_without_a_server_exit_2_naming_prefect_api_url(offline, command):
    _, results = offline
    assert_clean_exit_2(results[command], "PREFECT_API_URL")
