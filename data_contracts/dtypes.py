"""Each column kind's one in-memory representation, and parsing raw values into it.

Canonical pandas dtypes (what every step after ingest may rely on):

    integer, identifier(id_type=integer)   Int64 (nullable)
    float                                  float64 (NaN for null)
    boolean                                boolean (nullable)
    datetime                               datetime64[ns], timezone-naive (UTC where the data had an
                                           offset); datetime64[us] when a value lies outside pandas'
                                           nanosecond range (1677-09-21 to 2262-04-11)
    categorical, text, identifier          object holding str (NaN for null)

Datetimes are held in nanoseconds wherever they fit, because most code (and SDV) expects that unit; a
column reaching beyond it (0001-01-01, 9999-12-31 are real data) is held in microseconds, which covers
every date a contract bound (a Python datetime: years 1 to 9999) can name; a value outside those
years is a bad value.
Whole numbers are held exactly up to int64; a larger one is a bad value of an integer column.

Parsing never raises on a bad value: it returns the values it could read and a mask of those it could
not, so a check can report every bad value of every column at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import Column, ColumnKind, Contract

TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0"})

INT64_MAX = 2**63 - 1
INTEGER_LITERAL = re.compile(r"^\s*[+-]?\d+\s*$")
"""A whole number written out digit by digit: it promises every digit (unlike 1e20)."""
_NS_LOW = pd.Timestamp.min.to_pydatetime(warn=False)
_NS_HIGH = pd.Timestamp.max.to_pydatetime(warn=False)
_HELD_LOW = pd.Timestamp(dt.datetime.min)  # year 1
_HELD_HIGH = pd.Timestamp(dt.datetime.max)  # year 9999


def pandas_dtype(column: Column) -> str:
    if column.integer_valued:
        return "Int64"
    return {
        ColumnKind.FLOAT: "float64",
        ColumnKind.BOOLEAN: "boolean",
        ColumnKind.DATETIME: "datetime64[ns]",
    }.get(column.kind, "object")


@dataclass(frozen=True)
class Parsed:
    """Parsed values (bad ones set to null) and which input rows could not be read."""

    values: pd.Series
    bad: pd.Series

    @property
    def bad_count(self) -> int:
        return int(self.bad.sum())


def parse_column(raw: pd.Series, column: Column) -> Parsed:
    """Read `raw` (strings from CSV, or typed values from Parquet/JSON) as `column` says."""
    present = raw.notna()
    if column.integer_valued:
        values, ok = _as_integers(raw)
    elif column.kind is ColumnKind.FLOAT:
        values, ok = _as_floats(raw)
    elif column.kind is ColumnKind.BOOLEAN:
        values, ok = _as_booleans(raw)
    elif column.kind is ColumnKind.DATETIME:
        values, ok = _as_datetimes(raw, column.format)
    else:
        values, ok = _as_strings(raw), present
    bad = present & ~ok
    return Parsed(values.rename(raw.name), bad.rename(raw.name))


def parse_frame(raw: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, dict[str, Parsed]]:
    """Every contract column of `raw` parsed; the frame (fresh index) and each column's result."""
    parsed = {c.name: parse_column(raw[c.name].reset_index(drop=True), c) for c in contract.columns}
    frame = pd.DataFrame({name: p.values for name, p in parsed.items()}, index=pd.RangeIndex(len(raw)))
    return frame, parsed


def _as_floats(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(raw):
        return pd.Series(np.nan, index=raw.index), raw.isna()
    numbers = pd.to_numeric(raw, errors="coerce").astype("float64")
    ok = numbers.notna() & np.isfinite(numbers.fillna(0.0))
    return numbers.where(ok), ok


def _as_integers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_integer_dtype(raw):  # exact, even beyond float precision
        if pd.api.types.is_unsigned_integer_dtype(raw) and raw.max() > INT64_MAX:  # uint64 beyond int64
            fits = raw.notna() & (raw <= INT64_MAX)
            return raw.where(fits, 0).astype("int64").astype("Int64").where(fits), fits
        return raw.astype("Int64"), raw.notna()
    numbers, ok = _as_floats(raw)
    whole = ok & (numbers.fillna(0.0) % 1 == 0) & (numbers.abs().fillna(0.0) < 2**53)
    values = numbers.where(whole).round().astype("Int64")
    # past 2**53 a float drops digits: read a written-out whole number exactly, up to int64
    large = np.flatnonzero((ok & (numbers.abs() >= 2**53)).to_numpy())
    candidates = zip(large, raw.to_numpy()[large], strict=True)
    exact = {i: n for i, v in candidates if (n := _exact_integer(v)) is not None}
    if exact:
        values.iloc[list(exact)] = np.array(list(exact.values()), dtype="int64")
        whole = whole | values.notna()
    return values, whole


def _exact_integer(value: object) -> int | None:
    """An int64 from a Python int or a written-out whole number; None for anything else."""
    if isinstance(value, bool | np.bool_):
        return None
    if not (isinstance(value, int | np.integer) or isinstance(value, str) and INTEGER_LITERAL.match(value)):
        return None
    number = int(value)
    return number if -INT64_MAX - 1 <= number <= INT64_MAX else None


def _as_booleans(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("boolean"), raw.notna()
    text = raw.astype("string").str.strip().str.lower()
    values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    values[text.isin(TRUE_TOKENS).fillna(False).astype(bool)] = True
    values[text.isin(FALSE_TOKENS).fillna(False).astype(bool)] = False
    return values, values.notna()


def _as_datetimes(raw: pd.Series, fmt: str | None) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw.dt.tz_convert(None) if getattr(raw.dt, "tz", None) is not None else raw
        values = held_datetimes(values)
        return values, values.notna()
    text = raw.where(raw.isna(), raw.astype(str))
    try:  # utc: offsets (even several in one column) become UTC; values without one are read as they are
        values = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=True)
    except (ValueError, OverflowError):  # a format pandas cannot use at all
        values = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    values = values.dt.tz_convert(None).astype("datetime64[ns]")
    missed = raw.notna() & values.isna()
    if missed.any():  # pandas reads only 1677-2262: Python reads the rest (years 1-9999)
        lookup = {v: wide_datetime(v, fmt) for v in text[missed].unique()}
        wide = text[missed].map(lookup).dropna()
        if len(wide):
            values = values.astype("datetime64[us]")
            values[wide.index] = np.array(list(wide), dtype="datetime64[us]")
    return values, values.notna()


def wide_datetime(text: str, fmt: str | None) -> dt.datetime | None:
    """`text` as a datetime outside pandas' nanosecond range (read by Python), or None. A value inside
    that range is None too: there pandas' reading (which refused it) stands."""
    try:
        value = dt.datetime.strptime(text, fmt) if fmt else dt.datetime.fromisoformat(text)
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, TypeError):
        return None
    return None if _NS_LOW <= value <= _NS_HIGH else value


def held_datetimes(values: pd.Series) -> pd.Series:
    """Naive datetimes of any unit in the unit they are held in: nanoseconds when every value fits,
    else microseconds; values outside years 1-9999 (no contract bound can name them) become NaT."""
    if values.dtype == "datetime64[ns]":
        return values
    low, high = values.min(), values.max()
    if pd.isna(low) or (low >= pd.Timestamp(_NS_LOW) and high <= pd.Timestamp(_NS_HIGH)):
        return values.astype("datetime64[ns]")
    inside = (values >= _HELD_LOW) & (values <= _HELD_HIGH)
    return values.where(inside).astype("datetime64[us]")


def _as_strings(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(raw) and (raw.dropna() % 1 == 0).all():
        raw = raw.astype("Int64")  # 3.0 read from JSON/Parquet stays "3", not "3.0"
    present = raw.notna()
    out = pd.Series(np.nan, index=raw.index, dtype=object)
    out[present] = raw[present].map(str)
    return out
