"""Parsing raw values into each kind's dtype, conforming generator output, and the Arrow translation."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.arrow import CONTRACT_METADATA_KEY, arrow_schema, arrow_type, to_arrow
from synthwright.data_contracts.conform import conform, empty_frame
from synthwright.data_contracts.dtypes import pandas_dtype, parse_column
from synthwright.data_contracts.io import contract_from_dict
from synthwright.data_contracts.model import Column, ColumnKind, Contract


def parse(values: object, **fields: object) -> tuple[list[object], list[bool], str]:
    column = Column.model_validate({"name": "x", **fields})
    parsed = parse_column(pd.Series(values, name="x"), column)
    assert parsed.values.name == "x" and parsed.bad.name == "x"
    assert parsed.bad.dtype == bool
    assert len(parsed.values) == len(parsed.bad)
    values_out = [None if pd.isna(v) else v for v in parsed.values.tolist()]
    return values_out, parsed.bad.tolist(), str(parsed.values.dtype)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --- pandas_dtype --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "dtype"),
    [
        ({"kind": "integer"}, "Int64"),
        ({"kind": "identifier", "id_type": "integer"}, "Int64"),
        ({"kind": "identifier", "id_type": "string"}, "object"),
        ({"kind": "identifier"}, "object"),
        ({"kind": "float"}, "float64"),
        ({"kind": "boolean"}, "boolean"),
        ({"kind": "datetime"}, "datetime64[ns]"),
        ({"kind": "categorical"}, "object"),
        ({"kind": "text"}, "object"),
    ],
)
def test_pandas_dtype(fields: dict[str, object], dtype: str) -> None:
    column = Column.model_validate({"name": "x", **fields})
    assert pandas_dtype(column) == dtype
    sample = {"integer": ["1"], "float": ["1"], "boolean": ["true"], "datetime": ["2024-01-01"]}
    raw = pd.Series(sample.get(fields["kind"], ["1"]))
    assert str(parse_column(raw, column).values.dtype) == dtype  # parsing lands in that dtype


# --- parse_column --------------------------------------------------------------------------------------


def test_integers_from_strings() -> None:
    values, bad, dtype = parse(["1", "2.0", " 3 ", "1e3", "-4", None], kind="integer")
    assert (values, bad, dtype) == ([1, 2, 3, 1000, -4, None], [False] * 6, "Int64")


@pytest.mark.parametrize("text", ["1.5", "abc", "inf", "-inf", "nan", "", "1,000", "9007199254740993.5"])
def test_integer_bad_values_are_flagged_not_raised(text: str) -> None:
    values, bad, _ = parse(["7", text, None], kind="integer")
    assert values == [7, None, None]
    assert bad == [False, True, False]  # a real null is not a bad value


def test_integers_from_typed_input() -> None:
    assert parse([1, 2, 3], kind="integer")[:2] == ([1, 2, 3], [False] * 3)
    assert parse(np.array([1.0, np.nan, 4.0]), kind="integer")[:2] == ([1, None, 4], [False] * 3)
    assert parse(np.array([1.0, 2.5]), kind="integer")[:2] == ([1, None], [False, True])
    assert parse([True, False], kind="integer")[1] == [True, True]


def test_integers_beyond_float_precision_are_exact_when_typed() -> None:
    big = 2**60 + 1
    values, bad, dtype = parse(pd.array([big, None], dtype="Int64"), kind="integer")
    assert (values, bad, dtype) == ([big, None], [False, False], "Int64")


def test_integer_identifier_parses_like_an_integer() -> None:
    values, bad, dtype = parse(["10", "x", "12"], kind="identifier", id_type="integer")
    assert (values, bad, dtype) == ([10, None, 12], [False, True, False], "Int64")


def test_floats_from_strings() -> None:
    values, bad, dtype = parse(["1.5", "-2", "3e-2", None, "abc", "inf", "-inf"], kind="float")
    assert values == [1.5, -2.0, 0.03, None, None, None, None]
    assert bad == [False, False, False, False, True, True, True]
    assert dtype == "float64"


def test_floats_from_typed_input() -> None:
    values, bad, _ = parse(np.array([0.5, np.inf, np.nan, -np.inf]), kind="float")
    assert values == [0.5, None, None, None]
    assert bad == [False, True, False, True]
    assert parse(pd.array([1, None], dtype="Int64"), kind="float")[:2] == ([1.0, None], [False, False])
    assert parse([True, False], kind="float")[1] == [True, True]  # booleans are not numbers


def test_booleans_from_strings() -> None:
    raw = ["true", "FALSE", " Yes ", "n", "1", "0", "t", "F", "maybe", None, "2"]
    values, bad, dtype = parse(raw, kind="boolean")
    assert values == [True, False, True, False, True, False, True, False, None, None, None]
    assert bad == [False] * 8 + [True, False, True]
    assert dtype == "boolean"


def test_booleans_from_typed_input() -> None:
    assert parse([True, False], kind="boolean") == ([True, False], [False, False], "boolean")
    assert parse(pd.array([True, None], dtype="boolean"), kind="boolean")[:2] == (
        [True, None],
        [False, False],
    )


def test_datetimes_with_a_format() -> None:
    values, bad, dtype = parse(
        ["31/01/2024", "2024-01-31", "32/01/2024", None], kind="datetime", format="%d/%m/%Y"
    )
    assert values == [ts("2024-01-31"), None, None, None]
    assert bad == [False, True, True, False]
    assert dtype == "datetime64[ns]"


def test_datetimes_without_a_format_read_iso() -> None:
    values, bad, _ = parse(
        ["2024-01-05", "2024-01-05T10:00:00", "2024-01-05 10:30", "yesterday"], kind="datetime"
    )
    assert values == [ts("2024-01-05"), ts("2024-01-05 10:00"), ts("2024-01-05 10:30"), None]
    assert bad == [False, False, False, True]


def test_datetimes_from_typed_input() -> None:
    raw = pd.Series(pd.to_datetime(["2024-01-05 10:00", None]))
    assert parse(raw, kind="datetime")[:2] == ([ts("2024-01-05 10:00"), None], [False, False])
    aware = pd.Series(pd.to_datetime(["2024-01-05 10:00"]).tz_localize("Europe/Paris"))
    values, bad, dtype = parse(aware, kind="datetime")
    assert (values, bad, dtype) == ([ts("2024-01-05 09:00")], [False], "datetime64[ns]")  # UTC, naive


def test_a_datetime_format_that_cannot_read_what_it_writes_is_refused_by_the_contract() -> None:
    with pytest.raises(ValueError, match="format '%Q' is not a usable strftime format"):
        parse(["2024-01-05"], kind="datetime", format="%Q")


@pytest.mark.parametrize("kind", ["categorical", "text", "identifier"])
def test_strings_from_anything(kind: str) -> None:
    values, bad, dtype = parse(["a", 1, 2.5, None], kind=kind)
    assert (values, bad, dtype) == (["a", "1", "2.5", None], [False] * 4, "object")


def test_whole_floats_read_as_strings_lose_the_point() -> None:
    assert parse(np.array([3.0, np.nan, 10.0]), kind="categorical")[0] == ["3", None, "10"]
    assert parse(np.array([3.0, 2.5]), kind="text")[0] == ["3.0", "2.5"]


def test_parse_keeps_the_index() -> None:
    raw = pd.Series(["1", "x"], index=[10, 20], name="n")
    parsed = parse_column(raw, Column(name="n", kind=ColumnKind.INTEGER))
    assert parsed.values.index.tolist() == [10, 20]
    assert parsed.bad_count == 1 and parsed.bad[20]


# --- conform -------------------------------------------------------------------------------------------


def test_conform_keeps_a_valid_frame() -> None:
    frame = make_mixed_frame(40)
    out, problems = conform(frame, mixed_contract())
    assert problems == []
    pd.testing.assert_frame_equal(out, frame)


def test_conform_orders_columns_and_resets_the_index() -> None:
    frame = make_mixed_frame(10)
    shuffled = frame[list(reversed(frame.columns))].set_axis(range(100, 110))
    shuffled["extra"] = 1
    out, problems = conform(shuffled, mixed_contract())
    assert problems == []
    assert list(out.columns) == mixed_contract().names
    assert out.index.equals(pd.RangeIndex(10))


def test_conform_gives_canonical_dtypes() -> None:
    frame = make_mixed_frame(10)
    frame["age"] = frame["age"].astype("float64") + 0.2
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["member"] = frame["member"].astype(bool)
    out, problems = conform(frame, mixed_contract())
    assert problems == []
    assert {c.name: str(out[c.name].dtype) for c in mixed_contract().columns} == {
        c.name: pandas_dtype(c) for c in mixed_contract().columns
    }


def test_conform_rounds_and_clips_numbers() -> None:
    frame = make_mixed_frame(6)
    frame["age"] = [17.6, 18.4, 44.7, 79.4, 85.0, -3.0]
    frame["income"] = [1e9, -1e9, 1234.567, np.nan, 0.0, 100000.0]
    contract = contract_from_dict(
        {
            "columns": [
                {"name": "age", "kind": "integer", "min": 18, "max": 79},
                {"name": "income", "kind": "float", "nullable": True, "min": -20000.0, "max": 100000.0},
            ]
        }
    )
    out, problems = conform(frame[["income", "age"]], contract)
    assert problems == []
    assert out["age"].tolist() == [18, 18, 45, 79, 79, 18]
    assert str(out["age"].dtype) == "Int64"
    assert out["income"].tolist()[:3] == [100000.0, -20000.0, 1234.567]
    assert np.isnan(out["income"][3])


def test_conform_rounds_date_only_datetimes_to_the_day_and_keeps_times_elsewhere() -> None:
    contract = Contract(
        columns=[
            Column(name="day", kind=ColumnKind.DATETIME, format="%Y-%m-%d"),
            Column(name="stamp", kind=ColumnKind.DATETIME),
            Column(
                name="bounded",
                kind=ColumnKind.DATETIME,
                min="2024-01-10",
                max="2024-01-20",
                format="%Y-%m-%d",
            ),
        ]
    )
    times = pd.Series(pd.to_datetime(["2024-01-01 03:00", "2024-01-01 20:00", "2024-01-31 11:59"]))
    frame = pd.DataFrame({"day": times, "stamp": times, "bounded": times})
    out, problems = conform(frame, contract)
    assert problems == []
    assert out["day"].tolist() == [ts("2024-01-01"), ts("2024-01-02"), ts("2024-01-31")]
    assert out["stamp"].tolist() == times.tolist()
    assert out["bounded"].tolist() == [ts("2024-01-10"), ts("2024-01-10"), ts("2024-01-20")]


def test_conform_reports_unknown_categories() -> None:
    frame = make_mixed_frame(10)
    frame.loc[[2, 5], "colour"] = ["purple", "purple"]
    frame.loc[7, "colour"] = "teal"
    out, problems = conform(frame, mixed_contract())
    assert problems == ["column 'colour': 3 value(s) outside the categories, e.g. ['purple', 'teal']"]
    assert out["colour"][2] == "purple"  # reported, not silently dropped


def test_conform_reports_nulls_in_non_nullable_columns() -> None:
    frame = make_mixed_frame(10)
    frame.loc[[0, 4], "age"] = pd.NA
    frame.loc[1, "email"] = np.nan
    frame.loc[2, "colour"] = np.nan  # nullable: fine
    _, problems = conform(frame, mixed_contract())
    assert problems == [
        "column 'age': 2 null(s) in a non-nullable column",
        "column 'email': 1 null(s) in a non-nullable column",
    ]


def test_conform_reports_values_of_the_wrong_kind() -> None:
    frame = make_mixed_frame(10)
    frame["member"] = frame["member"].astype(object)
    frame.loc[3, "member"] = "maybe"
    _, problems = conform(frame, mixed_contract())
    assert problems == ["column 'member': 1 value(s) are not boolean, e.g. ['maybe']"]


def test_conform_reports_missing_columns() -> None:
    frame = make_mixed_frame(5).drop(columns=["age", "email"])
    out, problems = conform(frame, mixed_contract())
    assert problems == ["missing column(s) ['age', 'email']"]
    assert out is frame


def test_empty_frame() -> None:
    contract = mixed_contract()
    empty = empty_frame(contract)
    assert len(empty) == 0 and list(empty.columns) == contract.names
    assert {n: str(t) for n, t in empty.dtypes.items()} == {c.name: pandas_dtype(c) for c in contract.columns}


# --- arrow ---------------------------------------------------------------------------------------------


def test_arrow_types() -> None:
    schema = arrow_schema(mixed_contract())
    assert {f.name: f.type for f in schema} == {
        "customer_id": pa.int64(),
        "age": pa.int64(),
        "income": pa.float64(),
        "colour": pa.string(),
        "member": pa.bool_(),
        "email": pa.string(),
        "start_date": pa.date32(),
        "end_date": pa.date32(),
    }
    assert arrow_type(Column(name="t", kind=ColumnKind.DATETIME)) == pa.timestamp("us")
    assert arrow_type(Column(name="t", kind=ColumnKind.DATETIME, format="%Y-%m-%d %H:%M")) == pa.timestamp(
        "us"
    )
    assert arrow_type(Column(name="s", kind=ColumnKind.IDENTIFIER, id_type="string")) == pa.string()
    assert arrow_type(Column(name="c", kind=ColumnKind.CATEGORICAL)) == pa.string()


def test_arrow_nullability_follows_the_contract() -> None:
    schema = arrow_schema(mixed_contract())
    assert [f.name for f in schema if f.nullable] == ["colour"]


def test_contract_travels_in_the_schema_metadata() -> None:
    schema = arrow_schema(mixed_contract())
    stored = json.loads(schema.metadata[CONTRACT_METADATA_KEY])
    assert CONTRACT_METADATA_KEY == b"synthwright.contract"
    assert contract_from_dict(stored) == mixed_contract()


def test_to_arrow_round_trips_values() -> None:
    contract = mixed_contract()
    frame = make_mixed_frame(25, seed=3)
    table = to_arrow(frame, contract)
    assert table.schema.equals(arrow_schema(contract), check_metadata=True)
    assert table.num_rows == 25
    back = table.to_pandas()
    for column in contract.columns:
        restored = parse_column(back[column.name], column)
        assert restored.bad_count == 0
        pd.testing.assert_series_equal(restored.values, frame[column.name], check_names=True)
    assert table.column("colour").null_count == int(frame["colour"].isna().sum()) > 0
    assert table.column("start_date").to_pylist()[0] == frame["start_date"][0].date()


def test_to_arrow_round_trips_through_parquet() -> None:
    contract = mixed_contract()
    frame = make_mixed_frame(25, seed=4)
    sink = pa.BufferOutputStream()
    pq.write_table(to_arrow(frame, contract), sink)
    table = pq.read_table(pa.BufferReader(sink.getvalue()))
    assert table.schema.equals(arrow_schema(contract), check_metadata=True)
    back = table.to_pandas()
    restored = pd.DataFrame({c.name: parse_column(back[c.name], c).values for c in contract.columns})
    pd.testing.assert_frame_equal(restored, frame)


def test_to_arrow_keeps_timestamps_to_the_microsecond() -> None:
    contract = Contract(
        columns=[
            Column(name="stamp", kind=ColumnKind.DATETIME),
            Column(name="day", kind=ColumnKind.DATETIME, format="%Y-%m-%d", nullable=True),
        ]
    )
    frame = pd.DataFrame(
        {
            "stamp": pd.Series([ts("2024-01-01 10:00:00.123456"), ts("2024-02-29 23:59:59")]),
            "day": pd.Series([ts("2024-01-01"), pd.NaT], dtype="datetime64[ns]"),
        }
    )
    table = to_arrow(frame, contract)
    assert table.column("stamp").to_pylist() == [
        dt.datetime(2024, 1, 1, 10, 0, 0, 123456),
        dt.datetime(2024, 2, 29, 23, 59, 59),
    ]
    assert table.column("day").to_pylist() == [dt.date(2024, 1, 1), None]


def test_conformed_frames_can_be_published() -> None:
    """Whatever `conform` accepts must convert to the contract's Arrow schema (timestamps in us)."""
    contract = Contract(columns=[Column(name="stamp", kind=ColumnKind.DATETIME)])
    frame = pd.DataFrame({"stamp": pd.Series([ts("2024-01-01 10:00:00.123456789"), ts("2024-01-02")])})
    out, problems = conform(frame, contract)
    assert problems == []
    table = to_arrow(out, contract)
    assert table.column("stamp").to_pylist()[1] == dt.datetime(2024, 1, 2)


def test_non_nullable_fields_keep_nulls_out_of_parquet() -> None:
    frame = make_mixed_frame(5)
    frame.loc[0, "age"] = pd.NA
    table = to_arrow(frame, mixed_contract())
    assert not table.schema.field("age").nullable and table.column("age").null_count == 1
    with pytest.raises(pa.ArrowInvalid, match="'age' is declared non-nullable but contains nulls"):
        pq.write_table(table, pa.BufferOutputStream())
