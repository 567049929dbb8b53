"""Issue 23, class 9: wide and large inputs.

Every input is built in code under tmp_path and run through the CLI in-process. The promises:
- a 1,000-column table is checked against its contract in seconds (GX runs on column chunks:
  `synthwright.validators.contract._run_suite`); this file only checks that it completes and passes;
- a spec or contract file over `MAX_CONFIG_BYTES` (10 MiB) is refused unread: exit 2, naming the file,
  its size and the limit, with a `fix:` line;
- no line of output echoes more than a short excerpt of a user value: a 1 MB cell, a 10 kB column name or
  key, a 1 MB YAML string all come back cut (`synthwright.text.excerpt`), each line under MAX_LINE.

Each case is a `pytest.param` in `CASES` (counted elsewhere). A case whose promise is kept elsewhere than
in this issue's files is marked xfail(strict=True) with what the product does now.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from cli_support import Result, assert_clean_user_error, cli
from hostile_support import put, registrar

from synthwright.config_io import MAX_CONFIG_BYTES
from synthwright.data_contracts.io import load_contract
from synthwright.validators.contract import validate_contract

MAX_LINE = 400
"""The longest line any case may print."""

BIG_CELL = "v" * 1_000_000
LONG_NAME = "n" * 10_000


# ---- helpers ----------------------------------------------------------------------------------------


def oversized(path: Path) -> Path:
    """A file one byte over the cap, made sparse: its size is real, writing it costs nothing."""
    with path.open("wb") as handle:
        handle.truncate(MAX_CONFIG_BYTES + 1)
    return path


def small_table(tmp: Path) -> Path:
    return put(tmp / "data.csv", "k,b\n" + "".join(f"{i},{'xy'[i % 2]}\n" for i in range(30)))


SMALL_CONTRACT = (
    "version: 1\ncolumns:\n- {name: k, kind: integer}\n- {name: b, kind: categorical, values: [x, y]}\n"
)


def wide_table(tmp: Path, columns: int = 1000, rows: int = 50) -> tuple[Path, Path]:
    """A seeded-by-construction mixed table and its contract: integers, floats and two-label columns."""
    names = [f"c{i:04d}" for i in range(columns)]

    def cell(column: int, row: int) -> str:
        kind = column % 3
        if kind == 0:
            return str((row * 7 + column) % 100)
        if kind == 1:
            return f"{((row * 13 + column) % 97) / 10:.1f}"
        return "xy"[(row + column) % 2]

    lines = [",".join(names)] + [",".join(cell(c, r) for c in range(columns)) for r in range(rows)]
    data = put(tmp / "wide.csv", "\n".join(lines) + "\n")
    specs = []
    for i, name in enumerate(names):
        kind = i % 3
        if kind == 0:
            specs.append(f"- {{name: {name}, kind: integer, min: 0, max: 99}}")
        elif kind == 1:
            specs.append(f"- {{name: {name}, kind: float, min: 0, max: 9.6}}")
        else:
            specs.append(f"- {{name: {name}, kind: categorical, values: [x, y]}}")
    contract = put(tmp / "wide.yaml", "version: 1\ndataset: wide\ncolumns:\n" + "\n".join(specs) + "\n")
    return data, contract


def assert_short_lines(result: Result, limit: int = MAX_LINE) -> None:
    """No line of stdout or stderr longer than `limit` (a value echoed whole would be thousands)."""
    longest = max((len(line) for line in (result.out + result.err).splitlines()), default=0)
    assert longest < limit, (longest, (result.out + result.err)[:2000])


CASES: list = []


case = registrar(CASES)


# ---- wide tables ------------------------------------------------------------------------------------


@case("wide-1000-columns-check-completes")
def _(capsys, tmp):
    data, contract = wide_table(tmp)
    result = cli(capsys, "contract", "check", data, "--contract", contract)
    assert result.code == 0, result
    assert "pass all" in result.out  # 1,000 parse checks, 1,000 not-null, 666 ranges, 333 category sets
    assert_short_lines(result)


@case("wide-columns-reordered-in-the-file-pass")
def _(capsys, tmp):
    data, contract = wide_table(tmp, columns=300, rows=20)
    header, *rows = data.read_text().splitlines()
    names = header.split(",")
    swapped = [names[1], names[0], *names[2:]]  # the file's first two columns swapped
    cells = [row.split(",") for row in rows]
    put(data, "\n".join([",".join(swapped)] + [",".join([r[1], r[0], *r[2:]]) for r in cells]) + "\n")
    result = cli(capsys, "check", data, "--contract", contract, "--format", "json")
    assert result.code == 0, result  # ingest reads columns by name, in the contract's order
    assert_short_lines(result)


# ---- size caps --------------------------------------------------------------------------------------


@case("contract-over-size-cap")
def _(capsys, tmp):
    contract = oversized(tmp / "huge.yaml")
    result = cli(capsys, "contract", "check", small_table(tmp), "--contract", contract)
    assert_clean_user_error(result, "huge.yaml", "10.0 MiB", "limit")
    assert f"{MAX_CONFIG_BYTES + 1:,} bytes" in result.err


@case("spec-over-size-cap")
def _(capsys, tmp):
    spec = oversized(tmp / "huge-spec.yaml")
    result = cli(capsys, "run", spec)
    assert_clean_user_error(result, "huge-spec.yaml", "MiB", "limit")


@case("contract-1000-columns-is-far-below-cap")
def _(capsys, tmp):
    data, contract = wide_table(tmp)
    inferred = tmp / "inferred.yaml"
    assert cli(capsys, "contract", "infer", data, "--out", inferred).code == 0
    assert inferred.stat().st_size * 50 < MAX_CONFIG_BYTES
    assert contract.stat().st_size * 50 < MAX_CONFIG_BYTES


# ---- values echoed in errors ------------------------------------------------------------------------


@case("data-cell-of-1mb-outside-categories")
def _(capsys, tmp):
    data = put(tmp / "cell.csv", "k,b\n" + "".join(f"{i},{'x' if i else BIG_CELL}\n" for i in range(20)))
    contract = put(tmp / "cell.yaml", SMALL_CONTRACT)
    result = cli(capsys, "contract", "check", data, "--contract", contract)
    assert result.code == 1, result
    assert "column 'b'" in result.out and "1,000,000 chars" in result.out
    assert_short_lines(result)


@case("data-cell-of-1mb-check-markdown-and-junit")
def _(capsys, tmp):
    data = put(tmp / "cell.csv", "k,b\n" + "".join(f"{i},{'x' if i else BIG_CELL}\n" for i in range(20)))
    contract = put(tmp / "cell.yaml", SMALL_CONTRACT)
    for fmt in ("text", "markdown", "junit"):
        result = cli(capsys, "check", data, "--contract", contract, "--format", fmt)
        assert result.code == 1, (fmt, result)
        assert_short_lines(result)


@case("contract-yaml-string-of-1mb-as-kind")
def _(capsys, tmp):
    contract = put(tmp / "kind.yaml", f"version: 1\ncolumns:\n- name: k\n  kind: '{BIG_CELL}'\n")
    result = cli(capsys, "contract", "check", small_table(tmp), "--contract", contract)
    assert_clean_user_error(result, "kind.yaml")
    assert "columns[0].kind" in result.err and "1,000,000 chars" in result.err
    assert_short_lines(result)


@case("contract-column-name-of-10kb-listed-twice")
def _(capsys, tmp):
    column = f"- {{name: {LONG_NAME}, kind: integer}}\n"
    contract = put(tmp / "twice.yaml", "version: 1\ncolumns:\n" + column + column)
    result = cli(capsys, "contract", "check", small_table(tmp), "--contract", contract)
    assert_clean_user_error(result, "twice.yaml")
    assert_short_lines(result)


@case("contract-unknown-key-of-10kb")
def _(capsys, tmp):
    contract = put(tmp / "key.yaml", SMALL_CONTRACT + f"? {LONG_NAME}\n: 1\n")  # plain keys stop at 1,024
    result = cli(capsys, "contract", "check", small_table(tmp), "--contract", contract)
    assert_clean_user_error(result, "key.yaml")
    assert "unknown key" in result.err
    assert_short_lines(result)


@case("contract-1000-problems-are-counted-not-listed")
def _(capsys, tmp):
    columns = "".join(f"- {{name: c{i}, kind: nope}}\n" for i in range(1000))
    contract = put(tmp / "many.yaml", "version: 1\ncolumns:\n" + columns)
    result = cli(capsys, "contract", "check", small_table(tmp), "--contract", contract)
    assert_clean_user_error(result, "many.yaml", "1000 problem(s)")
    assert "… and 980 more" in result.err
    assert len(result.err.splitlines()) < 30


@case("contract-python-tag-of-10kb")
def _(capsys, tmp):
    contract = put(tmp / "tag.yaml", f"version: !!python/object:{LONG_NAME} {{}}\ncolumns: []\n")
    result = cli(capsys, "contract", "check", small_table(tmp), "--contract", contract)
    assert_clean_user_error(result, "tag.yaml")
    assert_short_lines(result)


@case("spec-yaml-string-of-1mb-as-seed")
def _(capsys, tmp):
    body = f"dataset: small\nsource: {{path: {small_table(tmp)}}}\nseed: '{BIG_CELL}'\n"
    spec = put(tmp / "seed.yaml", body)
    result = cli(capsys, "run", spec)
    assert_clean_user_error(result, "seed.yaml")
    assert "seed" in result.err and "1,000,000 chars" in result.err
    assert_short_lines(result)


@case("check-format-option-of-10kb")
def _(capsys, tmp):
    data, contract = small_table(tmp), put(tmp / "c.yaml", SMALL_CONTRACT)
    result = cli(capsys, "check", data, "--contract", contract, "--format", LONG_NAME)
    assert_clean_user_error(result, "--format")
    assert_short_lines(result)


@case("check-version-reference-of-10kb")
def _(capsys, tmp):
    result = cli(capsys, "check", "--version", f"{LONG_NAME}@v1", "--root", tmp / "out")
    assert_clean_user_error(result, "--version", "invalid dataset name")
    assert_short_lines(result)


@case(
    "data-column-name-of-10kb-not-in-contract",
    xfail="pipelines/ingest.py lists the unexpected column names whole in 'does not match its contract'",
)
def _(capsys, tmp):
    data = put(tmp / "name.csv", f"k,{LONG_NAME}\n" + "".join(f"{i},{i % 3}\n" for i in range(20)))
    contract = put(tmp / "name.yaml", SMALL_CONTRACT)
    result = cli(capsys, "contract", "check", data, "--contract", contract)
    assert_clean_user_error(result, "name.csv")
    assert_short_lines(result)


def test_a_wide_frame_out_of_order_fails_with_one_short_message(tmp_path):
    """A frame (synthetic output, not a file) whose 300 columns are out of the contract's order: the
    failure says where they differ, not both lists of 300 names."""
    data, contract_path = wide_table(tmp_path, columns=300, rows=5)
    contract = load_contract(contract_path)
    frame = pd.read_csv(data)
    frame = frame[[frame.columns[1], frame.columns[0], *frame.columns[2:]]]
    report = validate_contract(frame, contract, source="synthetic output")
    (failure,) = report.violations
    assert failure.message == (
        "columns are in another order than the contract's: column 1 is 'c0001', the contract lists "
        "'c0000' there"
    )
    frame["extra"] = 1
    (failure,) = validate_contract(frame, contract, source="synthetic output").violations
    assert "not in the contract: ['extra']" in failure.message and len(failure.message) < MAX_LINE


@pytest.mark.parametrize("check", CASES)
def test_wide_or_large_input(check, tmp_path, capsys):
    check(capsys, tmp_path)


def test_the_case_list_is_long_enough():
    assert len(CASES) >= 8
