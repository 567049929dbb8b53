"""`synthwright check`: a data file against its contract and a baseline, a published version against
its manifest; every exit code, every report format, tampered versions, and the example CI workflow."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
import yaml
from cli_support import assert_clean_user_error, cli, logging_restored
from support import REPO, make_mixed_frame, mixed_contract

from synthwright.data_contracts.io import contract_fingerprint, contract_to_dict, save_contract
from synthwright.data_contracts.model import DriftThresholds
from synthwright.files import file_sha256
from synthwright.pipelines.check import CheckOutcome
from synthwright.pipelines.check_formats import MARKDOWN_FAILURES_SHOWN, to_markdown
from synthwright.pipelines.cli import app
from synthwright.pipelines.store import MANIFEST, Store
from synthwright.validators.contract import CheckResult
from synthwright.validators.gates import Metric, Scorecard

WORKFLOW = REPO / "examples" / "ci" / "github-actions.yml"


@pytest.fixture(autouse=True)
def _restore_logging():
    with logging_restored():
        yield


def run(capsys, *args):
    """`synthwright ARGS`, with what every run must show: a known exit code and no traceback."""
    result = cli(capsys, *args)
    assert result.code in (0, 1, 2), result
    assert "Traceback" not in result.err + result.out and "internal error" not in result.err, result
    return result


# ----------------------------------------------------------------------------------------------------------
# Data files


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The mixed table as CSV and its contract; a copy that breaks the contract; one that drifted."""
    folder = tmp_path_factory.mktemp("check")
    frame = make_mixed_frame(200)
    frame.to_csv(folder / "data.csv", index=False)
    make_mixed_frame(200, seed=1).to_csv(folder / "other_sample.csv", index=False)
    save_contract(mixed_contract(), folder / "contract.yaml")
    broken = frame.astype({"colour": object})
    broken.loc[3, "colour"] = "purple"  # not an allowed category
    broken.loc[5, "age"] = 200  # above max 79
    broken.to_csv(folder / "broken.csv", index=False)
    drifted = frame.copy()
    drifted["colour"] = drifted["colour"].where(drifted["colour"].isna(), "blue")  # 20 % blue → 90 %
    drifted.to_csv(folder / "drifted.csv", index=False)
    drifted.loc[5, "age"] = 200
    drifted.to_csv(folder / "drifted_and_broken.csv", index=False)
    loose = mixed_contract().model_copy(
        update={"drift": DriftThresholds(shape_error_max=50, trend_error_max=60, column_shape_error_max=90)}
    )
    save_contract(loose, folder / "loose.yaml")
    return folder


def test_data_that_keeps_its_contract_passes(capsys, folder):
    result = run(capsys, "check", folder / "data.csv", "--contract", folder / "contract.yaml")
    assert result.code == 0
    assert result.out.startswith("✓ ") and "checks pass (contract " in result.out
    assert result.out.count("\n") == 1


def test_a_contract_violation_fails_with_exit_1_and_lists_each_failure(capsys, folder):
    result = run(capsys, "check", folder / "broken.csv", "--contract", folder / "contract.yaml")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith("✗ ") and "2 of" in lines[0] and "(contract 2 of" in lines[0]
    assert any("column 'age'" in line and "200" in line for line in lines[1:])
    assert any("'purple'" in line for line in lines[1:])


def test_values_that_do_not_parse_are_failed_checks(capsys, folder, tmp_path):
    text = (folder / "data.csv").read_text().splitlines()
    fields = text[1].split(",")
    fields[1] = "forty"  # age
    (tmp_path / "unparsable.csv").write_text("\n".join([text[0], ",".join(fields), *text[2:]]) + "\n")
    result = run(capsys, "check", tmp_path / "unparsable.csv", "--contract", folder / "contract.yaml")
    assert result.code == 1
    assert "cannot be read as integer, e.g. 'forty'" in result.out


def test_the_same_rows_as_the_baseline_pass_and_add_drift_checks(capsys, folder):
    result = run(
        capsys, "check", folder / "data.csv", "--contract", folder / "contract.yaml",
        "--baseline", folder / "data.csv", "--format", "json",
    )  # fmt: skip
    assert result.code == 0
    report = json.loads(result.out)
    drift = [c for c in report["checks"] if c["section"] == "drift"]
    assert [c["column"] for c in drift] == ["age", "income", "colour", "member", "start_date", "end_date"] + [
        None,
        None,
    ]


def test_another_sample_of_the_same_population_passes_the_default_thresholds(capsys, folder):
    args = ["--contract", folder / "contract.yaml", "--baseline", folder / "other_sample.csv"]
    assert run(capsys, "check", folder / "data.csv", *args).code == 0


def test_drift_fails_with_exit_1_naming_the_column(capsys, folder):
    args = ["--contract", folder / "contract.yaml", "--baseline", folder / "data.csv"]
    result = run(capsys, "check", folder / "drifted.csv", *args)
    assert result.code == 1
    assert "(contract 0 of" in result.out and "drift " in result.out
    assert "✗ drift: column 'colour': shape error" in result.out and "above 20.0 %" in result.out


def test_drift_within_thresholds_given_as_flags_passes(capsys, folder):
    args = ["--contract", folder / "contract.yaml", "--baseline", folder / "data.csv"]
    flags = ["--column-shape-error-max", "90", "--shape-error-max", "50", "--trend-error-max", "60"]
    assert run(capsys, "check", folder / "drifted.csv", *args, *flags).code == 0


def test_the_contracts_thresholds_apply_and_flags_override_them(capsys, folder):
    args = ["--contract", folder / "loose.yaml", "--baseline", folder / "data.csv"]
    assert run(capsys, "check", folder / "drifted.csv", *args).code == 0  # the contract's drift section
    result = run(capsys, "check", folder / "drifted.csv", *args, "--column-shape-error-max", "20")
    assert result.code == 1 and "column 'colour'" in result.out and "above 20.0 %" in result.out


# ---- exit 2: bad input and usage -------------------------------------------------------------------------


def test_missing_data_file(capsys, folder):
    result = run(capsys, "check", folder / "nope.csv", "--contract", folder / "contract.yaml")
    assert_clean_user_error(result, "data file not found")


def test_missing_baseline_file(capsys, folder):
    args = ["--contract", folder / "contract.yaml", "--baseline", folder / "nope.parquet"]
    assert_clean_user_error(run(capsys, "check", folder / "data.csv", *args), "nope.parquet")


def test_invalid_contract(capsys, folder, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ncolumns:\n- name: age\n  kind: wat\n")
    assert_clean_user_error(run(capsys, "check", folder / "data.csv", "--contract", bad), "bad.yaml")


def test_unreadable_data(capsys, folder, tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("customer_id,age\n1,20\n2,30,extra\n")
    result = run(capsys, "check", ragged, "--contract", folder / "contract.yaml")
    assert_clean_user_error(result, "not a well-formed CSV")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--format", "xml"], "--format must be one of text, json, junit, markdown"),
        (["--version", "mixed@v1"], "give DATA or --version, not both"),
        (["--trend-error-max", "5"], "--trend-error-max: drift thresholds need a baseline"),
    ],
)
def test_usage_errors_with_data(capsys, folder, args, needle):
    result = run(capsys, "check", folder / "data.csv", "--contract", folder / "contract.yaml", *args)
    assert_clean_user_error(result, needle)


def test_data_without_a_contract_and_nothing_at_all(capsys, folder):
    assert_clean_user_error(run(capsys, "check", folder / "data.csv"), "--contract is required")
    assert_clean_user_error(run(capsys, "check"), "nothing to check")


def test_a_threshold_out_of_range(capsys, folder):
    args = ["--contract", folder / "contract.yaml", "--baseline", folder / "data.csv"]
    result = run(capsys, "check", folder / "data.csv", *args, "--shape-error-max", "150")
    assert_clean_user_error(result, "drift thresholds")


# ---- formats ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def failing_json(folder) -> dict:
    """The JSON report of a run that fails in both sections: the reference for the other formats."""
    from cli_support import cli_captured

    result = cli_captured(*failing_args(folder), "--format", "json")
    assert result.code == 1, result
    return json.loads(result.out)


def failing_args(folder: Path) -> list:
    return [
        "check", folder / "drifted_and_broken.csv", "--contract", folder / "contract.yaml",
        "--baseline", folder / "data.csv",
    ]  # fmt: skip


def test_json_report_counts_every_check(failing_json):
    checks = failing_json["checks"]
    assert failing_json["passed"] is False
    assert failing_json["counts"]["checks"] == len(checks)
    assert failing_json["counts"]["failed"] == sum(not c["passed"] for c in checks) >= 2
    assert list(failing_json["sections"]) == ["contract", "drift"]
    assert (
        failing_json["sections"]["drift"]["failed"] >= 1
        and failing_json["sections"]["contract"]["failed"] == 1
    )
    assert set(checks[0]) >= {"section", "check", "column", "passed", "message"}


def test_text_report_lists_each_failure_once(capsys, folder, failing_json):
    result = run(capsys, *failing_args(folder))
    assert result.code == 1
    lines = result.out.splitlines()
    counts = failing_json["counts"]
    assert lines[0].startswith(
        f"✗ {folder / 'drifted_and_broken.csv'}: {counts['failed']} of {counts['checks']}"
    )
    assert len(lines) == 1 + counts["failed"]
    assert all(line.startswith("  ✗ contract: ") or line.startswith("  ✗ drift: ") for line in lines[1:])


def test_junit_report_has_one_testcase_per_check_and_one_failure_per_failed_check(
    capsys, folder, failing_json
):
    result = run(capsys, *failing_args(folder), "--format", "junit")
    assert result.code == 1
    root = ElementTree.fromstring(result.out.encode())
    counts = failing_json["counts"]
    assert root.tag == "testsuites"
    assert len(root.findall("./testsuite/testcase")) == counts["checks"] == int(root.get("tests"))
    assert len(root.findall("./testsuite/testcase/failure")) == counts["failed"] == int(root.get("failures"))
    for suite in root.findall("testsuite"):
        section = failing_json["sections"][suite.get("name")]
        assert int(suite.get("tests")) == section["checks"] == len(suite.findall("testcase"))
        assert int(suite.get("failures")) == section["failed"] == len(suite.findall("testcase/failure"))
    messages = [f.get("message") for f in root.iter("failure")]
    assert any("column 'colour'" in m for m in messages) and any("column 'age'" in m for m in messages)


def test_markdown_report_has_a_verdict_a_summary_table_and_the_failures(capsys, folder, failing_json):
    result = run(capsys, *failing_args(folder), "--format", "markdown")
    assert result.code == 1
    text = result.out
    assert text.startswith("### ❌ synthwright check:")
    assert "| section | checks | passed | failed |" in text
    counts = failing_json["sections"]
    assert (
        f"| drift | {counts['drift']['checks']} | {counts['drift']['passed']} | {counts['drift']['failed']} |"
        in text
    )
    failure_rows = [line for line in text.splitlines() if line.startswith(("| contract |", "| drift |"))]
    assert len(failure_rows) == 2 + failing_json["counts"]["failed"]  # 2 summary rows + one per failure


def test_markdown_escapes_pipes_and_caps_the_failures():
    failures = [CheckResult("rule", "a|b", False, f"value {i} | broke\nit <b>") for i in range(60)]
    outcome = CheckOutcome("x.csv", {"contract": [CheckResult("ok", None, True, "fine"), *failures]})
    text = to_markdown(outcome)
    rows = [line for line in text.splitlines() if line.startswith("| contract | rule |")]
    assert len(rows) == MARKDOWN_FAILURES_SHOWN
    assert rows[0] == "| contract | rule | a\\|b | value 0 \\| broke it &lt;b&gt; |"
    assert "and 10 more failures" in text
    assert "60 of 61 checks failed" in text.splitlines()[0]


def test_out_writes_the_report_and_prints_the_verdict(capsys, folder, tmp_path):
    target = tmp_path / "reports" / "check.xml"
    result = run(capsys, *failing_args(folder), "--format", "junit", "--out", target)
    assert result.code == 1
    verdict, where = result.out.splitlines()
    assert verdict.startswith("✗ ") and where == f"report: {target}"
    assert ElementTree.parse(target).getroot().tag == "testsuites"
    assert [p.name for p in target.parent.iterdir()] == ["check.xml"]  # no temporary file left behind


# ----------------------------------------------------------------------------------------------------------
# Published versions


def publish(root: Path, report: Path) -> Path:
    """The mixed table as version 1, in three parts, with a report attachment and a passing scorecard."""
    contract = mixed_contract()
    scorecard = Scorecard(
        metrics=[
            Metric(name="shape_error", value=5.0, threshold=20.0, unit=" %", ideal=0.0),
            Metric(name="detection_auc", value=0.7, threshold=0.9, ideal=0.5),
            Metric(name="nndr_median", value=0.9, threshold=None, direction="min", group="privacy"),
        ]
    )
    manifest = {
        "status": "published",
        "contract": {
            "sha256": contract_fingerprint(contract),
            "inferred": False,
            "definition": contract_to_dict(contract),
        },
        "scorecard": scorecard.to_dict(),
        "gate": {"passed": scorecard.passed},
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("synthwright.pipelines.store.ROWS_PER_PART", 50)
        version = Store(root).publish(
            "mixed", make_mixed_frame(120), contract, manifest, attachments={"report.html": report}
        )
    return version.path


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("published")
    report = folder / "report.html"
    report.write_text("<html><body>the report</body></html>\n")
    root = folder / "store"
    path = publish(root, report)
    assert sorted(p.name for p in path.iterdir()) == [
        MANIFEST, "part-00000.parquet", "part-00001.parquet", "part-00002.parquet", "report.html"
    ]  # fmt: skip
    return root


@pytest.fixture
def store(published, tmp_path) -> Path:
    """A copy of the published store this test may damage."""
    return Path(shutil.copytree(published, tmp_path / "store", symlinks=True))


def version_dir(root: Path) -> Path:
    return root / "mixed" / "v000001"


def edit_manifest(root: Path, change) -> None:
    path = version_dir(root) / MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2))


def check_version(capsys, root: Path, reference: str = "mixed@v1", *extra):
    return run(capsys, "check", "--version", reference, "--root", root, *extra)


@pytest.mark.parametrize("reference", ["mixed@v1", "mixed@v000001", "mixed@latest", "mixed"])
def test_an_intact_version_passes(capsys, published, reference):
    result = check_version(capsys, published, reference)
    assert result.code == 0, result.out
    assert result.out.startswith("✓ mixed@v000001") and "(files 7, contract 23, scorecard 4)" in result.out
    assert "synthwright 0.1.0" not in result.out  # the subcommand's --version, not the root's


def test_an_intact_version_in_junit_lists_every_section(capsys, published):
    result = check_version(capsys, published, "mixed@v1", "--format", "junit")
    root = ElementTree.fromstring(result.out.encode())
    assert [s.get("name") for s in root.findall("testsuite")] == ["files", "contract", "scorecard"]
    assert root.get("failures") == "0"
    names = {(c.get("classname"), c.get("name")) for c in root.iter("testcase")}
    assert ("files.part-00001.parquet", "file_sha256") in names
    assert ("files.report.html", "attachment_sha256") in names
    assert ("scorecard", "gate") in names and ("contract", "contract_fingerprint") in names


def failures_of(result) -> list[str]:
    return [line for line in result.out.splitlines()[1:] if line.startswith("  ✗ ")]


def test_one_changed_byte_in_a_part_is_caught(capsys, store):
    part = version_dir(store) / "part-00001.parquet"
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x01
    part.write_bytes(bytes(data))
    result = check_version(capsys, store)
    assert result.code == 1
    assert any(
        "files: part-00001.parquet: sha256" in line and "changed" in line for line in failures_of(result)
    )


def test_a_changed_report_is_caught(capsys, store):
    report = version_dir(store) / "report.html"
    report.write_text(report.read_text().replace("the report", "another report"))
    result = check_version(capsys, store)
    assert result.code == 1
    (failure,) = failures_of(result)
    assert failure.startswith("  ✗ files: report.html: sha256 ")
    assert failure.endswith("the file changed after it was published")


def test_a_deleted_part_is_caught_and_the_other_parts_are_still_checked(capsys, store):
    (version_dir(store) / "part-00002.parquet").unlink()
    result = check_version(capsys, store, "mixed@v1", "--format", "json")
    assert result.code == 1
    failed = {
        (c["check"], c["column"]): c["message"] for c in json.loads(result.out)["checks"] if not c["passed"]
    }
    assert (
        failed[("file_sha256", "part-00002.parquet")]
        == "part-00002.parquet is missing: manifest.json lists it"
    )
    assert "part-00002.parquet is missing" in failed[("row_count", None)]
    assert set(failed) == {("file_sha256", "part-00002.parquet"), ("row_count", None)}  # 100 rows still pass


def test_a_truncated_part_is_a_failed_check_not_a_crash(capsys, store):
    part = version_dir(store) / "part-00000.parquet"
    part.write_bytes(part.read_bytes()[:100])
    result = check_version(capsys, store)
    assert result.code == 1
    text = "\n".join(failures_of(result))
    assert "part-00000.parquet: sha256" in text and "part-00000.parquet is not readable Parquet" in text


def test_a_scorecard_value_edited_past_its_threshold_is_caught(capsys, store):
    def break_shape_error(manifest):
        manifest["scorecard"]["metrics"][0]["value"] = 25.0  # threshold 20; the stored flag still says passed

    edit_manifest(store, break_shape_error)
    result = check_version(capsys, store)
    assert result.code == 1
    assert failures_of(result) == [
        "  ✗ scorecard: shape_error 25 % breaks its gate ≤ 20 %, but the manifest records passed=True",
        "  ✗ scorecard: manifest.json says the gate passed, but shape_error fail(s)",
    ]


def test_an_edited_contract_definition_breaks_its_fingerprint(capsys, store):
    def widen_age(manifest):
        manifest["contract"]["definition"]["columns"][1]["max"] = 120

    edit_manifest(store, widen_age)
    result = check_version(capsys, store)
    assert result.code == 1
    assert any("contract: the contract definition's fingerprint" in line for line in failures_of(result))


def test_an_unlisted_file_beside_the_parts_is_caught(capsys, store):
    shutil.copy(version_dir(store) / "part-00000.parquet", version_dir(store) / "part-00003.parquet")
    result = check_version(capsys, store)
    assert result.code == 1
    assert any("not in manifest.json: part-00003.parquet" in line for line in failures_of(result))


@pytest.mark.parametrize(("content", "needle"), [(None, "is missing"), ("{not json", "not readable JSON")])
def test_a_missing_or_unreadable_manifest_is_a_failed_check(capsys, store, content, needle):
    manifest = version_dir(store) / MANIFEST
    if content is None:
        manifest.unlink()
    else:
        manifest.write_text(content)
    result = check_version(capsys, store)
    assert result.code == 1
    assert needle in result.out and "nothing in the version can be verified" in result.out


def test_what_it_cannot_catch_a_file_and_its_checksum_edited_together(capsys, store):
    """The manifest is not signed: whoever can rewrite both passes (README says so)."""
    part = version_dir(store) / "part-00000.parquet"
    table = pq.read_table(part)
    ages = table.column("age").to_pylist()
    ages[0] = 18 if ages[0] != 18 else 19  # still inside the contract
    index = table.schema.get_field_index("age")
    pq.write_table(table.set_column(index, table.schema.field(index), pa.array(ages, pa.int64())), part)

    def follow(manifest):
        manifest["files"][0].update(sha256=file_sha256(part), bytes=part.stat().st_size)

    edit_manifest(store, follow)
    assert check_version(capsys, store).code == 0


@pytest.mark.parametrize("reference", ["mixed@3", "mixed@v1@v2", "../mixed@v1", "mixed@vX", "@v1"])
def test_a_malformed_reference_is_exit_2(capsys, published, reference):
    result = check_version(capsys, published, reference)
    assert_clean_user_error(result)
    assert "DATASET@vN" in result.err or "invalid dataset name" in result.err


def test_an_unknown_version_lists_the_published_ones(capsys, published):
    result = check_version(capsys, published, "mixed@v9")
    assert_clean_user_error(result, "has no version v000009")
    assert "fix: published: v000001" in result.err


def test_an_unknown_dataset_names_what_the_store_holds(capsys, published):
    result = check_version(capsys, published, "adult@v1")
    assert_clean_user_error(result, "no published versions of 'adult'")
    assert "datasets there: mixed" in result.err


def test_version_with_data_options_is_a_usage_error(capsys, published, folder):
    result = check_version(capsys, published, "mixed@v1", "--contract", folder / "contract.yaml")
    assert_clean_user_error(result, "--version checks a published version")


# ----------------------------------------------------------------------------------------------------------
# The example CI workflow


def workflow_commands() -> list[list[str]]:
    """Every `synthwright …` command line in the workflow's `run:` steps, as argv (redirects cut off)."""
    workflow = yaml.safe_load(WORKFLOW.read_text())
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            for line in script.splitlines():
                if line.strip().startswith("synthwright"):
                    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
                    lexer.whitespace_split = True
                    tokens = list(lexer)
                    stop = next(
                        (i for i, t in enumerate(tokens) if t in {">", ">>", "|", "||", "&&", ";"}), None
                    )
                    commands.append(tokens[1:stop])
    return commands


def test_the_example_workflow_gates_on_check_and_publishes_its_reports():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["check"]["steps"]
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in scripts
    assert "pip install -c .synthwright/constraints.txt" in scripts
    assert '>> "$GITHUB_STEP_SUMMARY"' in scripts
    junit = next(step for step in steps if "junit" in step.get("uses", ""))
    assert junit["with"]["report_paths"] == "check.xml"
    gate = steps[-1]
    assert gate["if"] == "steps.check.outputs.exit_code == '1'" and "exit 1" in gate["run"]
    checks = [argv for argv in workflow_commands() if argv[:1] == ["check"]]
    formats = [argv[argv.index("--format") + 1] for argv in checks]
    assert formats == ["junit", "markdown"]
    assert checks[0][checks[0].index("--out") + 1] == "check.xml"


def test_every_synthwright_command_in_the_example_workflow_parses():
    group = typer.main.get_command(app)
    commands = workflow_commands()
    assert len(commands) == 3
    for argv in commands:
        if argv == ["--version"]:
            assert any("--version" in param.opts for param in group.params)
            continue
        name, *rest = argv
        command = group.commands[name]
        with command.make_context(name, list(rest)) as context:  # parses and converts, runs nothing
            assert context.params["data"] == Path("data/customers.csv")
            assert context.params["contract_file"] == Path("contracts/customers.yaml")
            assert context.params["baseline"] == Path("data/baseline.parquet")
