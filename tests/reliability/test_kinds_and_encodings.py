"""Issue 23, classes 2 and 3: column kinds that overflow or reach odd ranges, and text encodings.

Every input is built in code under tmp_path and run through the CLI in-process. A case is either
handled (a legal table: `contract infer`, then `contract check` of the same file with that contract,
both exit 0, and the inferred kind is the right one) or refused (exit 2: one `error:` line naming the
file, and the column or line, then a `fix:` line; never a traceback or exit 3).

What each class now does:
- datetimes outside pandas' 1677–2262 (years 1–9999) are dates, held in microseconds; offsets in ISO
  8601 text, even several in one column, are read as UTC; timezone-aware Parquet timestamps too;
- numbers that neither float64 (1e400) nor int64 (2**64) holds are refused at inference, naming the
  column; a written-out whole number between 2**53 and int64 is read exactly; JSON keys named twice in
  one object and Parquet durations are refused;
- a byte-order mark names the encoding by itself (UTF-8/16/32, plain or .gz); NUL bytes are looked
  for in the decompressed text (in UTF-16/32, in the decoded text); every decoding error is exit 2
  naming the line; a separator line (=====, -----) inside the data is refused naming its line.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from cli_support import Result, assert_clean_user_error, cli
from hostile_support import column, put, registrar, round_trip

from synthwright.data_contracts.io import load_contract
from synthwright.pipelines.ingest import ingest

# ---- helpers ----------------------------------------------------------------------------------------


def table(rows: int = 10) -> str:
    """A small clean CSV table: an integer and a two-label column."""
    return "a,b\n" + "".join(f"{i},{'xy'[i % 2]}\n" for i in range(rows))


def refused(result: Result, *needles: str, fix: str) -> None:
    """Exit 2, one clean error whose `error:` line holds every needle and whose `fix:` line holds `fix`."""
    assert_clean_user_error(result, *needles)
    fix_line = next(line for line in result.err.splitlines() if line.strip().startswith("fix: "))
    assert fix in fix_line, (fix, result.err)


def infer(capsys, data: Path, *options: str) -> Result:
    return cli(capsys, "contract", "infer", data, *options)


CASES: list = []


case = registrar(CASES)


# ---- class 2: kinds ---------------------------------------------------------------------------------

WIDE_DATES = ["2024-01-05", "9999-12-31", "0001-01-01", "1500-06-01", "1677-09-20", "2262-04-12"]


@case("dates-beyond-pandas-range-are-dates-not-phone-numbers")
def _(capsys, tmp):
    data = put(tmp / "far.csv", "a,d\n" + "".join(f"{i},{d}\n" for i, d in enumerate(WIDE_DATES)))
    d = column(round_trip(capsys, tmp, data), "d")
    assert d["kind"] == "datetime" and "pii" not in d
    # years before 1000 are written ISO-padded (strftime would write year 1 as "1")
    assert (str(d["min"]), str(d["max"])) == ("0001-01-01", "9999-12-31")


@case("wide-dates-in-a-day-first-format")
def _(capsys, tmp):
    data = put(tmp / "dmy.csv", "a,d\n1,31/12/9999\n2,01/06/1500\n3,05/01/2024\n")
    d = column(round_trip(capsys, tmp, data), "d")
    assert (d["kind"], d["format"], d["min"], d["max"]) == (
        "datetime",
        "%d/%m/%Y",
        "01/06/1500",
        "31/12/9999",
    )


@case("wide-dates-against-a-datetime-contract")  # real dates read; only the impossible one fails
def _(capsys, tmp):
    data = put(tmp / "far.csv", "a,d\n1,2024-01-05\n2,9999-12-31\n3,2024-13-45\n4,1066-10-14\n")
    contract = put(
        tmp / "c.yaml",
        "version: 1\ncolumns:\n- {name: a, kind: integer}\n"
        "- {name: d, kind: datetime, format: '%Y-%m-%d', nullable: true}\n",
    )
    result = cli(capsys, "contract", "check", data, "--contract", contract)
    assert result.code == 1 and "2024-13-45" in result.out, result
    assert "9999-12-31" not in result.out and "1066-10-14" not in result.out


@case("parquet-timestamps-in-seconds-beyond-2262")
def _(capsys, tmp):
    data = tmp / "seconds.parquet"
    stamps = [dt.datetime(1200, 3, 1, 10), dt.datetime(2024, 1, 1), dt.datetime(9000, 12, 31, 23, 59, 59)]
    pq.write_table(pa.table({"t": pa.array(stamps, pa.timestamp("s"))}), data)
    t = column(round_trip(capsys, tmp, data), "t")
    assert t["kind"] == "datetime" and str(t["max"]) == "9000-12-31 23:59:59"


@case("parquet-dates-from-year-1")
def _(capsys, tmp):
    data = tmp / "dates.parquet"
    days = [dt.date(1, 1, 1), dt.date(2024, 2, 29), dt.date(9999, 12, 31), None]
    pq.write_table(pa.table({"d": pa.array(days, pa.date32())}), data)
    d = column(round_trip(capsys, tmp, data), "d")
    assert (d["kind"], d["nullable"], str(d["min"])) == ("datetime", True, "0001-01-01")


@case("float-overflow-1e400-is-refused-not-an-identifier")
def _(capsys, tmp):
    data = put(tmp / "huge.csv", "a,x\n1,1.5\n2,1e400\n3,2.5\n")
    refused(infer(capsys, data), data.name, "'x'", "1e400", "64-bit float", fix="categorical")


@case("float-overflow-against-a-float-contract-is-a-failed-check")
def _(capsys, tmp):
    data = put(tmp / "huge.csv", "a,x\n1,1.5\n2,1e400\n3,2.5\n")
    contract = put(
        tmp / "c.yaml", "version: 1\ncolumns:\n- {name: a, kind: integer}\n- {name: x, kind: float}\n"
    )
    result = cli(capsys, "contract", "check", data, "--contract", contract)
    assert result.code == 1 and "'x'" in result.out and "1e400" in result.out, result


@case("integers-beyond-int64-are-refused-not-merged")
def _(capsys, tmp):
    data = put(tmp / "big.csv", "a,x\n" + "".join(f"{i},{2**64 + i}\n" for i in range(60)))
    refused(infer(capsys, data), data.name, "'x'", "beyond int64", fix="categorical")


@case("integers-beyond-int64-under-a-categorical-contract-keep-every-value")  # the fix the error names
def _(capsys, tmp):
    data = put(tmp / "big.csv", "a,x\n" + "".join(f"{i},{2**64 + i}\n" for i in range(60)))
    contract = put(
        tmp / "c.yaml", "version: 1\ncolumns:\n- {name: a, kind: integer}\n- {name: x, kind: categorical}\n"
    )
    assert cli(capsys, "contract", "check", data, "--contract", contract).code == 0
    assert ingest(data, contract=load_contract(contract)).frame["x"].nunique() == 60


@case("ids-beyond-int64-are-string-identifiers")
def _(capsys, tmp):
    data = put(tmp / "ids.csv", "order_id,a\n" + "".join(f"{2**70 + i},{i % 3}\n" for i in range(30)))
    key = column(round_trip(capsys, tmp, data), "order_id")
    assert (key["kind"], key["id_type"]) == ("identifier", "string")


@case("integers-between-2**53-and-int64-are-exact")
def _(capsys, tmp):
    data = put(tmp / "exact.csv", "a,x\n" + "".join(f"{i},{2**60 + i}\n" for i in range(6)))
    x = column(round_trip(capsys, tmp, data), "x")
    assert x["kind"] == "integer" and "min" not in x  # a float comparison would misjudge such bounds
    assert ingest(data).frame["x"].tolist() == [2**60 + i for i in range(6)]


@case("parquet-uint64-beyond-int64-is-refused")
def _(capsys, tmp):
    data = tmp / "u64.parquet"
    pq.write_table(pa.table({"x": pa.array([2**63 + i for i in range(60)], pa.uint64())}), data)
    refused(infer(capsys, data), data.name, "'x'", "beyond int64", fix="categorical")


@case("parquet-uint64-within-int64-and-nullable-int-stay-exact")
def _(capsys, tmp):
    data = tmp / "ints.parquet"
    big = [2**60 + i for i in range(4)]
    pq.write_table(
        pa.table({"u": pa.array(big, pa.uint64()), "n": pa.array([*big[:3], None], pa.int64())}), data
    )
    contract = round_trip(capsys, tmp, data)
    assert column(contract, "u")["kind"] == column(contract, "n")["kind"] == "integer"
    frame = ingest(data).frame
    assert frame["u"].tolist() == big and frame["n"].tolist()[:3] == big[:3]


@case("jsonl-integers-beyond-int64-name-the-column")
def _(capsys, tmp):
    lines = [json.dumps({"a": i})[:-1] + f', "x": {2**64 + i}}}' for i in range(5)]
    data = put(tmp / "big.jsonl", "\n".join(lines) + "\n")
    refused(infer(capsys, data), data.name, "'x'", "beyond int64", fix="categorical")


@case("jsonl-integers-between-2**53-and-int64-with-nulls-are-exact")
def _(capsys, tmp):
    data = put(tmp / "exact.jsonl", f'{{"x": {2**60 + 1}}}\n{{"x": null}}\n{{"x": {2**60 + 7}}}\n')
    x = column(round_trip(capsys, tmp, data), "x")
    assert (x["kind"], x["nullable"]) == ("integer", True)
    assert ingest(data).frame["x"].dropna().tolist() == [2**60 + 1, 2**60 + 7]


@case("jsonl-duplicate-key-in-one-object")
def _(capsys, tmp):
    data = put(tmp / "dup.jsonl", '{"a": 1, "b": 2}\n{"a": 1, "b": 2, "a": 3}\n')
    refused(infer(capsys, data), data.name, "line 2", "'a'", fix="one value per key")


@case("csv-mixed-timezone-offsets-are-read-as-utc")
def _(capsys, tmp):
    stamps = [
        "2024-01-01T10:00:00+01:00",
        "2024-01-02T10:00:00+05:30",
        "2024-01-03T10:00:00Z",
        "2024-01-04 10:00:00-08:00",
    ]
    data = put(tmp / "tz.csv", "a,t\n" + "".join(f"{i},{s}\n" for i, s in enumerate(stamps)))
    t = column(round_trip(capsys, tmp, data), "t")
    assert (t["kind"], str(t["min"]), str(t["max"])) == (
        "datetime",
        "2024-01-01 09:00:00",
        "2024-01-04 18:00:00",
    )


@case("parquet-duration-column")
def _(capsys, tmp):
    data = tmp / "durations.parquet"
    waits = [dt.timedelta(minutes=m) for m in (5, 10, 90)]
    pq.write_table(pa.table({"a": [1, 2, 3], "wait": pa.array(waits, pa.duration("s"))}), data)
    refused(infer(capsys, data), data.name, "'wait'", "duration", fix="seconds")


@case("parquet-timezone-aware-timestamps-are-utc")
def _(capsys, tmp):
    data = tmp / "aware.parquet"
    local = [dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC), dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)]
    pq.write_table(pa.table({"t": pa.array(local, pa.timestamp("us", tz="Europe/Oslo"))}), data)
    t = column(round_trip(capsys, tmp, data), "t")
    assert (t["kind"], str(t["min"]), str(t["max"])) == (
        "datetime",
        "2024-01-01 10:00:00",
        "2024-06-01 12:00:00",
    )


# ---- class 3: encodings -----------------------------------------------------------------------------


@case("utf16-with-bom-and-the-encoding-flag")
def _(capsys, tmp):
    data = put(tmp / "utf16.csv", table().encode("utf-16"))
    assert [c["name"] for c in round_trip(capsys, tmp, data, "--encoding", "utf-16")["columns"]] == ["a", "b"]


@case("utf16-with-bom-and-the-default-encoding")
def _(capsys, tmp):
    data = put(tmp / "utf16.csv", ("a,é\n" + "".join(f"{i},ü{i % 2}\n" for i in range(10))).encode("utf-16"))
    assert [c["name"] for c in round_trip(capsys, tmp, data)["columns"]] == ["a", "é"]


@case("utf16-big-endian-with-bom")
def _(capsys, tmp):
    data = put(tmp / "utf16be.csv", codecs.BOM_UTF16_BE + table().encode("utf-16-be"))
    assert len(round_trip(capsys, tmp, data)["columns"]) == 2


@case("utf32-with-bom-and-the-default-encoding")
def _(capsys, tmp):
    data = put(tmp / "utf32.csv", table().encode("utf-32"))
    assert len(round_trip(capsys, tmp, data)["columns"]) == 2


@case("utf16-with-bom-gzipped")
def _(capsys, tmp):
    data = put(tmp / "utf16.csv.gz", gzip.compress(table().encode("utf-16")))
    assert len(round_trip(capsys, tmp, data)["columns"]) == 2


@case("utf16-with-bom-jsonl")
def _(capsys, tmp):
    data = put(tmp / "utf16.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n'.encode("utf-16"))
    assert len(round_trip(capsys, tmp, data)["columns"]) == 2


@case("utf16-without-bom-is-refused-naming-the-byte-order-flag")
def _(capsys, tmp):
    data = put(tmp / "nobom.csv", table().encode("utf-16-le"))
    refused(infer(capsys, data), data.name, "NUL", "line 1", fix="--encoding utf-16-le")


@case("utf16-without-bom-reads-with-its-byte-order")
def _(capsys, tmp):
    data = put(tmp / "nobom.csv", table().encode("utf-16-le"))
    assert len(round_trip(capsys, tmp, data, "--encoding", "utf-16-le")["columns"]) == 2


@case("utf16-without-bom-jsonl")
def _(capsys, tmp):
    data = put(tmp / "nobom.jsonl", '{"a": 1}\n{"a": 2}\n'.encode("utf-16-le"))
    refused(infer(capsys, data), data.name, "NUL", "line 1", fix="--encoding utf-16-le")


@case("utf16-cut-inside-its-last-character")
def _(capsys, tmp):
    data = put(tmp / "cut16.csv", table(3).encode("utf-16") + b"\x41")
    refused(infer(capsys, data), data.name, "utf-16", "line 5", fix="encoding")


@case("utf8-file-read-as-utf16")  # no byte-order mark: the flag does not fit the file
def _(capsys, tmp):
    data = put(tmp / "plain.csv", table())
    refused(
        infer(capsys, data, "--encoding", "utf-16"), data.name, "byte-order mark", fix="leave --encoding out"
    )


@case("undecodable-utf16-under-the-encoding-flag")
def _(capsys, tmp):
    text = "a,b\n1,x\n2,y\n".encode("utf-16-le")
    data = put(tmp / "broken16.csv", codecs.BOM_UTF16_LE + text + b"\x00\xd8" + "3,z\n".encode("utf-16-le"))
    refused(infer(capsys, data, "--encoding", "utf-16"), data.name, "utf-16", "line 4", fix="encoding")


@case("undecodable-byte-in-a-gzipped-csv")
def _(capsys, tmp):
    data = put(tmp / "latin.csv.gz", gzip.compress("a,b\n1,x\n2,M\xfcnchen\n".encode("latin-1")))
    refused(infer(capsys, data), data.name, "line 3", "decompressed", fix="--encoding latin-1")


@case("undecodable-byte-under-cp1252")
def _(capsys, tmp):
    data = put(tmp / "cp.csv", b"a,b\n1,x\n2,\x81\n")
    refused(infer(capsys, data, "--encoding", "cp1252"), data.name, "cp1252", "line 3", fix="encoding")


@case("undecodable-byte-in-jsonl")
def _(capsys, tmp):
    data = put(tmp / "latin.jsonl", '{"a": 1}\n{"a": "M\xfcnchen"}\n'.encode("latin-1"))
    refused(infer(capsys, data), data.name, "line 2", fix="--encoding latin-1")


@case("undecodable-byte-in-a-gzipped-jsonl")
def _(capsys, tmp):
    data = put(tmp / "latin.jsonl.gz", gzip.compress('{"a": 1}\n{"a": "M\xfcnchen"}\n'.encode("latin-1")))
    refused(infer(capsys, data, "--encoding", "utf-8"), data.name, "line 2", fix="--encoding latin-1")


@case("nul-byte-in-a-gzipped-csv")
def _(capsys, tmp):
    data = put(tmp / "nul.csv.gz", gzip.compress(b"a,b\n1,x\n2,\x00y\n"))
    refused(infer(capsys, data), data.name, "NUL", "line 3", fix="remove the NUL")


@case("nul-character-in-utf16-text")
def _(capsys, tmp):
    data = put(tmp / "nul16.csv", "a,b\n1,x\n2,\x00y\n".encode("utf-16"))
    refused(infer(capsys, data), data.name, "NUL", "line 3", fix="remove the NUL")


@case("separator-line-of-equals-signs")
def _(capsys, tmp):
    data = put(tmp / "sep.csv", "a,b,c\n1,2,x\n3,4,y\n=====,,\n5,6,x\n")
    refused(infer(capsys, data), data.name, "line 4", "separator", fix="delete the separator")


@case("separator-line-of-dashes")
def _(capsys, tmp):
    data = put(tmp / "dash.csv", 'a,b\n1,x\n"2","multi\nline"\n-----\n4,y\n')
    refused(infer(capsys, data), data.name, "line 5", "separator", fix="delete the separator")


@case("separator-line-under-the-header")
def _(capsys, tmp):
    data = put(tmp / "underline.csv", "a,b\n---,---\n1,x\n2,y\n")
    refused(infer(capsys, data), data.name, "line 2", "separator", fix="delete the separator")


@case("dashes-as-a-value-beside-other-values-are-data")  # not a separator: the row holds values
def _(capsys, tmp):
    data = put(
        tmp / "dashvalue.csv", "a,b\n" + "".join(f"{i},{'---' if i % 2 else 'ok'}\n" for i in range(10))
    )
    assert column(round_trip(capsys, tmp, data), "b")["kind"] == "categorical"


@pytest.mark.parametrize("check", CASES)
def test_hostile_kind_or_encoding(check, tmp_path, capsys):
    check(capsys, tmp_path)


def test_the_case_list_covers_both_classes():
    assert len(CASES) >= 14


# ---- wide-range dates through fit and sample --------------------------------------------------------


def _wide_dates(tmp: Path) -> Path:
    """80 rows whose dates reach far outside 1677–2262 (4-digit years: see the year-1000 test below)."""
    years = [1200, 1500, 1650, 1990, 2020, 2500, 5000, 9000]
    rows = [
        f"{i % 7},{years[i % 8]:04d}-{1 + i % 12:02d}-{1 + i % 27:02d},{'xy'[i % 2]}\n" for i in range(80)
    ]
    return put(tmp / "wide.csv", "a,d,g\n" + "".join(rows))


def _fit_and_sample(capsys, tmp: Path, data: Path, generator: str, *config: str) -> pd.Series:
    model, sample = tmp / f"model-{generator}", tmp / f"sample-{generator}.csv"
    settings = [arg for setting in config for arg in ("--config", setting)]
    fitted = cli(capsys, "fit", data, "-g", generator, "--out", model, "--device", "cpu", *settings)
    assert fitted.code == 0, fitted
    sampled = cli(capsys, "sample", model, "--rows", "40", "--out", sample)
    assert sampled.code == 0, sampled
    return pd.read_csv(sample, dtype=str)["d"]


def _assert_wide_dates(column: pd.Series) -> None:
    """Every value a date inside the real range, some outside pandas' range: no fakes, no NaT."""
    years = column.str.slice(0, 4).astype(int)
    assert column.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), column.tolist()
    assert years.between(1200, 9000).all()
    assert ((years < 1677) | (years > 2262)).any()


TINY = {  # a few seconds of training each: the dates' way through, not the model's quality, is tested
    "bootstrap": (),
    "copula": (),
    "diffusion": ("epochs=2", "max_minutes=null", "hidden=16", "depth=1"),
    "ctgan": ("epochs=2", "batch_size=40", "pac=4", "generator_dim=[16]", "discriminator_dim=[16]"),
    "tvae": ("epochs=2", "batch_size=40", "compress_dims=[16]", "decompress_dims=[16]"),
    "llm": ("epochs=1", "width=16", "depth=1", "heads=1"),
}


@pytest.mark.parametrize("generator", list(TINY))
def test_wide_dates_survive_fit_and_sample(generator, tmp_path, capsys):
    _assert_wide_dates(_fit_and_sample(capsys, tmp_path, _wide_dates(tmp_path), generator, *TINY[generator]))


def test_dates_before_year_1000_survive_a_published_csv(tmp_path, capsys):
    rows = "".join(f"{i},{[500, 1500, 2020][i % 3]:04d}-03-01,x\n" for i in range(30))
    data = put(tmp_path / "early.csv", "a,d,g\n" + rows)
    round_trip(capsys, tmp_path, data)
    _fit_and_sample(capsys, tmp_path, data, "bootstrap")
    sample = tmp_path / "sample-bootstrap.csv"
    assert cli(capsys, "contract", "check", sample, "--contract", tmp_path / "inferred.yaml").code == 0
