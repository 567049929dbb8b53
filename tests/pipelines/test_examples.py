"""Every example pipeline spec in the README loads, and names a generator with a valid config."""

from __future__ import annotations

import pytest
from support import REPO

from synthwright.generators.registry import create_generator
from synthwright.pipelines.spec import load_spec

EXAMPLES = sorted((REPO / "pipelines" / "examples").glob("*.yaml"))


def test_there_are_examples():
    assert {p.name for p in EXAMPLES} >= {
        "demo.yaml",
        "adult.yaml",
        "adult_tvae.yaml",
        "adult_diffusion.yaml",
        "adult_llm.yaml",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_spec_loads_and_its_generator_config_is_valid(path):
    spec = load_spec(path)
    generator = create_generator(spec.generator.name, spec.generator.config, device=spec.generator.device)
    assert generator.name == spec.generator.name
    assert spec.contract is None or spec.contract.exists()


@pytest.mark.parametrize(
    "name, generator", [("adult_tvae", "tvae"), ("adult_diffusion", "diffusion"), ("adult_llm", "llm")]
)
def test_the_neural_examples_cap_their_training_time(name, generator):
    spec = load_spec(REPO / "pipelines" / "examples" / f"{name}.yaml")
    assert spec.generator.name == generator
    assert spec.generator.config["max_minutes"] > 0
