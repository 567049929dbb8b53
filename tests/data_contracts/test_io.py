"""Contract YAML: dump/load round trips, the layout people edit, readable load errors, fingerprints."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml
from support import REPO, mixed_contract

from synthwright.data_contracts.io import (
    contract_fingerprint,
    contract_from_dict,
    contract_to_dict,
    dump_contract,
    load_contract,
    save_contract,
)
from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError, UserInputError

EXAMPLES = sorted((REPO / "data_contracts" / "examples").glob("*.yaml"))


def _write(tmp_path: Path, text: str, name: str = "contract.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _dated_contract(fmt: str | None) -> Contract:
    return Contract(
        columns=[
            Column(
                name="when",
                kind=ColumnKind.DATETIME,
                format=fmt,
                min=dt.datetime(2020, 1, 2),
                max=dt.datetime(2021, 11, 30),
            ),
            Column(name="other", kind=ColumnKind.DATETIME, nullable=True),
        ],
        rules=["when <= other"],
    )


# --- round trips ---------------------------------------------------------------------------------------


def test_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {"adult.yaml", "student_placements.yaml"}


def test_mixed_contract_round_trips(tmp_path: Path) -> None:
    contract = mixed_contract()
    path = tmp_path / "mixed.yaml"
    save_contract(contract, path)
    loaded = load_contract(path)
    assert loaded == contract
    assert dump_contract(loaded) == dump_contract(contract)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_contracts_round_trip(example: Path, tmp_path: Path) -> None:
    contract = load_contract(example)
    again = load_contract(_write(tmp_path, dump_contract(contract)))
    assert again == contract
    assert contract_fingerprint(again) == contract_fingerprint(contract)


def test_placements_example_is_what_the_demo_needs() -> None:
    contract = load_contract(REPO / "data_contracts" / "examples" / "student_placements.yaml")
    assert contract.primary_key == "student_id"
    assert contract.column("start_date").min == dt.datetime(2020, 1, 1)
    assert contract.column("start_date").is_date_only
    assert [str(r) for r in contract.rules] == ["start_date <= end_date"]


def test_dump_is_readable_yaml_with_a_header() -> None:
    text = dump_contract(mixed_contract())
    assert text.startswith("# synthwright data contract")
    data = yaml.safe_load(text)
    assert data == json.loads(json.dumps(contract_to_dict(mixed_contract()), default=str))
    assert list(data) == ["version", "dataset", "primary_key", "columns", "rules"]
    assert data["rules"] == ["start_date <= end_date"]


def test_dump_leaves_defaults_out() -> None:
    data = contract_to_dict(mixed_contract())
    age = next(c for c in data["columns"] if c["name"] == "age")
    assert age == {"name": "age", "kind": "integer", "min": 18, "max": 79}
    assert "rows" not in data and "description" not in data


def test_values_are_written_in_flow_style_on_one_line() -> None:
    text = dump_contract(mixed_contract())
    assert "  values: [blue, green, red]\n" in text
    assert "- blue" not in text


def test_long_value_lists_stay_flow_style() -> None:
    values = [f"category_{i:02d}" for i in range(30)]
    contract = Contract(columns=[Column(name="c", kind=ColumnKind.CATEGORICAL, values=values)])
    text = dump_contract(contract)
    assert "values: [category_00, category_01" in text
    assert not re.search(r"^\s*- category_", text, flags=re.MULTILINE)
    assert yaml.safe_load(text)["columns"][0]["values"] == values


@pytest.mark.parametrize(
    ("fmt", "low", "high"),
    [
        ("%Y-%m-%d", "2020-01-02", "2021-11-30"),
        ("%d/%m/%Y", "02/01/2020", "30/11/2021"),
        ("%m/%d/%Y", "01/02/2020", "11/30/2021"),
        ("%Y/%m/%d", "2020/01/02", "2021/11/30"),
    ],
)
def test_datetime_bounds_are_written_with_the_column_format(fmt: str, low: str, high: str) -> None:
    data = yaml.safe_load(dump_contract(_dated_contract(fmt)))
    when = data["columns"][0]
    assert (when["min"], when["max"]) == (low, high)
    assert when["format"] == fmt


def test_datetime_bounds_without_a_format_are_iso() -> None:
    contract = Contract(
        columns=[
            Column(
                name="t",
                kind=ColumnKind.DATETIME,
                min=dt.datetime(2020, 1, 2),
                max=dt.datetime(2020, 1, 3, 4, 5, 6),
            )
        ]
    )
    text = dump_contract(contract)
    assert "min: '2020-01-02'" in text
    assert "max: '2020-01-03 04:05:06'" in text


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d.%m.%Y", None])
def test_dated_contracts_round_trip(fmt: str | None, tmp_path: Path) -> None:
    """Bounds written in the column's format must read back: these are the formats infer produces."""
    contract = _dated_contract(fmt)
    path = tmp_path / "dated.yaml"
    save_contract(contract, path)
    assert load_contract(path) == contract


# --- load errors ---------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match=r"contract file not found: .*nowhere\.yaml") as info:
        load_contract(path)
    assert info.value.hint and "check the path" in info.value.hint
    assert isinstance(info.value, UserInputError) and info.value.exit_code == 2


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\ncolumns:\n  - name: a\n    kind: [text\n  - name: b\n")
    with pytest.raises(ConfigError, match=r"contract\.yaml \(line \d+, column \d+\): not valid YAML") as info:
        load_contract(path)
    line = int(re.search(r"line (\d+)", str(info.value)).group(1))
    assert 4 <= line <= 5


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "- name: a\n  kind: text\n")
    with pytest.raises(ConfigError, match=r"contract\.yaml: a contract must be a YAML mapping .* got list"):
        load_contract(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a YAML mapping .* got an empty file"):
        load_contract(_write(tmp_path, ""))


def test_typo_key_names_the_file_and_field_path(tmp_path: Path) -> None:
    text = dump_contract(mixed_contract()).replace("  nullable: true", "  nulable: true")
    path = _write(tmp_path, text, "typo.yaml")
    with pytest.raises(ConfigError, match=r"typo\.yaml: 1 problem\(s\)") as info:
        load_contract(path)
    assert "columns[3].nulable: unknown key (misspelt, or not supported here)" in str(info.value)
    assert str(path) in str(info.value)


def test_top_level_typo(tmp_path: Path) -> None:
    path = _write(tmp_path, "version: 1\nprimary_kye: a\ncolumns:\n  - {name: a, kind: text}\n")
    with pytest.raises(ConfigError, match=r"primary_kye: unknown key"):
        load_contract(path)


def test_wrong_type_names_the_field_and_the_value(tmp_path: Path) -> None:
    text = "columns:\n  - name: a\n    kind: text\n  - name: b\n    kind: boolean\n    nullable: maybe\n"
    with pytest.raises(
        ConfigError, match=r"columns\[1\]\.nullable: Input should be a valid boolean.*'maybe'"
    ):
        load_contract(_write(tmp_path, text))


def test_wrong_kind_names_the_field(tmp_path: Path) -> None:
    text = "columns:\n  - {name: a, kind: txt}\n"
    with pytest.raises(ConfigError, match=r"columns\[0\]\.kind: Input should be 'integer'.*\(got 'txt'\)"):
        load_contract(_write(tmp_path, text))


def test_model_rule_errors_name_the_column(tmp_path: Path) -> None:
    text = "columns:\n  - {name: a, kind: integer, min: 5, max: 1}\n"
    with pytest.raises(ConfigError, match=r"columns\[0\]: Value error, min \(5\) is greater than max \(1\)"):
        load_contract(_write(tmp_path, text))


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = "columns:\n  - {name: a, kind: txt}\n  - {name: b, kind: text, colour: red}\nrules: 3\n"
    with pytest.raises(ConfigError, match=r"3 problem\(s\)") as info:
        load_contract(_write(tmp_path, text))
    message = str(info.value)
    for where in ("columns[0].kind", "columns[1].colour", "rules"):
        assert f"  - {where}: " in message


def test_bad_rule_names_its_position(tmp_path: Path) -> None:
    text = "columns:\n  - {name: a, kind: integer}\n  - {name: b, kind: integer}\nrules: ['a <= b', 'a=>b']\n"
    with pytest.raises(ConfigError, match=r"rules\[1\]: Value error, cannot read rule 'a=>b'"):
        load_contract(_write(tmp_path, text))


def test_infinite_integer_bound_is_a_config_error(tmp_path: Path) -> None:
    text = "columns:\n  - {name: a, kind: integer, max: .inf}\n"
    with pytest.raises(ConfigError, match=r"columns\[0\].*finite numbers"):
        load_contract(_write(tmp_path, text))


def test_contract_from_dict_uses_the_source_name() -> None:
    with pytest.raises(ConfigError, match=r"^inline: 1 problem\(s\):\n  - columns: Field required"):
        contract_from_dict({"version": 1}, source="inline")
    assert contract_from_dict(contract_to_dict(mixed_contract())) == mixed_contract()


# --- fingerprint ---------------------------------------------------------------------------------------


def test_fingerprint_is_stable_for_equal_contracts() -> None:
    first, second = mixed_contract(), mixed_contract()
    assert first is not second
    assert contract_fingerprint(first) == contract_fingerprint(second)
    assert re.fullmatch(r"[0-9a-f]{64}", contract_fingerprint(first))


def _changed(**fields: object) -> Contract:
    data = mixed_contract().model_dump()
    age = next(c for c in data["columns"] if c["name"] == "age")
    age.update(fields)
    return Contract.model_validate(data)


@pytest.mark.parametrize(
    "fields", [{"max": 80}, {"min": 17}, {"nullable": True}, {"kind": "float"}, {"description": "years"}]
)
def test_fingerprint_changes_when_a_column_changes(fields: dict[str, object]) -> None:
    assert contract_fingerprint(_changed(**fields)) != contract_fingerprint(mixed_contract())


def test_fingerprint_changes_with_column_order_and_rules() -> None:
    data = mixed_contract().model_dump()
    base = contract_fingerprint(mixed_contract())
    reordered = {**data, "columns": list(reversed(data["columns"]))}
    assert contract_fingerprint(Contract.model_validate(reordered)) != base
    no_rules = {**data, "rules": []}
    assert contract_fingerprint(Contract.model_validate(no_rules)) != base
