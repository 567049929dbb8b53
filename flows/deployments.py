"""Schedules and work pools, on Prefect's own deployments: nothing here schedules anything itself.

- `synthwright serve SPEC...`: one long-running process serves a deployment per spec (Prefect's
  `serve`); the server's scheduler creates the runs, the process runs them. For small teams.
- `synthwright deploy SPEC...`: registers a deployment per spec with a server, on a work pool; workers
  (`prefect worker start --pool cpu`) on any machine run them. A spec whose generators use torch and
  could use a GPU goes to the `gpu` pool when the server has one, else to `cpu`: the same flow, on CPU.

Each deployment runs `synthesize-spec-file`, which reads the spec file when the run starts, so an
edited spec (or new source data) takes effect at the next run without redeploying.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL

from synthwright.errors import ConfigError
from synthwright.flows.synthesize import synthesize_spec_file
from synthwright.generators.registry import generator_class
from synthwright.pipelines.spec import PipelineSpec, load_spec

REPO = Path(__file__).resolve().parents[1]
ENTRYPOINT = "flows/synthesize.py:synthesize_spec_file"
SERVER_HINT = (
    "start one with `prefect server start --host 127.0.0.1` and export "
    "PREFECT_API_URL=http://127.0.0.1:4200/api"
)


@dataclass(frozen=True)
class Planned:
    """One spec's deployment: its name and schedule."""

    spec_file: str
    name: str
    cron: str | None
    interval_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wants_gpu(spec: PipelineSpec) -> bool:
    """Whether any contender trains on torch and may use CUDA (device auto or cuda)."""
    return any(generator_class(g.name).benefits_from_gpu and g.device != "cpu" for g in spec.contenders)


def plan(
    spec_files: list[Path], cron: str | None, interval_seconds: float | None
) -> list[tuple[Planned, PipelineSpec]]:
    """Read and check every spec first: a bad one stops the command before anything is registered."""
    if cron is not None and interval_seconds is not None:
        raise ConfigError("give --cron or --interval, not both")
    planned = []
    names: set[str] = set()
    for path in spec_files:
        spec = load_spec(path)
        if spec.dataset in names:
            raise ConfigError(
                f"{path}: another spec already deploys dataset {spec.dataset!r}",
                hint="each dataset gets one deployment; give the specs distinct dataset names",
            )
        names.add(spec.dataset)
        chosen_cron = cron if cron is not None or interval_seconds is not None else spec.schedule.cron
        planned.append((Planned(str(path.resolve()), spec.dataset, chosen_cron, interval_seconds), spec))
    return planned


def _require_server(command: str) -> None:
    if PREFECT_API_URL.value() is None:
        raise ConfigError(
            f"`synthwright {command}` needs a Prefect server (PREFECT_API_URL is not set)", hint=SERVER_HINT
        )


def _schedule(item: Planned) -> dict[str, Any]:
    if item.interval_seconds is not None:
        return {"interval": item.interval_seconds}
    if item.cron is not None:
        return {"cron": item.cron}
    return {}


def _description(spec: PipelineSpec, item: Planned) -> str:
    generators = ", ".join(g.title for g in spec.contenders)
    return f"synthwright: {spec.dataset} from {item.spec_file} ({generators})"


def serve_specs(spec_files: list[Path], cron: str | None, interval_seconds: float | None) -> None:
    """Serve one deployment per spec from this process until it is stopped (Ctrl-C)."""
    _require_server("serve")
    deployments = []
    for item, spec in plan(spec_files, cron, interval_seconds):
        deployments.append(
            synthesize_spec_file.to_deployment(
                name=item.name,
                parameters={"spec_file": item.spec_file, "overrides": []},
                description=_description(spec, item),
                tags=["synthwright"],
                **_schedule(item),
            )
        )
    serve(*deployments, print_starting_message=True)


def deploy_specs(
    spec_files: list[Path],
    cron: str | None,
    interval_seconds: float | None,
    cpu_pool: str = "cpu",
    gpu_pool: str = "gpu",
) -> list[dict[str, Any]]:
    """Register one deployment per spec on a work pool; returns what went where and why."""
    _require_server("deploy")
    planned = plan(spec_files, cron, interval_seconds)
    pools = _ensure_cpu_pool(cpu_pool, gpu_pool)
    flow = synthesize_spec_file.from_source(source=str(REPO), entrypoint=ENTRYPOINT)
    registered = []
    for item, spec in planned:
        gpu = wants_gpu(spec)
        if gpu and gpu_pool in pools:
            pool, routing = gpu_pool, "uses torch: the GPU pool"
        elif gpu:
            pool, routing = cpu_pool, f"uses torch, but the server has no {gpu_pool!r} pool: CPU"
        else:
            pool, routing = cpu_pool, "CPU only"
        with contextlib.redirect_stdout(sys.stderr):  # Prefect prints tables: keep stdout for --json
            deployment_id = flow.deploy(
                name=item.name,
                work_pool_name=pool,
                parameters={"spec_file": item.spec_file, "overrides": []},
                description=_description(spec, item),
                tags=["synthwright"],
                build=False,
                push=False,
                print_next_steps=False,
                **_schedule(item),
            )
        registered.append(
            {**item.to_dict(), "pool": pool, "routing": routing, "deployment_id": str(deployment_id)}
        )
    return registered


def _ensure_cpu_pool(cpu_pool: str, gpu_pool: str) -> set[str]:
    """The server's pool names; the CPU pool is created (type process) when missing, the GPU pool never
    (it only makes sense with workers on GPU machines)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(cpu_pool)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another deploy created it just now
                client.create_work_pool(WorkPoolCreate(name=cpu_pool, type="process"))
        names = {pool.name for pool in client.read_work_pools()}
    return names | {cpu_pool}
