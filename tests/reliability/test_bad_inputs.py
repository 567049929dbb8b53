"""The bad-input corpus: every malformed input a user can hand synthwright, built in code in tmp_path.

The promise (README, "Command line"): bad input exits 2 with one `error:` line naming the file (and the
column, when there is one), a `fix:` line, and no traceback. Inputs that are legal but unusual (a BOM, a
constant or all-null column, one row, 10,000 categories, a 1 MB cell…) are handled, not refused: a
contract inferred from such a file accepts that same file, and values a contract cannot read are failed
checks (exit 1) naming the column, never a crash.

Where the product does not keep the promise yet, the parameter is marked xfail(strict=True) with what it
does now; the test says what it should do. Remove the mark when the product is fixed.
"""

from __future__ import annotations

import errno
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_support import Result, assert_clean_user_error, cli
from hostile_support import assert_clean_run_error, column, put, registrar, round_trip

# ---- inputs, built in code ---------------------------------------------------------------------------

HEADER = "k,a,b\n"
CONTRACT = """version: 1
dataset: small
primary_key: k
columns:
- {name: k, kind: identifier, id_type: integer, unique: true}
- {name: a, kind: integer, min: 0, max: 6}
- {name: b, kind: categorical, values: [x, y]}
"""
DATED_CONTRACT = """version: 1
columns:
- {name: a, kind: integer}
- {name: d, kind: datetime, format: '%Y-%m-%d'}
"""


def rows_text(count: int = 60, start: int = 0) -> str:
    return "".join(f"{i},{i % 7},{'xy'[i % 2]}\n" for i in range(start, start + count))


def small_csv(tmp: Path, name: str = "data.csv") -> Path:
    """60 clean rows that pass CONTRACT."""
    return put(tmp / name, HEADER + rows_text())


def small_contract(tmp: Path, name: str = "contract.yaml", text: str = CONTRACT) -> Path:
    return put(tmp / name, text)


def a_file(tmp: Path) -> Path:
    """A regular file, used where a folder is expected (`afile/sub`): root ignores permissions, but
    nobody can create a folder under a file."""
    return put(tmp / "afile", "not a folder\n")


def spec_file(tmp: Path, body: str, name: str = "spec.yaml") -> Path:
    return put(tmp / name, body)


def basic_spec(tmp: Path, data: Path | None = None, extra: str = "") -> Path:
    data = data or small_csv(tmp)
    return spec_file(tmp, f"dataset: small\nsource: {{path: {data}}}\n{extra}")


# ---- the bad inputs: exit 2, one clean error naming the file (and column) -------------------------------


@dataclass(frozen=True)
class Bad:
    args: tuple
    needles: tuple[str, ...] = ()  # each must be in the `error:` line
    anywhere: tuple[str, ...] = ()  # each must be in stderr (validation problems are listed below it)


BAD: list = []


bad = registrar(BAD)


# -- data files: CSV --


@bad("csv-empty-file")
def _(tmp):
    data = put(tmp / "empty.csv", "")
    return Bad(("contract", "infer", data), (data.name, "empty"))


@bad("csv-header-only-nothing-to-infer")
def _(tmp):
    data = put(tmp / "header.csv", HEADER)
    return Bad(("contract", "infer", data), (data.name, "rows"))


@bad(
    "csv-header-repeated-inside-data",  # two exports concatenated: the header is not a data row
)
def _(tmp):
    data = put(tmp / "twice.csv", HEADER + rows_text(2) + HEADER + rows_text(2, start=2))
    return Bad(("contract", "infer", data), (data.name, "line 4"))


@bad("csv-ragged-row")
def _(tmp):
    data = put(tmp / "ragged.csv", HEADER + rows_text() + "60,1,x,extra\n")
    return Bad(("contract", "check", data, "--contract", small_contract(tmp)), (data.name, "line 62"))


@bad("csv-ragged-first-row")  # pandas alone would take the extra field for an index and shift every value
def _(tmp):
    data = put(tmp / "ragged1.csv", HEADER + "0,1,x,extra\n" + rows_text(5, start=1))
    return Bad(("contract", "infer", data), (data.name, "first data row"))


@bad(
    "csv-wrong-delimiter-semicolons",  # every line holds the same number of ';' and no ','
)
def _(tmp):
    data = put(tmp / "semi.csv", (HEADER + rows_text(20)).replace(",", ";"))
    return Bad(("contract", "infer", data), (data.name, "delimiter"))


@bad("csv-wrong-delimiter-against-contract")
def _(tmp):
    data = put(tmp / "semi.csv", (HEADER + rows_text(20)).replace(",", ";"))
    return Bad(("check", data, "--contract", small_contract(tmp)), (data.name, "k;a;b"))


@bad("csv-delimiter-option-two-characters")
def _(tmp):
    return Bad(("contract", "infer", small_csv(tmp), "--delimiter", ";;"), ("--delimiter", "';;'"))


@bad("csv-non-utf8-bytes")
def _(tmp):
    data = put(tmp / "latin.csv", (HEADER + "0,0,x\n1,1,M\xfcnchen\n").encode("latin-1"))
    return Bad(("check", data, "--contract", small_contract(tmp)), (data.name, "line 3"))


@bad("csv-utf16-file-without-bom")  # with a byte-order mark it is read: test_kinds_and_encodings.py
def _(tmp):
    data = put(tmp / "utf16.csv", (HEADER + rows_text(3)).encode("utf-16-le"))
    return Bad(("contract", "infer", data), (data.name, "NUL"), ("--encoding utf-16-le",))


@bad("csv-binary-file")
def _(tmp):
    data = put(tmp / "binary.csv", bytes(range(256)) * 40)
    return Bad(("contract", "infer", data), (data.name,))


@bad(
    "csv-nul-byte",  # binary content inside a text table: refuse it rather than lose the value
)
def _(tmp):
    data = put(tmp / "nul.csv", HEADER + "0,0,x\n1,\x001,y\n2,2,x\n")
    return Bad(("contract", "infer", data), (data.name, "line 3"))


@bad("csv-gzip-that-is-not-gzip")
def _(tmp):
    data = put(tmp / "data.csv.gz", HEADER + rows_text(3))
    return Bad(("contract", "infer", data), (data.name,))


@bad("csv-duplicate-column-names")
def _(tmp):
    data = put(tmp / "dupcols.csv", "k,a,k\n1,2,3\n")
    return Bad(("contract", "infer", data), (data.name, "'k'"))


@bad("csv-empty-column-name")
def _(tmp):
    data = put(tmp / "blankname.csv", "k,,b\n1,2,x\n")
    return Bad(("contract", "infer", data), (data.name, "[2]"))


@bad("csv-whitespace-column-name")
def _(tmp):
    data = put(tmp / "spacename.csv", "k,   ,b\n1,2,x\n")
    return Bad(("contract", "infer", data), (data.name, "[2]"))


@bad("csv-no-header-line")
def _(tmp):
    data = put(tmp / "blanklines.csv", "\n\n\n")
    return Bad(("contract", "infer", data), (data.name, "header"))


# -- data files: other formats and paths --


@bad("data-missing-file")
def _(tmp):
    return Bad(("contract", "infer", tmp / "ghost.csv"), ("ghost.csv", "not found"))


@bad("data-is-a-directory")
def _(tmp):
    folder = tmp / "folder.csv"
    folder.mkdir()
    return Bad(("contract", "infer", folder), (folder.name, "folder"))


@bad("data-unknown-extension-xlsx")
def _(tmp):
    data = put(tmp / "book.xlsx", b"PK\x03\x04 not really a workbook")
    return Bad(("contract", "infer", data), (data.name,))


@bad("data-unknown-format-option")
def _(tmp):
    return Bad(("contract", "infer", small_csv(tmp), "--format", "xml"), ("--format",), ("xml",))


@bad("data-unknown-encoding-option")
def _(tmp):
    data = small_csv(tmp)
    return Bad(
        ("check", data, "--contract", small_contract(tmp), "--encoding", "klingon"), (data.name, "klingon")
    )


@bad("parquet-duplicate-column-names")
def _(tmp):
    data = tmp / "dupcols.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([1, 2]), pa.array([3, 4])], names=["x", "x"]), data)
    return Bad(("contract", "infer", data), (data.name, "'x'"))


@bad("parquet-list-column")
def _(tmp):
    data = tmp / "nested.parquet"
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a", "b"], ["c"]]}), data)
    return Bad(("contract", "infer", data), (data.name, "tags"))


@bad("parquet-struct-column")
def _(tmp):
    data = tmp / "struct.parquet"
    pq.write_table(pa.table({"id": [1, 2], "address": [{"city": "Oslo"}, {"city": "Bergen"}]}), data)
    return Bad(("check", data, "--contract", small_contract(tmp)), (data.name, "address"))


@bad("parquet-truncated")
def _(tmp):
    whole = tmp / "whole.parquet"
    pq.write_table(pa.table({"k": list(range(500)), "b": ["x", "y"] * 250}), whole)
    data = put(tmp / "truncated.parquet", whole.read_bytes()[: whole.stat().st_size // 2])
    return Bad(("contract", "infer", data), (data.name,))


@bad("jsonl-broken-line")
def _(tmp):
    data = put(tmp / "broken.jsonl", '{"k": 1, "b": "x"}\n{"k": 2, "b": \n{"k": 3, "b": "y"}\n')
    return Bad(("contract", "infer", data), (data.name,))


@bad("jsonl-nested-object")
def _(tmp):
    data = put(tmp / "nested.jsonl", '{"k": 1, "meta": {"a": 1}}\n{"k": 2, "meta": {"a": 2}}\n')
    return Bad(("contract", "infer", data), (data.name, "meta"))


@bad("jsonl-lines-are-not-objects")
def _(tmp):
    data = put(tmp / "scalars.jsonl", "1\n2\n3\n")
    return Bad(("contract", "infer", data), (data.name, "object"))


@bad("jsonl-blank-lines-only")
def _(tmp):
    data = put(tmp / "blank.jsonl", "\n\n")
    return Bad(("contract", "infer", data), (data.name,))


@bad("jsonl-non-utf8")
def _(tmp):
    data = put(tmp / "latin.jsonl", '{"k": 1, "b": "M\xfcnchen"}\n'.encode("latin-1"))
    return Bad(("contract", "infer", data), (data.name,))


# -- contracts (contract check / check, with a clean data file) --


def contract_case(tmp: Path, text: str | bytes, *anywhere: str, command: str = "contract") -> Bad:
    contract = put(tmp / "broken-contract.yaml", text)
    head = ("contract", "check") if command == "contract" else ("check",)
    return Bad((*head, small_csv(tmp), "--contract", contract), (contract.name,), anywhere)


@bad("contract-unknown-column-key")
def _(tmp):
    text = CONTRACT.replace("values: [x, y]}", "values: [x, y], colour: red}")
    return contract_case(tmp, text, "columns[2].colour", "unknown key")


@bad("contract-unknown-top-level-key")
def _(tmp):
    return contract_case(tmp, CONTRACT + "owner: data-team\n", "owner", "unknown key", command="check")


@bad("contract-wrong-type")
def _(tmp):
    return contract_case(tmp, CONTRACT.replace("unique: true", "unique: maybe"), "columns[0].unique", "maybe")


@bad("contract-missing-required-field")
def _(tmp):
    return contract_case(tmp, CONTRACT.replace(", kind: integer", ""), "columns[1].kind", "Field required")


@bad("contract-missing-columns")
def _(tmp):
    return contract_case(tmp, "version: 1\ndataset: small\n", "columns", "Field required")


@bad("contract-unknown-kind")
def _(tmp):
    return contract_case(tmp, CONTRACT.replace("kind: integer", "kind: number"), "number")


@bad("contract-primary-key-not-a-column")
def _(tmp):
    return contract_case(tmp, CONTRACT.replace("primary_key: k", "primary_key: zz"), "'zz'")


@bad("contract-min-above-max")
def _(tmp):
    return contract_case(tmp, CONTRACT.replace("min: 0, max: 6", "min: 6, max: 0"), "min (6)")


@bad("contract-not-a-mapping")
def _(tmp):
    return contract_case(tmp, "- k\n- a\n- b\n")


@bad("contract-yaml-syntax-error")
def _(tmp):
    return contract_case(tmp, "version: 1\ncolumns: [\n")


@bad("contract-empty-file")
def _(tmp):
    return contract_case(tmp, "")


@bad("contract-binary-file")
def _(tmp):
    return contract_case(tmp, b"\xff\xfe\x00\x80 binary")


@bad("contract-missing-file")
def _(tmp):
    return Bad(
        ("contract", "check", small_csv(tmp), "--contract", tmp / "nope.yaml"), ("nope.yaml", "not found")
    )


@bad("contract-unusable-datetime-format")
def _(tmp):
    data = put(tmp / "dated.csv", "a,d\n1,2024-01-01\n")
    contract = put(tmp / "badformat.yaml", DATED_CONTRACT.replace("%Y-%m-%d", "%Q"))
    return Bad(("contract", "check", data, "--contract", contract), (contract.name,), ("'d'", "%Q"))


@bad("contract-column-missing-from-data")
def _(tmp):
    contract = small_contract(tmp, text=CONTRACT + "- {name: c, kind: float}\n")
    data = small_csv(tmp)
    return Bad(("contract", "check", data, "--contract", contract), (data.name, "'c'"))


@bad("data-column-missing-from-contract")
def _(tmp):
    data = put(tmp / "extra.csv", "k,a,b,z\n" + "".join(f"{i},1,x,{i}\n" for i in range(5)))
    return Bad(("check", data, "--contract", small_contract(tmp)), (data.name, "'z'"))


# -- `check` usage --


@bad("check-without-contract")
def _(tmp):
    data = small_csv(tmp)
    return Bad(("check", data), (data.name, "--contract"))


@bad("check-unknown-report-format")
def _(tmp):
    return Bad(("check", small_csv(tmp), "--contract", small_contract(tmp), "--format", "yaml"), ("'yaml'",))


@bad("check-missing-baseline")
def _(tmp):
    args = ("check", small_csv(tmp), "--contract", small_contract(tmp), "--baseline", tmp / "base.csv")
    return Bad(args, ("base.csv", "not found"))


@bad("check-report-under-a-file")
def _(tmp):
    out = a_file(tmp) / "sub" / "report.xml"
    return Bad(("check", small_csv(tmp), "--contract", small_contract(tmp), "--out", out), (str(out),))


@bad("check-version-malformed-reference")
def _(tmp):
    return Bad(("check", "--version", "small@v", "--root", tmp), ("'small@v'",))


@bad("check-version-unknown-dataset")
def _(tmp):
    return Bad(("check", "--version", "small@v3", "--root", tmp), ("'small'",))


@bad("check-version-path-as-dataset")
def _(tmp):
    return Bad(("check", "--version", "../small@v1", "--root", tmp), ("'../small'",))


@bad("check-data-and-version-together")
def _(tmp):
    return Bad(("check", small_csv(tmp), "--version", "small@v1", "--root", tmp), ("--version",))


@bad("contract-check-junit-under-a-file")
def _(tmp):
    out = a_file(tmp) / "junit.xml"
    return Bad(
        ("contract", "check", small_csv(tmp), "--contract", small_contract(tmp), "--junit", out), (str(out),)
    )


@bad("contract-infer-out-under-a-file")
def _(tmp):
    out = a_file(tmp) / "contract.yaml"
    return Bad(("contract", "infer", small_csv(tmp), "--out", out), (str(out),))


# -- pipeline specs (`run`; every one of these is refused before Prefect starts) --


@bad("spec-unknown-key")
def _(tmp):
    spec = basic_spec(tmp, extra="colour: red\n")
    return Bad(("run", spec), (spec.name,), ("colour", "unknown key"))


@bad("spec-wrong-type")
def _(tmp):
    spec = basic_spec(tmp, extra="seed: abc\n")
    return Bad(("run", spec), (spec.name,), ("seed", "'abc'"))


@bad("spec-missing-required-field")
def _(tmp):
    spec = spec_file(tmp, f"source: {{path: {small_csv(tmp)}}}\n")
    return Bad(("run", spec), (spec.name,), ("dataset", "Field required"))


@bad("spec-missing-source")
def _(tmp):
    spec = spec_file(tmp, "dataset: small\n")
    return Bad(("run", spec), (spec.name,), ("source", "Field required"))


@bad("spec-holdout-out-of-range")
def _(tmp):
    spec = basic_spec(tmp, extra="split: {holdout: 1.5}\n")
    return Bad(("run", spec), (spec.name,), ("split.holdout", "1.5"))


@bad("spec-path-and-builtin")
def _(tmp):
    spec = spec_file(
        tmp, f"dataset: small\nsource: {{path: {small_csv(tmp)}, builtin: student_placements}}\n"
    )
    return Bad(("run", spec), (spec.name,), ("exactly one of source.path or source.builtin",))


@bad("spec-invalid-dataset-name")
def _(tmp):
    spec = spec_file(tmp, f"dataset: '../escape'\nsource: {{path: {small_csv(tmp)}}}\n")
    return Bad(("run", spec), (spec.name,), ("'../escape'",))


@bad("spec-not-a-mapping")
def _(tmp):
    spec = spec_file(tmp, "- dataset\n- source\n")
    return Bad(("run", spec), (spec.name,))


@bad("spec-yaml-syntax-error")
def _(tmp):
    spec = spec_file(tmp, "dataset: small\nsource: {path: [\n")
    return Bad(("run", spec), (spec.name, "line"))


@bad("spec-file-missing")
def _(tmp):
    return Bad(("run", tmp / "nospec.yaml"), ("nospec.yaml", "not found"))


@bad("set-without-equals")
def _(tmp):
    return Bad(("run", basic_spec(tmp), "--set", "seed"), ("--set", "'seed'"))


@bad("set-seed-not-an-integer")
def _(tmp):
    spec = basic_spec(tmp)
    return Bad(("run", spec, "--set", "seed=abc"), (spec.name,), ("seed", "'abc'"))


@bad("set-negative-rows")
def _(tmp):
    spec = basic_spec(tmp)
    return Bad(("run", spec, "--set", "sample.rows=-5"), (spec.name,), ("sample.rows", "-5"))


@bad("set-into-a-value")
def _(tmp):
    return Bad(("run", basic_spec(tmp), "--set", "dataset.x=1"), ("dataset.x",))


# -- fit / sample / evaluate / augment / versions --


@bad("fit-unknown-generator")
def _(tmp):
    return Bad(("fit", small_csv(tmp), "-g", "nope", "--out", tmp / "model"), ("'nope'",))


@bad("fit-config-without-equals")
def _(tmp):
    return Bad(("fit", small_csv(tmp), "-g", "copula", "--out", tmp / "m", "--config", "oops"), ("--config",))


@bad("fit-unknown-config-key")
def _(tmp):
    args = ("fit", small_csv(tmp), "-g", "copula", "--out", tmp / "m", "--config", "nope=1")
    return Bad(args, ("copula",), ("nope", "unknown key"))


@bad("fit-seed-not-an-integer")
def _(tmp):
    return Bad(("fit", small_csv(tmp), "-g", "bootstrap", "--out", tmp / "m", "--seed", "abc"), ("--seed",))


@bad("fit-unknown-device")
def _(tmp):
    return Bad(("fit", small_csv(tmp), "-g", "bootstrap", "--out", tmp / "m", "--device", "tpu"), ("tpu",))


@bad("fit-out-under-a-file")
def _(tmp):
    out = a_file(tmp) / "model"
    return Bad(("fit", small_csv(tmp), "-g", "bootstrap", "--out", out), (str(out),))


@bad("sample-negative-rows")
def _(tmp):
    return Bad(("sample", tmp, "--rows", "-1", "--out", tmp / "o.csv"), ("--rows",))


@bad("sample-not-a-model-folder")
def _(tmp):
    folder = tmp / "notamodel"
    folder.mkdir()
    return Bad(("sample", folder, "--rows", "5", "--out", tmp / "o.csv"), (folder.name, "model"))


@bad("sample-condition-without-equals")
def _(tmp):
    return Bad(("sample", tmp, "--rows", "5", "--out", tmp / "o.csv", "--condition", "b"), ("--condition",))


@bad("sample-conditions-file-missing")
def _(tmp):
    args = ("sample", tmp, "--out", tmp / "o.csv", "--conditions", tmp / "conditions.csv")
    return Bad(args, ("conditions.csv", "not found"))


@bad("evaluate-unknown-task")
def _(tmp):
    data = small_csv(tmp)
    args = ("evaluate", "--train", data, "--holdout", data, "--synthetic", data, "--task", "sideways")
    return Bad(args, ("'sideways'",))


@bad("evaluate-unknown-gate")
def _(tmp):
    data = small_csv(tmp)
    args = ("evaluate", "--train", data, "--holdout", data, "--synthetic", data, "--gate", "nope=1")
    return Bad(args, ("--gate",), ("nope", "unknown key"))


@bad("evaluate-synthetic-with-other-columns")
def _(tmp):
    data = small_csv(tmp)
    other = put(tmp / "other.csv", "k,a,zz\n1,2,3\n")
    args = ("evaluate", "--train", data, "--holdout", data, "--synthetic", other, "--report", tmp / "r.html")
    return Bad(args, (other.name, "'zz'"))


@bad("augment-source-and-version")
def _(tmp):
    return Bad(
        ("augment", "--source", small_csv(tmp), "--from-version", "small@v1", "--rows", "5"), ("--source",)
    )


@bad("augment-two-forms")
def _(tmp):
    return Bad(
        ("augment", "--source", small_csv(tmp), "--rows", "5", "--multiplier", "2"),
        ("--rows", "--multiplier"),
    )


@bad("augment-request-unknown-key")
def _(tmp):
    request = put(tmp / "request.yaml", f"dataset: small\nsource: {{path: {small_csv(tmp)}}}\nrowz: 5\n")
    return Bad(("augment", request), (request.name,), ("rowz", "unknown key"))


@bad("versions-path-as-dataset")
def _(tmp):
    return Bad(("versions", "../small", "--root", tmp), ("'../small'",))


@pytest.mark.parametrize("build", BAD)
def test_bad_input_is_one_clean_error(build, tmp_path, capsys):
    case = build(tmp_path)
    result = cli(capsys, *case.args)
    assert_clean_user_error(result, *case.needles)
    for needle in case.anywhere:
        assert needle in result.err, (needle, result.err)


def test_the_corpus_is_large_enough():
    assert len(BAD) >= 45


# ---- the conditions file names an unknown column (needs a model that takes conditions) -----------------


@pytest.fixture(scope="module")
def copula_model(tmp_path_factory):
    from cli_support import cli_captured

    folder = tmp_path_factory.mktemp("copula")
    result = cli_captured("fit", small_csv(folder), "-g", "copula", "--out", folder / "model")
    assert result.code == 0, result.err
    return folder / "model"


def test_conditions_file_naming_an_unknown_column(copula_model, tmp_path, capsys):
    conditions = put(tmp_path / "conditions.csv", "nosuch\n1\n")
    result = cli(capsys, "sample", copula_model, "--out", tmp_path / "o.csv", "--conditions", conditions)
    assert_clean_user_error(result, conditions.name, "'nosuch'")


# ---- legal but unusual: handled, not refused ----------------------------------------------------------


def assert_failed_check(result: Result, *needles: str) -> None:
    """A value the contract cannot read is a failed check (exit 1) naming it, not bad input or a crash."""
    assert result.code == 1, result
    assert "Traceback" not in result.err and "internal error" not in result.err
    for needle in needles:
        assert needle in result.out, (needle, result.out)


LEGAL: list = []


legal = registrar(LEGAL)


@legal("bom-is-stripped-from-the-first-name")  # Excel writes one; it is not part of the name
def _(capsys, tmp):
    data = put(tmp / "bom.csv", ("\ufeff" + HEADER + rows_text(10)).encode("utf-8"))
    contract = round_trip(capsys, tmp, data)
    assert [c["name"] for c in contract["columns"]] == ["k", "a", "b"]
    assert cli(capsys, "check", data, "--contract", small_contract(tmp)).code == 0


@legal("header-only-against-a-contract")  # an empty batch; the contract sets no row minimum
def _(capsys, tmp):
    data = put(tmp / "header.csv", HEADER)
    assert cli(capsys, "contract", "check", data, "--contract", small_contract(tmp)).code == 0


@legal("all-null-column")
def _(capsys, tmp):
    data = put(tmp / "nulls.csv", "k,a,empty\n" + "".join(f"{i},{i % 3},\n" for i in range(20)))
    contract = round_trip(capsys, tmp, data)
    assert column(contract, "empty")["nullable"] is True
    nullable = small_contract(
        tmp,
        text="version: 1\ncolumns:\n- {name: k, kind: integer}\n- {name: a, kind: integer}\n"
        "- {name: empty, kind: float, nullable: true}\n",
    )
    assert cli(capsys, "check", data, "--contract", nullable).code == 0


@legal("constant-column")
def _(capsys, tmp):
    data = put(tmp / "constant.csv", "k,a,same\n" + "".join(f"{i},{i % 3},7\n" for i in range(20)))
    assert column(round_trip(capsys, tmp, data), "same") == {
        "name": "same",
        "kind": "integer",
        "min": 7,
        "max": 7,
    }


@legal("single-row")
def _(capsys, tmp):
    round_trip(capsys, tmp, put(tmp / "one.csv", HEADER + "0,1,x\n"))


@legal("more-columns-than-rows")
def _(capsys, tmp):
    names = [f"c{j}" for j in range(40)]
    body = "".join(",".join(str(i * j) for j in range(40)) + "\n" for i in range(3))
    contract = round_trip(capsys, tmp, put(tmp / "wide.csv", ",".join(names) + "\n" + body))
    assert len(contract["columns"]) == 40


@legal("ten-thousand-categories")  # the category set is left open rather than listing 10,000 labels
def _(capsys, tmp):
    body = "".join(f"{i},cat{i % 10_000:05d}\n" for i in range(20_000))
    contract = round_trip(capsys, tmp, put(tmp / "many.csv", "k,label\n" + body))
    label = column(contract, "label")
    assert label["kind"] == "categorical" and "values" not in label


@legal("thousands-separators")  # not numbers to a contract that says integer: a failed check naming them
def _(capsys, tmp):
    data = put(tmp / "amounts.csv", 'k,amount\n1,"1,234"\n2,"12,500"\n3,"1,000,000"\n')
    round_trip(capsys, tmp, data)
    contract = small_contract(
        tmp, text="version: 1\ncolumns:\n- {name: k, kind: integer}\n- {name: amount, kind: integer}\n"
    )
    assert_failed_check(cli(capsys, "contract", "check", data, "--contract", contract), "'amount'", "1,234")


@legal("mixed-types-in-one-column-csv")
def _(capsys, tmp):
    round_trip(capsys, tmp, put(tmp / "mixed.csv", "k,v\n1,1\n2,two\n3,3.5\n4,true\n5,2024-01-01\n"))


@legal("mixed-types-in-one-column-jsonl")
def _(capsys, tmp):
    lines = ['{"k": 1, "v": 1}', '{"k": 2, "v": "two"}', '{"k": 3, "v": 3.5}', '{"k": 4, "v": true}']
    round_trip(capsys, tmp, put(tmp / "mixed.jsonl", "\n".join(lines) + "\n"))


@legal("inf-and-nan-strings")  # NaN is a missing value; inf is not a finite float: a failed check
def _(capsys, tmp):
    data = put(tmp / "inf.csv", "k,x\n1,1.5\n2,inf\n3,-inf\n4,NaN\n5,2.5\n")
    round_trip(capsys, tmp, data)
    contract = small_contract(
        tmp,
        text="version: 1\ncolumns:\n- {name: k, kind: integer}\n- {name: x, kind: float, nullable: true}\n",
    )
    assert_failed_check(cli(capsys, "contract", "check", data, "--contract", contract), "'x'", "inf")


@legal("dates-in-several-formats")
def _(capsys, tmp):
    data = put(tmp / "dates.csv", "a,d\n1,2024-01-05\n2,05/01/2024\n3,Jan 5 2024\n4,2024-02-01\n")
    round_trip(capsys, tmp, data)
    contract = small_contract(tmp, text=DATED_CONTRACT)
    assert_failed_check(cli(capsys, "contract", "check", data, "--contract", contract), "'d'", "05/01/2024")


@legal("out-of-range-dates-round-trip")
def _(capsys, tmp):
    round_trip(capsys, tmp, put(tmp / "far.csv", "a,d\n1,2024-01-05\n2,9999-12-31\n3,0001-01-01\n"))


@legal(
    "out-of-range-dates-against-a-datetime-contract",  # beyond pandas' 1677–2262 but real: read as dates
)
def _(capsys, tmp):
    data = put(tmp / "far.csv", "a,d\n1,2024-01-05\n2,9999-12-31\n3,2024-13-45\n")
    contract = small_contract(tmp, text=DATED_CONTRACT)
    result = cli(capsys, "contract", "check", data, "--contract", contract)
    assert_failed_check(result, "'d'", "2024-13-45")  # only the impossible date fails
    assert "9999-12-31" not in result.out


@legal("one-mb-cell-in-the-first-row")
def _(capsys, tmp):
    data = put(tmp / "long1.csv", "k,text\n1," + "x" * 1_000_000 + "\n2,short\n")
    assert column(round_trip(capsys, tmp, data), "text")["kind"] == "text"


@legal("one-mb-cell-in-a-later-row")
def _(capsys, tmp):
    data = put(tmp / "long2.csv", "k,text\n1,short\n2," + "x" * 1_000_000 + "\n")
    assert column(round_trip(capsys, tmp, data), "text")["kind"] == "text"


@legal("gzipped-csv")
def _(capsys, tmp):
    data = tmp / "data.csv.gz"
    data.write_bytes(gzip.compress((HEADER + rows_text(10)).encode()))
    assert len(round_trip(capsys, tmp, data)["columns"]) == 3


@legal("crlf-line-endings")
def _(capsys, tmp):
    contract = round_trip(capsys, tmp, put(tmp / "crlf.csv", (HEADER + rows_text(10)).replace("\n", "\r\n")))
    assert [c["name"] for c in contract["columns"]] == ["k", "a", "b"]
    assert column(contract, "b")["values"] == ["x", "y"]


@legal("quoted-delimiters-and-newlines")
def _(capsys, tmp):
    round_trip(capsys, tmp, put(tmp / "quoted.csv", 'k,t\n1,"hello, world\nsecond line"\n2,"say ""hi"""\n'))


@legal("unicode-names-and-values")
def _(capsys, tmp):
    contract = round_trip(capsys, tmp, put(tmp / "unicode.csv", "prénom_x,🙂\nJosé,✓\nZoë,✗\n"))
    assert [c["name"] for c in contract["columns"]] == ["prénom_x", "🙂"]


@legal("padded-header-names")
def _(capsys, tmp):
    contract = round_trip(capsys, tmp, put(tmp / "padded.csv", " k , a ,b \n1,2,x\n2,3,y\n"))
    assert [c["name"] for c in contract["columns"]] == ["k", "a", "b"]


@pytest.mark.parametrize("check", LEGAL)
def test_legal_but_unusual_input_is_handled(check, tmp_path, capsys):
    check(capsys, tmp_path)


# ---- `run`: problems found once the flow runs (needs the Prefect test server) ---------------------------


def run_args(tmp: Path, spec: Path, *sets: str) -> tuple:
    root = tmp / "out"
    return ("run", spec, "--set", f"output.root={root}", "--set", "sample.rows=50", *sets)


RUNS: list = []


run_case = registrar(RUNS)


@run_case("run-source-file-missing")
def _(capsys, tmp):
    spec = basic_spec(tmp, data=tmp / "gone.csv")
    assert_clean_run_error(cli(capsys, *run_args(tmp, spec)), "gone.csv", "not found")


@run_case("run-contract-file-missing")
def _(capsys, tmp):
    spec = basic_spec(tmp, extra="contract: nosuch.yaml\n")
    assert_clean_run_error(cli(capsys, *run_args(tmp, spec)), "nosuch.yaml", "not found")


@run_case("run-unknown-generator")
def _(capsys, tmp):
    spec = basic_spec(tmp)
    assert_clean_run_error(cli(capsys, *run_args(tmp, spec, "--set", "generator.name=nope")), "'nope'")


@run_case("run-target-not-a-column")
def _(capsys, tmp):
    spec = basic_spec(tmp, extra="target: nosuch\n")
    assert_clean_run_error(cli(capsys, *run_args(tmp, spec)), spec.name, "'nosuch'")


@run_case("run-output-root-under-a-file")  # root ignores permissions; no one makes a folder under a file
def _(capsys, tmp):
    spec = basic_spec(tmp)
    root = a_file(tmp) / "sub"
    result = cli(capsys, *run_args(tmp, spec, "--set", f"output.root={root}"))
    assert_clean_run_error(result, str(root))


@run_case("run-output-root-without-write-permission")
def _(capsys, tmp):
    locked = tmp / "locked"
    locked.mkdir(mode=0o500)
    spec = basic_spec(tmp)
    with pytest.MonkeyPatch.context() as patch:
        if os.geteuid() == 0:  # root ignores the mode bits: refuse as the kernel would refuse a user
            real_mkdir = Path.mkdir

            def mkdir(self, *args, **kwargs):
                if locked in self.parents:
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
                return real_mkdir(self, *args, **kwargs)

            patch.setattr(Path, "mkdir", mkdir)
        result = cli(capsys, *run_args(tmp, spec, "--set", f"output.root={locked / 'out'}"))
    assert_clean_run_error(result, str(locked))


@run_case("run-single-row")  # nothing to split into train and holdout
def _(capsys, tmp):
    data = put(tmp / "one.csv", HEADER + "0,1,x\n")
    assert_clean_run_error(cli(capsys, *run_args(tmp, basic_spec(tmp, data=data))), data.name, "1 rows")


@run_case("run-header-only")
def _(capsys, tmp):
    data = put(tmp / "header.csv", HEADER)
    assert_clean_run_error(cli(capsys, *run_args(tmp, basic_spec(tmp, data=data))), data.name)


def assert_handled_run(result: Result) -> None:
    """Published (0) or rejected by a gate (1): never bad input (2) or a crash (3)."""
    assert result.code in (0, 1), result
    assert "Traceback" not in result.err + result.out and "internal error" not in result.err


@run_case("run-constant-column-is-legal")
def _(capsys, tmp):
    data = put(
        tmp / "constant.csv", "k,a,b,same\n" + "".join(f"{i},{i % 7},{'xy'[i % 2]},7\n" for i in range(80))
    )
    assert_handled_run(cli(capsys, *run_args(tmp, basic_spec(tmp, data=data))))


@run_case("run-all-null-column-is-legal")
def _(capsys, tmp):
    data = put(
        tmp / "nulls.csv", "k,a,b,empty\n" + "".join(f"{i},{i % 7},{'xy'[i % 2]},\n" for i in range(80))
    )
    assert_handled_run(cli(capsys, *run_args(tmp, basic_spec(tmp, data=data))))


@run_case("run-one-row-per-category-is-legal")
def _(capsys, tmp):
    codes = [f"c{i:02d}" for i in range(80)]
    data = put(tmp / "codes.csv", "k,a,code\n" + "".join(f"{i},{i % 7},{c}\n" for i, c in enumerate(codes)))
    contract = put(
        tmp / "codes.yaml",
        "version: 1\ndataset: small\nprimary_key: k\ncolumns:\n"
        "- {name: k, kind: identifier, id_type: integer, unique: true}\n"
        "- {name: a, kind: integer, min: 0, max: 6}\n"
        f"- {{name: code, kind: categorical, values: [{', '.join(codes)}]}}\n",
    )
    spec = basic_spec(tmp, data=data, extra=f"contract: {contract}\n")
    assert_handled_run(cli(capsys, *run_args(tmp, spec)))


@pytest.mark.parametrize("check", RUNS)
def test_run_handles_bad_and_unusual_sources(check, prefect_api_url, tmp_path, capsys):
    check(capsys, tmp_path)
