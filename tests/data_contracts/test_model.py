"""The contract model: every rule Column, Rule and Contract enforce, and the helpers they offer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from support import mixed_contract

from synthwright.data_contracts.model import Column, ColumnKind, Contract, PiiKind, RowBounds, Rule


def _contract(columns: list[dict[str, Any]], **extra: Any) -> Contract:
    return Contract.model_validate({"columns": columns, **extra})


ORDERED = [
    {"name": "a", "kind": "integer"},
    {"name": "b", "kind": "float"},
    {"name": "start", "kind": "datetime"},
    {"name": "end", "kind": "datetime"},
    {"name": "label", "kind": "categorical", "values": ["x", "y"]},
]


# --- Column: a valid column of every kind -------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "integer", "min": 0, "max": 10},
        {"kind": "integer", "min": 2.0, "max": 3.0},  # whole floats are fine
        {"kind": "float", "min": -1.5, "max": 1.5},
        {"kind": "float", "min": 1.5, "max": 1.5},  # a single-value range is not min > max
        {"kind": "datetime", "min": "2024-01-01", "max": "2024-12-31", "format": "%Y-%m-%d"},
        {"kind": "categorical", "values": ["a", "b"], "nullable": True},
        {"kind": "boolean"},
        {"kind": "text", "pii": "email"},
        {"kind": "identifier", "id_type": "string", "unique": True},
    ],
)
def test_column_accepts_fields_that_fit_its_kind(fields: dict[str, Any]) -> None:
    column = Column.model_validate({"name": "c", **fields})
    assert column.kind == ColumnKind(fields["kind"])


def test_column_reads_dates_as_datetimes() -> None:
    column = Column(name="d", kind=ColumnKind.DATETIME, min=dt.date(2024, 1, 1), max="2024-06-30")
    assert column.min == dt.datetime(2024, 1, 1)
    assert column.max == dt.datetime(2024, 6, 30)
    assert isinstance(column.min, dt.datetime) and isinstance(column.max, dt.datetime)


def test_column_is_frozen_and_forbids_unknown_keys() -> None:
    column = Column(name="c", kind=ColumnKind.TEXT)
    with pytest.raises(ValidationError, match="frozen"):
        column.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Column.model_validate({"name": "c", "kind": "text", "nullabel": True})


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "integer", "min": 5, "max": 1}, r"min \(5\) is greater than max \(1\)"),
        ({"kind": "float", "min": 2.5, "max": -2.5}, r"min \(2.5\) is greater than max \(-2.5\)"),
        (
            {"kind": "datetime", "min": "2024-02-01", "max": "2024-01-01"},
            r"min \(2024-02-01 00:00:00\) is greater than max \(2024-01-01 00:00:00\)",
        ),
        (
            {"kind": "categorical", "min": 1},
            "min/max apply to integer, float and datetime columns, not categorical",
        ),
        ({"kind": "text", "max": 3}, "min/max apply to integer, float and datetime columns, not text"),
        ({"kind": "boolean", "min": 0}, "min/max apply to .* not boolean"),
        ({"kind": "identifier", "max": 9}, "min/max apply to .* not identifier"),
        ({"kind": "datetime", "min": 5}, "a datetime column's min/max must be dates, got 5"),
        ({"kind": "integer", "max": "2024-01-01"}, "integer column's min/max must be numbers"),
        ({"kind": "float", "min": dt.date(2024, 1, 1)}, "float column's min/max must be numbers"),
        ({"kind": "integer", "min": 1.5}, "an integer column's min/max must be whole numbers, got 1.5"),
        ({"kind": "integer", "max": 10.25}, "whole numbers, got 10.25"),
        ({"kind": "integer", "min": True}, "a bound must be a number or a date, not true/false"),
        ({"kind": "integer", "values": ["1", "2"]}, "`values` applies to categorical columns, not integer"),
        ({"kind": "text", "values": ["a"]}, "`values` applies to categorical columns, not text"),
        (
            {"kind": "categorical", "values": ["a", "b", "a", "b", "c"]},
            r"categories listed twice: \['a', 'b'\]",
        ),
        ({"kind": "categorical", "values": []}, "an empty category list allows nothing"),
        ({"kind": "categorical", "pii": "email"}, "`pii` applies to text columns .* not categorical"),
        ({"kind": "identifier", "pii": "ssn"}, "`pii` applies to text columns .* not identifier"),
        ({"kind": "text", "format": "%Y"}, "`format` applies to datetime columns, not text"),
        ({"kind": "integer", "format": "%d"}, "`format` applies to datetime columns, not integer"),
        ({"kind": "integer", "id_type": "integer"}, "`id_type` applies to identifier columns, not integer"),
        ({"kind": "text", "id_type": "string"}, "`id_type` applies to identifier columns, not text"),
        ({"kind": "identifier", "id_type": "uuid"}, "Input should be 'integer' or 'string'"),
        ({"kind": "text", "pii": "passport"}, "Input should be 'email', 'phone'"),
        ({"kind": "number"}, "Input should be 'integer', 'float'"),
        ({"kind": "text", "name": ""}, "at least 1 character"),
    ],
)
def test_column_rejects_fields_that_do_not_fit(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Column.model_validate({"name": "c", **fields})


def test_integer_bounds_beyond_float_precision_are_whole() -> None:
    """2**53 + 1 is a whole number; it must not be judged by its (rounded) float."""
    big = 2**53 + 1
    column = Column(name="n", kind=ColumnKind.INTEGER, min=big, max=big + 2)
    assert column.min == big and column.max == big + 2


def test_infinite_integer_bound_is_a_validation_error() -> None:
    """`max: .inf` in YAML must come back as a readable validation error, not an OverflowError."""
    with pytest.raises(ValidationError, match="finite numbers"):
        Column(name="n", kind=ColumnKind.INTEGER, max=float("inf"))


# --- Column helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fmt", "expected"),
    [
        ("datetime", "%Y-%m-%d", True),
        ("datetime", "%d/%m/%Y", True),
        ("datetime", "%Y-%m", True),
        ("datetime", "%Y-%m-%d %H:%M:%S", False),
        ("datetime", "%Y-%m-%dT%H:%M", False),
        ("datetime", "%d/%m/%Y %I %p", False),
        ("datetime", "%Y-%m-%d %X", False),
        ("datetime", "%Y-%m-%d %H:%M:%S.%f", False),
        ("datetime", None, False),  # no format: the time of day may matter
    ],
)
def test_is_date_only(kind: str, fmt: str | None, expected: bool) -> None:
    assert Column(name="d", kind=ColumnKind(kind), format=fmt).is_date_only is expected


@pytest.mark.parametrize("kind", ["integer", "float", "categorical", "boolean", "text", "identifier"])
def test_only_datetime_columns_are_date_only(kind: str) -> None:
    assert Column(name="c", kind=ColumnKind(kind)).is_date_only is False


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "integer"}, True),
        ({"kind": "identifier", "id_type": "integer"}, True),
        ({"kind": "identifier", "id_type": "string"}, False),
        ({"kind": "identifier"}, False),
        ({"kind": "float"}, False),
    ],
)
def test_integer_valued(fields: dict[str, Any], expected: bool) -> None:
    assert Column.model_validate({"name": "c", **fields}).integer_valued is expected


# --- Rule ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "left", "op", "right"),
    [
        ("start <= end", "start", "<=", "end"),
        ("start < end", "start", "<", "end"),
        ("end >= start", "start", "<=", "end"),  # stored with the sides swapped
        ("end > start", "start", "<", "end"),
        ("  a   <=   b  ", "a", "<=", "b"),
        ("first day <= last day", "first day", "<=", "last day"),  # names may hold spaces
    ],
)
def test_rule_parses_strings(text: str, left: str, op: str, right: str) -> None:
    rule = Rule.model_validate(text)
    assert (rule.left, rule.op, rule.right) == (left, op, right)
    assert str(rule) == f"{left} {op} {right}"


def test_rule_from_a_mapping_is_swapped_too() -> None:
    rule = Rule.model_validate({"left": "end", "op": ">=", "right": "start"})
    assert str(rule) == "start <= end"


def test_rule_serialises_as_its_text() -> None:
    rule = Rule.model_validate("b >= a")
    assert rule.model_dump() == "a <= b"
    assert Rule.model_validate(rule.model_dump()) == rule


@pytest.mark.parametrize("text", ["a<=b", "a <=b", "a == b", "a = b", "a != b", "a", "", "<= b", "a <= "])
def test_rule_rejects_unreadable_strings(text: str) -> None:
    with pytest.raises(ValidationError, match="cannot read rule .*write it as 'column_a <= column_b'"):
        Rule.model_validate(text)


def test_rule_rejects_an_unknown_operator_in_a_mapping() -> None:
    with pytest.raises(ValidationError, match="Input should be '<=' or '<'"):
        Rule.model_validate({"left": "a", "op": "==", "right": "b"})


# --- RowBounds -----------------------------------------------------------------------------------------


def test_row_bounds() -> None:
    assert RowBounds(min=10, max=10).min == 10
    with pytest.raises(ValidationError, match=r"rows.min \(5\) is greater than rows.max \(2\)"):
        RowBounds(min=5, max=2)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        RowBounds(min=-1)


# --- Contract ------------------------------------------------------------------------------------------


def test_mixed_contract_is_valid() -> None:
    contract = mixed_contract()
    assert contract.version == 1
    assert contract.names[0] == "customer_id" and len(contract.names) == 8
    assert contract.column("email").pii is PiiKind.EMAIL
    assert [str(r) for r in contract.rules] == ["start_date <= end_date"]
    with pytest.raises(KeyError, match="nope"):
        contract.column("nope")


def test_contract_needs_a_column() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        Contract(columns=[])


def test_contract_version_must_be_1() -> None:
    with pytest.raises(ValidationError, match="Input should be 1"):
        _contract([{"name": "a", "kind": "text"}], version=2)


def test_contract_rejects_duplicate_column_names() -> None:
    columns = [{"name": "a", "kind": "text"}, {"name": "b", "kind": "text"}, {"name": "a", "kind": "integer"}]
    with pytest.raises(ValidationError, match=r"columns declared more than once: \['a'\]"):
        _contract(columns)


def test_primary_key_must_be_a_column() -> None:
    with pytest.raises(ValidationError, match="primary_key 'id' is not one of the columns"):
        _contract([{"name": "a", "kind": "text"}], primary_key="id")


def test_primary_key_cannot_be_nullable() -> None:
    columns = [{"name": "id", "kind": "identifier", "nullable": True}]
    with pytest.raises(ValidationError, match="primary key column 'id' cannot be nullable"):
        _contract(columns, primary_key="id")


def test_contract_accepts_rules_over_ordered_columns_of_one_family() -> None:
    contract = _contract(
        [*ORDERED, {"name": "c", "kind": "integer"}], rules=["a <= b", "end >= start", "b < c"]
    )
    assert [str(r) for r in contract.rules] == ["a <= b", "start <= end", "b < c"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("a <= missing", "rule 'a <= missing' names 'missing', which is not a column"),
        ("ghost < a", "rule 'ghost < a' names 'ghost', which is not a column"),
        ("a <= label", "rule 'a <= label' needs integer, float or datetime columns"),
        ("label <= start", "needs integer, float or datetime columns"),
        ("a <= start", "rule 'a <= start' compares a datetime with a number"),
        ("end >= b", r"rule 'b <= end' compares a datetime with a number"),
        ("a <= a", "rule 'a <= a' compares a column with itself"),
        ("start < start", "compares a column with itself"),
    ],
)
def test_contract_rejects_bad_rules(rule: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _contract(ORDERED, rules=[rule])


def test_contract_rejects_an_unreadable_rule_string() -> None:
    with pytest.raises(ValidationError, match="cannot read rule 'a=>b'"):
        _contract(ORDERED, rules=["a=>b"])


def test_is_unique() -> None:
    contract = _contract(
        [
            {"name": "id", "kind": "identifier"},
            {"name": "code", "kind": "identifier", "unique": True},
            {"name": "x", "kind": "integer"},
        ],
        primary_key="id",
    )
    assert contract.is_unique(contract.column("id"))  # the key, though not declared unique
    assert contract.is_unique(contract.column("code"))  # declared unique
    assert not contract.is_unique(contract.column("x"))
    keyless = _contract([{"name": "id", "kind": "identifier"}])
    assert not keyless.is_unique(keyless.column("id"))


def test_contract_equality_follows_content() -> None:
    assert mixed_contract() == mixed_contract()
    other = mixed_contract().model_dump()
    other["columns"][1]["max"] = 80
    assert Contract.model_validate(other) != mixed_contract()
    assert Contract.model_validate(mixed_contract().model_dump()) == mixed_contract()


def test_pii_action_is_fake_by_default_drop_on_request_and_only_for_pii_columns() -> None:
    assert Column(name="e", kind=ColumnKind.TEXT, pii=PiiKind.EMAIL).pii_action == "fake"
    assert Column(name="e", kind=ColumnKind.TEXT, pii=PiiKind.EMAIL, pii_action="drop").pii_action == "drop"
    with pytest.raises(ValidationError, match="set `pii` too"):
        Column(name="e", kind=ColumnKind.TEXT, pii_action="drop")
    with pytest.raises(ValidationError):
        Column(name="e", kind=ColumnKind.TEXT, pii=PiiKind.EMAIL, pii_action="hash")
