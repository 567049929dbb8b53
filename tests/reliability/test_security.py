"""Security: pickled models load only when signed here (or trusted), YAML never runs code, names and
paths cannot leave the output root, and a version is never overwritten."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pandas as pd
import pytest
from cli_support import assert_clean_user_error, cli, cli_captured
from support import make_mixed_frame, mixed_contract

from synthwright import trust
from synthwright.data_contracts.io import save_contract
from synthwright.errors import ConfigError
from synthwright.files import file_sha256
from synthwright.generators.base import Generator
from synthwright.pipelines.store import Store


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("table")
    data, contract = folder / "mixed.csv", folder / "mixed.yaml"
    make_mixed_frame(120, seed=0).to_csv(data, index=False)
    save_contract(mixed_contract(), contract)
    return data, contract


def fitted(table, folder: Path, generator: str) -> Path:
    data, contract = table
    model = folder / generator
    result = cli_captured("fit", data, "-g", generator, "--contract", contract, "--out", model)
    assert result.code == 0, result
    return model


@pytest.fixture(scope="module")
def copula(table, tmp_path_factory) -> Path:
    return fitted(table, tmp_path_factory.mktemp("copula"), "copula")


# ---- pickled models ----------------------------------------------------------------------------------


def test_a_copula_saved_here_is_signed_and_samples(capsys, copula, tmp_path):
    manifest = json.loads((copula / "generator.json").read_text())
    assert len(manifest["signature"]) == 64
    assert Path(os.environ[trust.KEY_ENV]).stat().st_mode & 0o077 == 0  # the key is owner-only
    result = cli(capsys, "sample", copula, "--rows", 5, "--out", tmp_path / "x.csv")
    assert result.code == 0, result.err


def test_a_copula_signed_by_another_installation_is_refused_unless_trusted(
    capsys, copula, tmp_path, monkeypatch
):
    monkeypatch.setenv(trust.KEY_ENV, str(tmp_path / "another-key"))
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", copula, "--rows", 5, "--out", target)
    assert_clean_user_error(result, str(copula), "pickled copula model", "did not save")
    assert "--trust-model" in result.err
    assert not target.exists()
    assert cli(capsys, "sample", copula, "--rows", 5, "--out", target, "--trust-model").code == 0
    assert len(pd.read_csv(target)) == 5


class _Payload:
    """A pickle that, when loaded, creates a file: what a malicious model folder would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_planted_pickle_with_matching_checksums_never_runs(capsys, copula, tmp_path):
    folder = tmp_path / "planted"
    folder.mkdir()
    for path in copula.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    marker = tmp_path / "code-ran"
    pickled = folder / "sdv_gaussian_copula.pkl"
    pickled.write_bytes(pickle.dumps(_Payload(marker)))
    manifest = json.loads((folder / "generator.json").read_text())
    manifest["sha256"][pickled.name] = file_sha256(pickled)  # an attacker can write both
    (folder / "generator.json").write_text(json.dumps(manifest))
    result = cli(capsys, "sample", folder, "--rows", 5, "--out", tmp_path / "x.csv")
    assert_clean_user_error(result, "signature")
    assert not marker.exists()
    with pytest.raises(ConfigError, match="signature"):
        Generator.load(folder)
    assert not marker.exists()


def test_a_changed_file_is_refused_even_when_trusted(copula, tmp_path):
    folder = tmp_path / "changed"
    folder.mkdir()
    for path in copula.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "sdv_gaussian_copula.pkl").write_bytes(b"not the saved bytes")
    with pytest.raises(ConfigError, match="sha256 mismatch"):
        Generator.load(folder, trust_pickle=True)


def test_a_model_without_pickles_loads_from_anywhere(capsys, table, tmp_path, monkeypatch):
    model = fitted(table, tmp_path, "bootstrap")
    assert "signature" not in json.loads((model / "generator.json").read_text())
    monkeypatch.setenv(trust.KEY_ENV, str(tmp_path / "another-key"))
    assert cli(capsys, "sample", model, "--rows", 5, "--out", tmp_path / "x.csv").code == 0


def test_an_unwritable_key_location_saves_unsigned_with_a_warning(table, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(trust.KEY_ENV, str(blocker / "key"))  # a folder that cannot exist
    model = fitted(table, tmp_path, "copula")
    assert json.loads((model / "generator.json").read_text())["signature"] is None
    with pytest.raises(ConfigError, match="--trust-model"):
        Generator.load(model)
    assert Generator.load(model, trust_pickle=True).name == "copula"


def test_two_processes_creating_the_key_at_once_agree(tmp_path, monkeypatch):
    """The key is linked into place: a second creator reads the first one's key."""
    monkeypatch.setenv(trust.KEY_ENV, str(tmp_path / "key"))
    first = trust.signature({"a": 1})
    assert first == trust.signature({"a": 1}) and trust.verify({"a": 1}, first)
    assert not trust.verify({"a": 2}, first) and not trust.verify({"a": 1}, None)
    (tmp_path / "key").unlink()
    assert not trust.verify({"a": 1}, first)  # a new key does not vouch for the old signatures


# ---- YAML never runs code ------------------------------------------------------------------------------

PYTHON_TAG = "!!python/object/apply:pathlib.Path.touch [{marker}]"


@pytest.mark.parametrize("command", ["run", "contract", "augment"])
def test_yaml_with_a_python_tag_is_refused_and_runs_nothing(capsys, table, tmp_path, command):
    marker = tmp_path / "code-ran"
    tag = PYTHON_TAG.format(marker=json.dumps(str(marker)))
    path = tmp_path / "file.yaml"
    if command == "run":
        path.write_text(f"dataset: {tag}\nsource: {{builtin: student_placements}}\n")
        result = cli(capsys, "run", path)
    elif command == "augment":
        path.write_text(f"dataset: x\nsource: {{builtin: student_placements}}\nrows: {tag}\n")
        result = cli(capsys, "augment", path)
    else:
        path.write_text(f"version: 1\ndataset: x\ncolumns: {tag}\n")
        result = cli(capsys, "contract", "check", table[0], "--contract", path)
    assert_clean_user_error(result, "file.yaml", "python/object", "not read")
    assert not marker.exists()


# ---- names and paths stay inside the output root --------------------------------------------------------


@pytest.mark.parametrize("name", ["../escape", "a/b", "/etc", "..", "latest", ".hidden", "a\\b"])
def test_a_dataset_name_that_is_a_path_is_refused_everywhere(capsys, table, tmp_path, name):
    root = tmp_path / "out"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"dataset: {json.dumps(name)}\nsource: {{path: {table[0]}}}\ncontract: {table[1]}\n")
    results = [
        cli(capsys, "run", spec, "--set", f"output.root={root}"),
        cli(capsys, "versions", name, "--root", root),
        cli(capsys, "check", "--version", f"{name}@v1", "--root", root),
        cli(capsys, "augment", "--source", table[0], "--dataset", name, "--rows", 5),
    ]
    for result in results:
        assert result.code == 2 and "Traceback" not in result.err, result
        assert "dataset name" in result.err or "DATASET@vN" in result.err, result.err
    assert not any(tmp_path.parent.glob("escape*")) and not (tmp_path / "escape").exists()
    assert not root.exists() or not any(root.iterdir())


def test_a_version_folder_that_exists_is_never_overwritten(tmp_path):
    store = Store(tmp_path)
    frame, contract = make_mixed_frame(20), mixed_contract()
    first = store.publish("mixed", frame, contract, {})
    squatter = tmp_path / "mixed" / "v000002"
    squatter.mkdir()
    (squatter / "someone-elses.txt").write_text("keep me")
    second = store.publish("mixed", frame, contract, {})
    assert (first.name, second.name) == ("v000001", "v000003")
    assert (squatter / "someone-elses.txt").read_text() == "keep me"
