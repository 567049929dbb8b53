"""Each column kind's one in-memory representation, and parsing raw values into it.

Canonical pandas dtypes (what every step after ingest may rely on):

    integer, identifier(id_type=integer)   Int64 (nullable)
    float                                  float64 (NaN for null)
    boolean                                boolean (nullable)
    datetime                               datetime64[ns], timezone-naive
    categorical, text, identifier          object holding str (NaN for null)

Parsing never raises on a bad value: it returns the values it could read and a mask of those it could
not, so a check can report every bad value of every column at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import Column, ColumnKind, Contract

TRUE_TOKENS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_TOKENS = frozenset({"false", "f", "no", "n", "0"})


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
    numbers, ok = _as_floats(raw)
    whole = ok & (numbers.fillna(0.0) % 1 == 0) & (numbers.abs().fillna(0.0) < 2**53)
    if pd.api.types.is_integer_dtype(raw):  # exact, even beyond float precision
        return raw.astype("Int64"), raw.notna()
    return numbers.where(whole).round().astype("Int64"), whole


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
        return values.astype("datetime64[ns]"), raw.notna()
    text = raw.where(raw.isna(), raw.astype(str))
    try:
        values = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce")
    except (ValueError, OverflowError):  # a format pandas cannot use at all
        values = pd.Series(pd.NaT, index=raw.index)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(None)
    return values.astype("datetime64[ns]"), values.notna()


def _as_strings(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(raw) and (raw.dropna() % 1 == 0).all():
        raw = raw.astype("Int64")  # 3.0 read from JSON/Parquet stays "3", not "3.0"
    present = raw.notna()
    out = pd.Series(np.nan, index=raw.index, dtype=object)
    out[present] = raw[present].map(str)
    return out
