"""The `synthwright` command line: exit codes, messages, and the files each command writes.

Most tests call `synthwright.pipelines.cli.main` in-process (fast); a few run the installed console script in
a real subprocess, to prove what a user at a terminal sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version as dist_version
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from cli_support import Result, assert_clean_user_error, cli, exit_code, logging_restored
from support import REPO, make_mixed_frame, mixed_contract

import synthwright
from synthwright.data_contracts.io import contract_from_dict, load_contract, save_contract
from synthwright.generators.registry import DEFAULT_GENERATOR, generator_class
from synthwright.pipelines.frames import read_frame
from synthwright.pipelines.ingest import builtin_path, ingest

SCRIPT = Path(sys.executable).parent / "synthwright"
PLACEMENTS_CONTRACT = REPO / "data_contracts" / "examples" / "student_placements.yaml"


# ----------------------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(autouse=True)
def _restore_logging():
    with logging_restored():
        yield


def script(*args, cwd: Path) -> Result:
    """Run the installed console script in a fresh process."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.run(
        [str(SCRIPT), *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Files:
    folder: Path
    data: Path
    contract: Path
    broken: Path


@pytest.fixture
def files(tmp_path, mixed_frame, mixed) -> Files:
    """The mixed frame as CSV with its contract, and a copy that breaks the contract twice."""
    data = tmp_path / "mixed.csv"
    mixed_frame.to_csv(data, index=False)
    contract = tmp_path / "mixed.yaml"
    save_contract(mixed, contract)
    broken_frame = mixed_frame.copy()
    broken_frame["colour"] = broken_frame["colour"].astype(object)
    broken_frame.loc[3, "colour"] = "purple"  # a category the contract does not allow
    broken_frame.loc[5, "age"] = 200  # above max 79
    broken = tmp_path / "broken.csv"
    broken_frame.to_csv(broken, index=False)
    return Files(tmp_path, data, contract, broken)


@pytest.fixture
def ragged(tmp_path) -> Path:
    path = tmp_path / "ragged.csv"
    path.write_text("customer_id,age\n1,20\n2,30,extra\n", encoding="utf-8")
    return path


@dataclass
class Fitted:
    folder: Path
    data: Path
    contract: Path
    model: Path


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Fitted:
    """One copula fitted on the mixed table through the CLI, shared by the sampling tests."""
    folder = tmp_path_factory.mktemp("fitted")
    data = folder / "mixed.csv"
    make_mixed_frame().to_csv(data, index=False)
    contract = folder / "mixed.yaml"
    save_contract(mixed_contract(), contract)
    model = folder / "model"
    with logging_restored():
        code = exit_code(
            ["fit", data, "--generator", "copula", "--out", model, "--contract", contract, "--seed", "3"]
        )
    assert code == 0
    return Fitted(folder, data, contract, model)


# ----------------------------------------------------------------------------------------------------------
# --version, generators


def test_version(capsys):
    result = cli(capsys, "--version")
    assert result.code == 0
    assert result.out.strip() == f"synthwright {synthwright.__version__}"
    assert synthwright.__version__ == dist_version("synthwright")


def test_generators_table(capsys):
    result = cli(capsys, "generators")
    assert result.code == 0
    assert "copula" in result.out and "bootstrap" in result.out
    assert "sdv" in result.out
    assert "our own" in result.out  # bootstrap wraps no library


def test_generators_json_lists_each_generator_with_its_config_defaults(capsys):
    result = cli(capsys, "generators", "--json")
    assert result.code == 0
    rows = {row["name"]: row for row in json.loads(result.out)}
    assert list(rows) == ["copula", "ctgan", "tvae", "diffusion", "llm", "bootstrap"]
    assert rows["diffusion"]["config"]["preset"] == "default"
    assert rows["diffusion"]["config"]["epochs"] == generator_class("diffusion").Config().epochs
    for neural in ("ctgan", "tvae"):
        assert rows[neural]["config"] == generator_class(neural).Config().model_dump(mode="json")
        assert rows[neural]["config"]["epochs"] == 300
        assert "ctgan's networks" in rows[neural]["summary"]

    copula = rows["copula"]
    assert copula["wraps"].startswith("sdv.")
    assert "GaussianCopula" in copula["wraps"]
    assert copula["config"] == generator_class("copula").Config().model_dump(mode="json")
    assert copula["config"]["default_distribution"] == "beta"
    assert copula["config"]["numerical_distributions"] == {}
    assert copula["summary"]

    bootstrap = rows["bootstrap"]
    assert bootstrap["wraps"] is None
    assert bootstrap["config"] == {}
    assert bootstrap["summary"]

    # deployments route fits of generators that train on torch to a GPU pool
    assert {name for name, row in rows.items() if row["benefits_from_gpu"]} == {
        "ctgan",
        "tvae",
        "diffusion",
        "llm",
    }


# ----------------------------------------------------------------------------------------------------------
# contract infer


def test_contract_infer_writes_a_contract_that_loads_back(capsys, files):
    target = files.folder / "inferred.yaml"
    result = cli(capsys, "contract", "infer", files.data, "--out", target)
    assert result.code == 0
    assert result.out == ""
    assert str(target) in result.err and "8 columns" in result.err

    loaded = load_contract(target)
    assert loaded == ingest(files.data).contract
    assert loaded.dataset == "mixed"
    assert loaded.names == mixed_contract().names
    # the inferred contract accepts the data it came from
    assert cli(capsys, "contract", "check", files.data, "--contract", target).code == 0


def test_contract_infer_prints_yaml_to_stdout(capsys, files):
    result = cli(capsys, "contract", "infer", files.data, "--dataset", "customers")
    assert result.code == 0
    assert result.out.startswith("# synthwright data contract")
    contract = contract_from_dict(yaml.safe_load(result.out))
    assert contract.dataset == "customers"
    assert contract.names == mixed_contract().names


def test_contract_infer_with_the_na_option(capsys, tmp_path):
    data = tmp_path / "adultish.csv"
    data.write_text("age, workclass\n" + "39, State-gov\n50, ?\n38, Private\n" * 5, encoding="utf-8")
    plain = contract_from_dict(yaml.safe_load(cli(capsys, "contract", "infer", data).out))
    with_na = contract_from_dict(yaml.safe_load(cli(capsys, "contract", "infer", data, "--na", "?").out))
    plain_column = plain.columns[plain.names.index("workclass")]
    na_column = with_na.columns[with_na.names.index("workclass")]
    assert (plain_column.nullable, plain_column.values) == (False, ["?", "Private", "State-gov"])
    assert (na_column.nullable, na_column.values) == (True, ["Private", "State-gov"])


# ----------------------------------------------------------------------------------------------------------
# contract check


def test_contract_check_passes(capsys, files):
    result = cli(capsys, "contract", "check", files.data, "--contract", files.contract)
    assert result.code == 0, result
    assert "120 rows pass all" in result.out


def test_contract_check_on_the_builtin_demo_table(capsys):
    result = cli(
        capsys, "contract", "check", builtin_path("student_placements"), "--contract", PLACEMENTS_CONTRACT
    )
    assert result.code == 0, result
    assert "215 rows pass" in result.out


def test_contract_check_fails_and_names_the_columns(capsys, files):
    result = cli(capsys, "contract", "check", files.broken, "--contract", files.contract)
    assert result.code == 1
    assert "2 of" in result.out and "contract checks failed" in result.out
    assert "column 'colour'" in result.out and "'purple'" in result.out
    assert "column 'age'" in result.out and "200" in result.out
    assert "Traceback" not in result.err


def test_contract_check_json(capsys, files):
    result = cli(capsys, "contract", "check", files.broken, "--contract", files.contract, "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["passed"] is False
    assert report["rows"] == 120
    assert report["source"] == str(files.broken)
    by_column = {v["column"]: v for v in report["violations"]}
    assert set(by_column) == {"age", "colour"}
    assert by_column["colour"]["examples"] == ["purple"]
    assert by_column["colour"]["unexpected_count"] == 1
    assert by_column["age"]["examples"] == [200]
    assert all(v["passed"] is False for v in report["violations"])
    assert report["checks"] > len(report["violations"])


def test_contract_check_json_on_passing_data(capsys, files):
    result = cli(capsys, "contract", "check", files.data, "--contract", files.contract, "--json")
    assert result.code == 0
    report = json.loads(result.out)
    assert report["passed"] is True
    assert report["violations"] == []


def test_contract_check_junit(capsys, files):
    junit = files.folder / "report.xml"
    result = cli(capsys, "contract", "check", files.broken, "--contract", files.contract, "--junit", junit)
    assert result.code == 1
    suite = ElementTree.parse(junit).getroot()
    assert suite.tag == "testsuite"
    assert suite.get("failures") == "2"
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert {case.get("classname") for case in failed} == {"contract.age", "contract.colour"}
    assert any("purple" in case.find("failure").get("message") for case in failed)
    assert len(list(suite.iter("testcase"))) == int(suite.get("tests"))


def test_contract_check_junit_on_passing_data_has_no_failure(capsys, files):
    junit = files.folder / "report.xml"
    assert (
        cli(capsys, "contract", "check", files.data, "--contract", files.contract, "--junit", junit).code == 0
    )
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("failures") == "0"
    assert suite.find(".//failure") is None


def test_contract_check_reports_values_that_cannot_be_parsed(capsys, files, mixed_frame):
    frame = mixed_frame.astype({"age": object})
    frame.loc[[2, 7], "age"] = "forty"
    unparsable = files.folder / "unparsable.csv"
    frame.to_csv(unparsable, index=False)
    result = cli(capsys, "contract", "check", unparsable, "--contract", files.contract, "--json")
    assert result.code == 1
    [violation] = [v for v in json.loads(result.out)["violations"] if v["check"] == "parse_as_integer"]
    assert violation["column"] == "age"
    assert violation["unexpected_count"] == 2
    assert violation["examples"] == ["forty"]


# ----------------------------------------------------------------------------------------------------------
# Malformed input: exit 2, one message, a fix, no traceback


def test_missing_data_file(capsys, files):
    missing = files.folder / "nowhere.csv"
    result = cli(capsys, "contract", "check", missing, "--contract", files.contract)
    assert_clean_user_error(result, str(missing), "not found")


def test_ragged_csv(capsys, files, ragged):
    result = cli(capsys, "contract", "check", ragged, "--contract", files.contract)
    assert_clean_user_error(result, str(ragged), "line 3")


def test_non_utf8_csv(capsys, files):
    latin = files.folder / "latin.csv"
    latin.write_bytes(b"customer_id,name\n1,Ren" + b"\xe9\n")
    result = cli(capsys, "contract", "check", latin, "--contract", files.contract)
    assert_clean_user_error(result, str(latin), "position 22")
    assert "encoding" in result.err


def test_empty_data_file(capsys, files):
    empty = files.folder / "empty.csv"
    empty.write_bytes(b"")
    assert_clean_user_error(cli(capsys, "contract", "infer", empty), str(empty), "empty")


def test_data_that_does_not_match_the_contract_header(capsys, files, mixed_frame):
    other = files.folder / "renamed.csv"
    mixed_frame.rename(columns={"colour": "color"}).to_csv(other, index=False)
    result = cli(capsys, "contract", "check", other, "--contract", files.contract)
    assert_clean_user_error(result, str(other), "['colour']", "['color']")


def test_debug_shows_the_traceback(capsys, files, ragged):
    result = cli(capsys, "--debug", "contract", "check", ragged, "--contract", files.contract)
    assert result.code == 2
    assert "Traceback" in result.err
    assert "error: " in result.err and str(ragged) in result.err


def test_invalid_yaml_contract(capsys, files):
    bad = files.folder / "bad.yaml"
    bad.write_text("dataset: x\ncolumns: [\n", encoding="utf-8")
    result = cli(capsys, "contract", "check", files.data, "--contract", bad)
    assert result.code == 2
    assert result.err.startswith("error: ")
    assert str(bad) in result.err and "not valid YAML" in result.err
    assert "Traceback" not in result.err


def test_contract_with_an_unknown_kind(capsys, files):
    bad = files.folder / "wrong_kind.yaml"
    bad.write_text("dataset: x\ncolumns:\n- name: customer_id\n  kind: wibble\n", encoding="utf-8")
    result = cli(capsys, "contract", "check", files.data, "--contract", bad)
    assert result.code == 2
    assert str(bad) in result.err
    assert "columns[0].kind" in result.err and "'wibble'" in result.err
    assert "Traceback" not in result.err


def test_missing_contract_file(capsys, files):
    missing = files.folder / "nowhere.yaml"
    result = cli(capsys, "contract", "check", files.data, "--contract", missing)
    assert_clean_user_error(result, str(missing), "not found")


# ----------------------------------------------------------------------------------------------------------
# Usage errors are the user's, not internal errors


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["contract", "check", "data.csv"],  # --contract is required
        ["sample", "model", "--rows", "-1", "--out", "x.csv"],
        ["generators", "--no-such-flag"],
    ],
    ids=["unknown-command", "missing-option", "negative-rows", "unknown-flag"],
)
def test_usage_errors_exit_2(capsys, args):
    result = cli(capsys, *args)
    assert result.code == 2, result
    assert "internal error" not in result.err
    assert "bug in synthwright" not in result.err
    assert "Traceback" not in result.err


# ----------------------------------------------------------------------------------------------------------
# fit and sample


def test_fit_writes_a_model_folder(fitted):
    manifest = json.loads((fitted.model / "generator.json").read_text())
    assert manifest["generator"] == "copula"
    assert manifest["seed"] == 3
    assert manifest["n_training_rows"] == 120
    assert set(manifest["sha256"]) <= {p.name for p in fitted.model.iterdir()}


def test_sample_to_parquet(capsys, fitted, tmp_path):
    target = tmp_path / "synthetic.parquet"
    result = cli(capsys, "sample", fitted.model, "--rows", "50", "--out", target)
    assert result.code == 0, result
    assert "50 rows" in result.out
    contract = load_contract(fitted.contract)
    assert pq.read_metadata(target).num_rows == 50
    frame = read_frame(target, contract)
    assert list(frame.columns) == contract.names
    assert len(frame) == 50
    assert set(frame["colour"].dropna()) <= {"red", "green", "blue"}
    assert frame["age"].between(18, 79).all()
    assert (frame["start_date"] <= frame["end_date"]).all()


def test_sample_to_csv_reads_back_under_the_contract(capsys, fitted, tmp_path):
    target = tmp_path / "synthetic.csv"
    assert cli(capsys, "sample", fitted.model, "-n", "50", "--out", target, "--seed", "5").code == 0
    assert len(pd.read_csv(target)) == 50
    result = ingest(target, contract=load_contract(fitted.contract))
    assert len(result.frame) == 50
    assert result.parse_failures == []
    assert cli(capsys, "contract", "check", target, "--contract", fitted.contract).code == 0


def test_same_seed_gives_identical_files(capsys, fitted, tmp_path):
    twin = tmp_path / "twin"
    code = cli(
        capsys,
        "fit",
        fitted.data,
        "-g",
        "copula",
        "--out",
        twin,
        "--contract",
        fitted.contract,
        "--seed",
        "3",
    ).code
    assert code == 0

    def sample(model: Path, name: str, *seed: str) -> bytes:
        target = tmp_path / name
        assert cli(capsys, "sample", model, "--rows", "50", "--out", target, *seed).code == 0
        return target.read_bytes()

    first = sample(fitted.model, "a.parquet", "--seed", "11")
    assert sample(fitted.model, "b.parquet", "--seed", "11") == first
    assert sample(twin, "c.parquet", "--seed", "11") == first  # a refit with the same seed, too
    assert sample(fitted.model, "d.parquet", "--seed", "12") != first
    # without --seed the fit's seed is used, every time
    assert sample(fitted.model, "e.parquet") == sample(fitted.model, "f.parquet", "--seed", "3")


def test_fit_accepts_a_valid_config(capsys, fitted, tmp_path):
    model = tmp_path / "norm"
    args = ["fit", fitted.data, "-g", "copula", "--out", model, "--config", "default_distribution=norm"]
    result = cli(capsys, *args, "--contract", fitted.contract)
    assert result.code == 0, result
    manifest = json.loads((model / "generator.json").read_text())
    assert manifest["config"]["default_distribution"] == "norm"


def test_fit_without_a_generator_fits_the_default_and_reports_its_budget(capsys, fitted, tmp_path):
    model = tmp_path / "default"
    args = ["fit", fitted.data, "--out", model, "--contract", fitted.contract, "--json"]
    result = cli(
        capsys, *args, "--config", "preset=fast", "--config", "epochs=500", "--config", "max_minutes=0.005"
    )
    assert result.code == 0, result
    report = json.loads(result.out)
    assert report["generator"] == DEFAULT_GENERATOR == "diffusion"
    training = report["training"]
    assert training["budget_minutes"] == 0.005 and 1 <= training["epochs_planned"] < 500
    assert json.loads((model / "generator.json").read_text())["training"] == training


def test_fit_rejects_an_unknown_config_key_and_lists_the_valid_ones(capsys, fitted, tmp_path):
    model = tmp_path / "never"
    result = cli(capsys, "fit", fitted.data, "-g", "copula", "--out", model, "--config", "nope=1")
    assert result.code == 2
    assert "'nope'" in result.err or "nope:" in result.err
    assert "default_distribution" in result.err and "numerical_distributions" in result.err
    assert "Traceback" not in result.err
    # the listed defaults must be real values, not pydantic's sentinel for "comes from a factory"
    assert "PydanticUndefined" not in result.err
    assert not model.exists()


def test_fit_rejects_a_bad_config_value(capsys, fitted, tmp_path):
    result = cli(
        capsys,
        "fit",
        fitted.data,
        "-g",
        "copula",
        "--out",
        tmp_path / "m",
        "--config",
        "default_distribution=x",
    )
    assert result.code == 2
    assert "default_distribution" in result.err and "'norm'" in result.err


def test_config_without_equals_names_the_option_used(capsys, fitted, tmp_path):
    result = cli(capsys, "fit", fitted.data, "-g", "copula", "--out", tmp_path / "m", "--config", "novalue")
    assert result.code == 2
    assert "'novalue'" in result.err
    # the user typed --config; a message about --set sends them to an option `fit` does not have
    assert "--config" in result.err
    assert "--set" not in result.err


def test_unknown_generator_lists_the_available_ones(capsys, files):
    result = cli(capsys, "fit", files.data, "--generator", "wibble", "--out", files.folder / "m")
    assert_clean_user_error(result, "'wibble'")
    assert "copula" in result.err and "bootstrap" in result.err


def test_fit_on_data_that_breaks_its_contract_exits_1(capsys, files):
    model = files.folder / "model"
    result = cli(capsys, "fit", files.broken, "-g", "bootstrap", "--out", model, "--contract", files.contract)
    assert result.code == 1
    assert "failed: " in result.err and "colour" in result.err
    assert "Traceback" not in result.err
    assert not model.exists()


def test_sample_from_a_folder_that_is_not_a_model(capsys, tmp_path):
    folder = tmp_path / "not_a_model"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello", encoding="utf-8")
    result = cli(capsys, "sample", folder, "--rows", "5", "--out", tmp_path / "x.csv")
    assert_clean_user_error(result, str(folder), "not a synthwright model")
    assert not (tmp_path / "x.csv").exists()


def test_sample_from_a_tampered_model(capsys, fitted, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(fitted.model, copy)
    (copy / "contract.json").write_text((copy / "contract.json").read_text() + " ", encoding="utf-8")
    result = cli(capsys, "sample", copy, "--rows", "5", "--out", tmp_path / "x.csv")
    assert_clean_user_error(result, "contract.json", "sha256")


def test_sample_to_an_unknown_file_type(capsys, fitted, tmp_path):
    result = cli(capsys, "sample", fitted.model, "--rows", "5", "--out", tmp_path / "x.xlsx")
    assert result.code == 2
    assert "'.xlsx'" in result.err and "Traceback" not in result.err


# ----------------------------------------------------------------------------------------------------------
# versions


def test_versions_of_a_dataset_with_none(capsys, tmp_path):
    result = cli(capsys, "versions", "mixed", "--root", tmp_path)
    assert result.code == 0
    assert "no published versions of 'mixed'" in result.out
    as_json = cli(capsys, "versions", "mixed", "--root", tmp_path, "--json")
    assert as_json.code == 0
    assert json.loads(as_json.out) == []


@pytest.mark.parametrize("name", ["../x", "a/b", "latest", ""])
def test_versions_rejects_an_invalid_dataset_name(capsys, tmp_path, name):
    result = cli(capsys, "versions", name, "--root", tmp_path)
    assert_clean_user_error(result, "invalid dataset name")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------------------
# The installed console script, in real processes


def test_script_version(tmp_path):
    result = script("--version", cwd=tmp_path)
    assert result.code == 0
    assert result.out.strip() == f"synthwright {synthwright.__version__}"


def test_script_malformed_csv_gives_a_message_not_a_traceback(files):
    ragged = files.folder / "ragged.csv"
    ragged.write_text("customer_id,age\n1,20\n2,30,extra\n", encoding="utf-8")
    result = script("contract", "check", "ragged.csv", "--contract", "mixed.yaml", cwd=files.folder)
    assert_clean_user_error(result, "ragged.csv", "line 3")
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 2


def test_script_contract_check_json_on_broken_data(files):
    result = script("contract", "check", "broken.csv", "--contract", "mixed.yaml", "--json", cwd=files.folder)
    assert result.code == 1, result.err
    report = json.loads(result.out)
    assert report["passed"] is False
    assert {v["column"] for v in report["violations"]} == {"age", "colour"}
    assert "Traceback" not in result.err


def test_script_non_utf8_file_and_debug(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"city,name\nParis,Ren" + b"\xe9\n")
    plain = script("contract", "infer", "latin.csv", cwd=tmp_path)
    assert_clean_user_error(plain, "latin.csv", "position 19")
    assert plain.out == ""
    debug = script("--debug", "contract", "infer", "latin.csv", cwd=tmp_path)
    assert debug.code == 2
    assert "Traceback" in debug.err
    assert "UnicodeDecodeError" in debug.err
    assert "error: " in debug.err
