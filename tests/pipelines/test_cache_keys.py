"""Step keys change exactly when something that shapes the step (or a step before it) changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import REPO

from synthwright.data_contracts.io import load_contract
from synthwright.pipelines.cache_keys import CACHE_DIR_ENV, cache_root, run_keys
from synthwright.pipelines.spec import load_spec

DEMO = REPO / "pipelines" / "examples" / "demo.yaml"


def keys(root: Path, *overrides: str):
    spec = load_spec(DEMO, list(overrides))
    return run_keys(spec, root, load_contract(spec.contract) if spec.contract else None)


def test_the_same_spec_gives_the_same_keys(tmp_path):
    assert keys(tmp_path) == keys(tmp_path)


@pytest.mark.parametrize(
    "override, first_changed",
    [
        ("source.na_values=['n/a']", "ingest"),
        ("dataset=other", "ingest"),
        ("seed=1", "split"),
        ("split.holdout=0.3", "split"),
        ("target=gender", "split"),
        ("generator.config.default_distribution=norm", "fit"),
        ("generator.device=cpu", "fit"),
        ("gates.shape_error_max=10", "evaluate"),
        ("task=classification", "evaluate"),
        ("output.root=/elsewhere", None),
        ("approval=required", None),
    ],
)
def test_a_change_invalidates_its_step_and_every_step_after(tmp_path, override, first_changed):
    base, changed = keys(tmp_path), keys(tmp_path, override)
    order = ["ingest", "split", "fit", "sample", "evaluate"]
    for step in order:
        before, after = getattr(base, step), getattr(changed, step)
        expect_change = first_changed is not None and order.index(step) >= order.index(first_changed)
        assert (before != after) == expect_change, (step, override)


def test_the_source_bytes_and_the_contracts_content_are_in_the_key(tmp_path):
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,x\n2,y\n3,x\n")
    first = keys(tmp_path, "source.builtin=null", f"source.path={source}", "contract=null", "target=null")
    source.write_text("a,b\n1,x\n2,y\n4,x\n")
    second = keys(tmp_path, "source.builtin=null", f"source.path={source}", "contract=null", "target=null")
    assert first.ingest != second.ingest
    contract = tmp_path / "contract.yaml"
    contract.write_text((REPO / "data_contracts" / "examples" / "student_placements.yaml").read_text())
    with_copy = keys(tmp_path, f"contract={contract}")
    contract.write_text(contract.read_text() + "\n# a comment\n")
    assert keys(tmp_path, f"contract={contract}").ingest == with_copy.ingest
    contract.write_text(contract.read_text().replace("dataset: student_placements", "dataset: renamed"))
    assert keys(tmp_path, f"contract={contract}").ingest != with_copy.ingest


def test_a_renamed_contender_reuses_its_fit(tmp_path):
    plain = keys(tmp_path)
    labelled = keys(tmp_path, "generator.label=baseline")
    assert plain.fit["copula"] == labelled.fit["baseline"]


def test_two_cache_folders_never_share_keys(tmp_path):
    assert keys(tmp_path / "a").ingest != keys(tmp_path / "b").ingest


def test_an_unreadable_source_disables_caching_for_the_run(tmp_path):
    assert keys(tmp_path, "source.builtin=null", f"source.path={tmp_path / 'missing.csv'}") is None


def test_the_cache_folder_comes_from_the_spec_then_the_environment_then_home(tmp_path, monkeypatch):
    spec = load_spec(DEMO)
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "env"))
    assert cache_root(spec) == tmp_path / "env"
    assert cache_root(load_spec(DEMO, [f"cache.root={tmp_path / 'spec'}"])) == tmp_path / "spec"
    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root(spec) == tmp_path / "xdg" / "synthwright"
