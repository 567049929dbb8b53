"""Deployment planning without a server: routing, schedules, and flows/prefect.yaml's consistency.
(tests/flows/test_server_integration.py runs deployments on a real server and worker.)"""

from __future__ import annotations

import inspect

import pytest
import yaml
from support import REPO

from synthwright.errors import ConfigError
from synthwright.flows.deployments import ENTRYPOINT, plan, wants_gpu
from synthwright.flows.synthesize import synthesize_spec_file
from synthwright.pipelines.spec import load_spec

EXAMPLES = REPO / "pipelines" / "examples"


@pytest.mark.parametrize(
    "overrides, gpu",
    [
        ([], False),
        (["generator.name=tvae"], True),
        (["generator.name=tvae", "generator.device=cpu"], False),
        (["generators=[{name: copula}, {name: diffusion}]"], True),
        (["generators=[{name: copula}, {name: bootstrap}]"], False),
    ],
)
def test_a_spec_wants_a_gpu_when_a_contender_trains_on_torch_and_may_use_cuda(overrides, gpu):
    assert wants_gpu(load_spec(EXAMPLES / "demo.yaml", overrides)) is gpu


def test_the_schedule_comes_from_the_command_line_else_the_spec(tmp_path):
    spec = tmp_path / "nightly.yaml"
    spec.write_text((EXAMPLES / "demo.yaml").read_text() + "\nschedule: {cron: '0 3 * * *'}\n")
    ((planned, _),) = plan([spec], None, None)
    assert planned.cron == "0 3 * * *" and planned.interval_seconds is None
    assert planned.spec_file == str(spec.resolve()) and planned.name == "student_placements"
    ((planned, _),) = plan([spec], "*/5 * * * *", None)
    assert planned.cron == "*/5 * * * *"
    ((planned, _),) = plan([spec], None, 30)
    assert planned.cron is None and planned.interval_seconds == 30


def test_planning_checks_every_spec_before_anything_is_registered(tmp_path):
    with pytest.raises(ConfigError, match="--cron or --interval, not both"):
        plan([EXAMPLES / "demo.yaml"], "* * * * *", 10)
    with pytest.raises(ConfigError, match="already deploys dataset 'student_placements'"):
        plan([EXAMPLES / "demo.yaml", EXAMPLES / "demo.yaml"], None, None)
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: x\nsource: {builtin: student_placements}\ngenrator: {}\n")
    with pytest.raises(ConfigError, match="genrator"):
        plan([EXAMPLES / "demo.yaml", bad], None, None)


def test_prefect_yaml_deploys_the_example_specs_through_the_spec_file_flow():
    config = yaml.safe_load((REPO / "flows" / "prefect.yaml").read_text())
    parameters = set(inspect.signature(synthesize_spec_file.fn).parameters)
    assert config["deployments"]
    for deployment in config["deployments"]:
        assert deployment["entrypoint"] == ENTRYPOINT
        assert set(deployment["parameters"]) <= parameters
        spec = load_spec(REPO / deployment["parameters"]["spec_file"])  # relative to the checkout
        pool = deployment["work_pool"]["name"]
        assert pool == ("gpu" if wants_gpu(spec) else "cpu"), deployment["name"]
        for schedule in deployment["schedules"]:
            assert len(schedule["cron"].split()) == 5
