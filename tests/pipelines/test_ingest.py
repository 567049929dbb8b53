"""Ingest: CSV, Parquet and JSON Lines into the contract's dtypes; file-level problems as SourceError."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support import REPO, make_mixed_frame

from synthwright.data_contracts.io import load_contract
from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import SourceError, UserInputError
from synthwright.pipelines.ingest import (
    DEFAULT_NA_VALUES,
    ParsedSource,
    ReadOptions,
    builtin_path,
    builtin_tables,
    ingest,
)

EXPECTED_DTYPES = {
    "customer_id": "Int64",
    "age": "Int64",
    "income": "float64",
    "colour": "object",
    "member": "boolean",
    "email": "object",
    "start_date": "datetime64[ns]",
    "end_date": "datetime64[ns]",
}


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False)
    return path


def _write_jsonl(frame: pd.DataFrame, path: Path) -> Path:
    """JSON has no date type: dates go in as text in the contract's format, nulls as JSON null."""
    text = frame.copy()
    for name in ("start_date", "end_date"):
        text[name] = text[name].dt.strftime("%Y-%m-%d")
    rows = [
        {key: (None if pd.isna(value) else value) for key, value in row.items()}
        for row in text.astype(object).to_dict("records")
    ]
    path.write_text("".join(json.dumps(row, default=_json_default) + "\n" for row in rows), encoding="utf-8")
    return path


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {value!r}")


def _source_error(path: Path, options: ReadOptions | None = None, contract: Contract | None = None):
    with pytest.raises(SourceError) as info:
        ingest(path, options, contract)
    return info.value


def _small_contract() -> Contract:
    return Contract(
        dataset="small",
        columns=[
            Column(name="age", kind=ColumnKind.INTEGER),
            Column(name="flag", kind=ColumnKind.BOOLEAN),
            Column(name="when", kind=ColumnKind.DATETIME, format="%Y-%m-%d"),
            Column(name="score", kind=ColumnKind.FLOAT),
            Column(name="team", kind=ColumnKind.CATEGORICAL, nullable=True),
        ],
    )


# ----------------------------------------------------------------------------------------------------------
# The three formats agree


@pytest.mark.parametrize(
    ("suffix", "writer"),
    [(".csv", _write_csv), (".parquet", _write_parquet), (".jsonl", _write_jsonl)],
    ids=["csv", "parquet", "jsonl"],
)
def test_each_format_reads_the_table_in_the_contract_dtypes(tmp_path, mixed_frame, mixed, suffix, writer):
    path = writer(mixed_frame, tmp_path / f"mixed{suffix}")
    result = ingest(path, contract=mixed)

    assert isinstance(result, ParsedSource)
    assert {name: str(dtype) for name, dtype in result.frame.dtypes.items()} == EXPECTED_DTYPES
    assert result.parse_failures == []
    assert result.contract_inferred is False
    assert result.contract == mixed
    assert result.source == str(path)
    assert isinstance(result.frame.index, pd.RangeIndex)
    pd.testing.assert_frame_equal(result.frame, mixed_frame)


def test_csv_parquet_and_jsonl_give_equal_frames(tmp_path, mixed):
    frame = make_mixed_frame(rows=40, seed=7)
    frames = [
        ingest(writer(frame, tmp_path / f"t{suffix}"), contract=mixed).frame
        for suffix, writer in [(".csv", _write_csv), (".parquet", _write_parquet), (".jsonl", _write_jsonl)]
    ]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    pd.testing.assert_frame_equal(frames[0], frames[2])
    # the nulls survived in every format
    assert all(f["colour"].isna().sum() == frame["colour"].isna().sum() > 0 for f in frames)


def test_explicit_format_overrides_the_suffix(tmp_path, mixed_frame, mixed):
    path = _write_csv(mixed_frame, tmp_path / "mixed.data")
    with pytest.raises(SourceError):
        ingest(path, contract=mixed)
    result = ingest(path, ReadOptions(format="csv"), mixed)
    pd.testing.assert_frame_equal(result.frame, mixed_frame)


def test_sha256_of_the_file_is_reported(tmp_path, mixed_frame, mixed):
    path = _write_csv(mixed_frame, tmp_path / "mixed.csv")
    result = ingest(path, contract=mixed)
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()

    path.write_bytes(path.read_bytes().replace(b"person0@", b"person9@"))
    assert ingest(path, contract=mixed).sha256 != result.sha256


# ----------------------------------------------------------------------------------------------------------
# CSV details: BOM, tabs, NA tokens, stripping, header names


def test_bom_at_the_start_of_a_csv_is_not_part_of_the_first_name(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffage,team\n30,red\n41,blue\n".encode())
    result = ingest(path)
    assert list(result.frame.columns) == ["age", "team"]
    assert result.frame["age"].tolist() == [30, 41]

    contract = Contract(
        dataset="bom",
        columns=[
            Column(name="age", kind=ColumnKind.INTEGER),
            Column(name="team", kind=ColumnKind.CATEGORICAL),
        ],
    )
    assert ingest(path, contract=contract).frame["age"].tolist() == [30, 41]


def test_tsv_is_read_with_tabs(tmp_path):
    path = tmp_path / "table.tsv"
    path.write_text("name\tnote\nann\tred, green\nbob\tblue\n", encoding="utf-8")
    frame = ingest(path).frame
    assert list(frame.columns) == ["name", "note"]
    assert frame["note"].tolist() == ["red, green", "blue"]


def test_explicit_delimiter(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;x,y\n2;z\n", encoding="utf-8")
    frame = ingest(path, ReadOptions(delimiter=";")).frame
    assert list(frame.columns) == ["a", "b"]
    assert frame["b"].tolist() == ["x,y", "z"]


ADULT_LIKE = "age, workclass, hours\n39, State-gov, 40\n50, ?, 13\n38, Private, ?\n"


def _adult_contract() -> Contract:
    return Contract(
        dataset="adultish",
        columns=[
            Column(name="age", kind=ColumnKind.INTEGER),
            Column(name="workclass", kind=ColumnKind.CATEGORICAL, nullable=True),
            Column(name="hours", kind=ColumnKind.INTEGER, nullable=True),
        ],
    )


def test_adult_question_marks_stay_values_without_the_na_option(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_LIKE, encoding="utf-8")
    result = ingest(path, contract=_adult_contract())
    # header names and values were stripped ...
    assert list(result.frame.columns) == ["age", "workclass", "hours"]
    assert result.frame["workclass"].tolist() == ["State-gov", "?", "Private"]
    # ... and '?' in an integer column is a value that cannot be parsed, not a null
    [failure] = result.parse_failures
    assert (failure.column, failure.count, failure.examples) == ("hours", 1, ["?"])


def test_adult_question_marks_become_null_when_listed_in_na_values(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_LIKE, encoding="utf-8")
    options = ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"])
    result = ingest(path, options, _adult_contract())
    assert result.parse_failures == []
    assert result.frame["workclass"].isna().tolist() == [False, True, False]
    assert result.frame["workclass"].iloc[0] == "State-gov"
    assert result.frame["hours"].tolist() == [40, 13, pd.NA]
    assert str(result.frame["hours"].dtype) == "Int64"


def test_without_strip_the_leading_space_stays(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_LIKE, encoding="utf-8")
    frame = ingest(path, ReadOptions(strip=False, na_values=["?"])).frame
    assert list(frame.columns) == ["age", " workclass", " hours"]
    # ' ?' is not '?' when nothing is stripped
    assert frame[" workclass"].tolist() == [" State-gov", " ?", " Private"]


def test_default_na_tokens_are_null_and_can_be_narrowed(tmp_path):
    path = tmp_path / "na.csv"
    path.write_text("n,team\n1,red\n2,NA\n3,\n4,null\n5,None\n6,blue\n7, N/A \n", encoding="utf-8")
    assert ingest(path).frame["team"].isna().tolist() == [False, True, True, True, True, False, True]
    only_empty = ingest(path, ReadOptions(na_values=[""])).frame["team"]
    assert only_empty.tolist()[:2] == ["red", "NA"]
    assert only_empty.isna().tolist() == [False, False, True, False, False, False, False]


def test_header_names_are_stripped_to_match_the_contract(tmp_path, mixed_frame, mixed):
    path = tmp_path / "padded.csv"
    padded = mixed_frame.rename(columns=lambda name: f"  {name} ")
    padded.to_csv(path, index=False)
    result = ingest(path, contract=mixed)
    assert list(result.frame.columns) == mixed.names
    pd.testing.assert_frame_equal(result.frame, mixed_frame)


def test_columns_are_put_in_contract_order(tmp_path, mixed_frame, mixed):
    path = _write_csv(mixed_frame[list(reversed(mixed.names))], tmp_path / "reversed.csv")
    result = ingest(path, contract=mixed)
    assert list(result.frame.columns) == mixed.names
    pd.testing.assert_frame_equal(result.frame, mixed_frame)


# ----------------------------------------------------------------------------------------------------------
# Inferred contract


def test_contract_is_inferred_when_none_is_given(tmp_path, mixed_frame):
    path = _write_csv(mixed_frame, tmp_path / "customers.v2.csv")
    result = ingest(path)
    assert result.contract_inferred is True
    assert result.contract.dataset == "customers"
    assert result.contract.names == list(mixed_frame.columns)
    kinds = {c.name: c.kind for c in result.contract.columns}
    assert kinds["age"] is ColumnKind.INTEGER
    assert kinds["income"] is ColumnKind.FLOAT
    assert kinds["member"] is ColumnKind.BOOLEAN
    assert kinds["start_date"] is ColumnKind.DATETIME
    assert kinds["colour"] is ColumnKind.CATEGORICAL
    # the inferred contract is the one the frame was parsed with: nothing failed to parse
    assert result.parse_failures == []
    assert str(result.frame["start_date"].dtype) == "datetime64[ns]"


# ----------------------------------------------------------------------------------------------------------
# Unparseable values are reported, not raised


def test_values_that_cannot_be_parsed_become_parse_failures(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "age,flag,when,score,team\n"
        "39,yes,2020-01-01,1.5,a\n"
        "abc,maybe,notadate,inf,b\n"
        "1.5,no,2020-02-30,zz,\n"
        "abc,no,2020-01-02,2,a\n",
        encoding="utf-8",
    )
    result = ingest(path, contract=_small_contract())
    failures = {f.column: f for f in result.parse_failures}
    assert set(failures) == {"age", "flag", "when", "score"}
    assert (failures["age"].kind, failures["age"].count) == ("integer", 3)
    assert failures["age"].examples == ["abc", "1.5"]  # distinct values, in order of appearance
    assert (failures["flag"].count, failures["flag"].examples) == (1, ["maybe"])
    assert (failures["when"].count, failures["when"].examples) == (2, ["notadate", "2020-02-30"])
    assert (failures["score"].count, sorted(failures["score"].examples)) == (2, ["inf", "zz"])

    frame = result.frame
    assert frame["age"].tolist() == [39, pd.NA, pd.NA, pd.NA]
    assert frame["flag"].tolist() == [True, pd.NA, False, False]
    assert frame["when"].isna().tolist() == [False, True, True, False]
    assert frame["score"].iloc[[0, 3]].tolist() == [1.5, 2.0]
    assert frame["score"].iloc[[1, 2]].isna().all()
    assert frame["team"].tolist()[:2] == ["a", "b"] and pd.isna(frame["team"].iloc[2])


def test_parse_failure_examples_are_capped(tmp_path):
    from synthwright.validators.contract import MAX_EXAMPLES

    path = tmp_path / "many.csv"
    path.write_text("n\n" + "".join(f"bad{i}\n" for i in range(20)) + "7\n", encoding="utf-8")
    contract = Contract(dataset="many", columns=[Column(name="n", kind=ColumnKind.INTEGER)])
    [failure] = ingest(path, contract=contract).parse_failures
    assert failure.count == 20
    assert failure.examples == [f"bad{i}" for i in range(MAX_EXAMPLES)]


def test_jsonl_values_of_the_wrong_type_are_parse_failures(tmp_path):
    path = tmp_path / "typed.jsonl"
    path.write_text('{"n": 1}\n{"n": "seven"}\n{"n": 2.5}\n{"n": null}\n', encoding="utf-8")
    contract = Contract(dataset="typed", columns=[Column(name="n", kind=ColumnKind.INTEGER, nullable=True)])
    result = ingest(path, contract=contract)
    [failure] = result.parse_failures
    assert failure.count == 2
    assert set(failure.examples) == {"seven", 2.5}
    assert result.frame["n"].tolist() == [1, pd.NA, pd.NA, pd.NA]


# ----------------------------------------------------------------------------------------------------------
# File-level problems: SourceError naming the file


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.csv"
    error = _source_error(path)
    assert str(path) in error.message
    assert "not found" in error.message
    assert isinstance(error, UserInputError) and error.exit_code == 2


def test_a_folder_is_not_a_data_file(tmp_path):
    path = tmp_path / "looks_like.csv"
    path.mkdir()
    error = _source_error(path)
    assert str(path) in error.message
    assert "folder" in error.message


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    error = _source_error(path)
    assert str(path) in error.message
    assert "empty" in error.message


def test_blank_lines_only_have_no_header(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n", encoding="utf-8")
    error = _source_error(path)
    assert str(path) in error.message
    assert "header" in error.message


def test_non_utf8_bytes_name_the_byte_position(tmp_path):
    path = tmp_path / "latin.csv"
    content = b"city,name\nParis,Ren" + b"\xe9\n"
    path.write_bytes(content)
    error = _source_error(path)
    assert str(path) in error.message
    assert "\\xe9" in error.message
    bad_at = content.index(b"\xe9")
    assert f"position {bad_at}" in error.message
    assert "encoding" in error.hint


def test_non_utf8_byte_in_the_header(tmp_path):
    path = tmp_path / "header.csv"
    path.write_bytes(b"caf\xe9,b\n1,2\n")
    error = _source_error(path)
    assert str(path) in error.message
    assert "position 3" in error.message
    assert "encoding" in error.hint


def test_non_utf8_byte_position_is_the_offset_in_the_file_even_deep_in_a_large_file(tmp_path):
    """The position must point into the file, not into whichever block the CSV parser was decoding."""
    path = tmp_path / "big.csv"
    body = b"id,name\n" + b"".join(b"%d,person%d\n" % (i, i) for i in range(40_000))
    bad_at = len(body) + len(b"40000,Ren")
    path.write_bytes(body + b"40000,Ren\xe9\n")
    assert bad_at > 256 * 1024  # beyond the first block pandas decodes
    error = _source_error(path)
    position = int(re.search(r"position (\d+)", error.message).group(1))
    assert path.read_bytes()[position : position + 1] == b"\xe9"
    assert position == bad_at


def test_the_encoding_option_reads_latin1(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("city,name\nParis,René\n".encode("latin-1"))
    frame = ingest(path, ReadOptions(encoding="latin-1")).frame
    assert frame["name"].tolist() == ["René"]


def test_ragged_row_with_too_many_fields(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n", encoding="utf-8")
    error = _source_error(path)
    assert str(path) in error.message
    assert "line 3" in error.message
    assert "Expected 2 fields" in error.message
    assert "\n" not in error.message
    assert "quote" in error.hint


@pytest.mark.parametrize("header", ["a,b,a", "a, a,b"], ids=["exact", "after-strip"])
def test_duplicate_column_names(tmp_path, header):
    path = tmp_path / "dup.csv"
    path.write_text(f"{header}\n1,2,3\n", encoding="utf-8")
    error = _source_error(path)
    assert str(path) in error.message
    assert "['a']" in error.message
    assert "more than once" in error.message


def test_duplicate_column_names_in_parquet(tmp_path):
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"]), path)
    error = _source_error(path)
    assert str(path) in error.message
    assert "['x']" in error.message


@pytest.mark.parametrize("header", ["a,,c", "a,  ,c"], ids=["empty", "spaces"])
def test_an_empty_column_name(tmp_path, header):
    path = tmp_path / "noname.csv"
    path.write_text(f"{header}\n1,2,3\n", encoding="utf-8")
    error = _source_error(path)
    assert str(path) in error.message
    assert "position [2]" in error.message
    assert "no name" in error.message


def test_header_that_does_not_match_the_contract(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("age,flag,colour,score,team\n1,yes,red,2.0,a\n", encoding="utf-8")
    error = _source_error(path, contract=_small_contract())
    assert str(path) in error.message
    assert "missing column(s) ['when']" in error.message
    assert "not in the contract ['colour']" in error.message
    assert "contract infer" in error.hint


def test_header_with_only_missing_columns(tmp_path):
    path = tmp_path / "fewer.csv"
    path.write_text("age,flag\n1,yes\n", encoding="utf-8")
    error = _source_error(path, contract=_small_contract())
    assert "missing column(s) ['when', 'score', 'team']" in error.message
    assert "not in the contract" not in error.message


def test_unknown_suffix_with_format_auto(tmp_path):
    path = tmp_path / "table.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    error = _source_error(path)
    assert str(path) in error.message
    assert "format" in error.message
    assert ".parquet" in error.hint and ".jsonl" in error.hint


def test_parquet_with_a_nested_list_column(tmp_path):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": [1, 2], "tags": [["a"], ["b", "c"]]}), path)
    error = _source_error(path)
    assert str(path) in error.message
    assert "['tags']" in error.message
    assert "'id'" not in error.message
    assert "flatten" in error.hint


def test_parquet_with_a_struct_column(tmp_path):
    path = tmp_path / "struct.parquet"
    pq.write_table(pa.table({"id": [1], "where": [{"lat": 1.0, "lon": 2.0}]}), path)
    error = _source_error(path)
    assert "['where']" in error.message


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_unreadable_parquet(tmp_path, mixed_frame, damage):
    good = _write_parquet(mixed_frame, tmp_path / "good.parquet")
    path = tmp_path / f"{damage}.parquet"
    data = good.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"PAR1" + bytes(range(256)) * 4)
    error = _source_error(path)
    assert str(path) in error.message
    assert "not a readable Parquet file" in error.message


def test_csv_content_in_a_parquet_named_file(tmp_path, mixed_frame):
    path = _write_csv(mixed_frame, tmp_path / "actually_csv.parquet")
    error = _source_error(path)
    assert str(path) in error.message
    assert "Parquet" in error.message


@pytest.mark.parametrize(
    ("line", "column"),
    [('{"id": 1, "addr": {"city": "Oslo"}}', "addr"), ('{"id": 1, "tags": ["a", "b"]}', "tags")],
    ids=["object", "list"],
)
def test_jsonl_with_nested_values(tmp_path, line, column):
    path = tmp_path / "nested.jsonl"
    path.write_text(line + "\n" + line.replace("1", "2", 1) + "\n", encoding="utf-8")
    error = _source_error(path)
    assert str(path) in error.message
    assert f"['{column}']" in error.message
    assert "flatten" in error.hint


def test_text_that_is_not_jsonl(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": 1}\nthis is not json\n', encoding="utf-8")
    error = _source_error(path)
    assert str(path) in error.message
    assert "JSON Lines" in error.message


def test_unknown_builtin_table():
    with pytest.raises(SourceError) as info:
        builtin_path("no_such_table")
    assert "'no_such_table'" in info.value.message
    assert "student_placements" in info.value.hint


# ----------------------------------------------------------------------------------------------------------
# The built-in demo table


def test_builtin_student_placements(placements):
    path = builtin_path("student_placements")
    assert path.is_file()
    assert builtin_tables()["student_placements"] == path
    assert placements.frame.shape == (215, 17)
    assert placements.contract_inferred is False
    assert placements.parse_failures == []
    assert placements.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    contract = load_contract(REPO / "data_contracts" / "examples" / "student_placements.yaml")
    assert list(placements.frame.columns) == contract.names
    assert str(placements.frame["salary"].dtype) == "Int64"
    assert str(placements.frame["start_date"].dtype) == "datetime64[ns]"
    assert str(placements.frame["placed"].dtype) == "boolean"
    assert placements.frame["student_id"].is_unique


@pytest.mark.parametrize("text", ["a,b\n1,2,3\n4,5,6\n", "a,b\n1,2,\n3,4,\n", "a,b,c\n1,2\n"])
def test_first_row_with_a_different_field_count_is_an_error_not_a_shift(tmp_path, text):
    """pandas would take a first row with an extra field as an index column and shift every value."""
    path = tmp_path / "shifted.csv"
    path.write_text(text)
    with pytest.raises(SourceError, match="first data row has .* fields, the header"):
        ingest(path)
