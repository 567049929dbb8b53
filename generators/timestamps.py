"""Datetimes → seconds since the epoch, and numbers a model wrote → datetimes, safe for any float.

A sampled column can hold any float: NaN for a null, ±inf, or a value centuries out of range. pandas'
`to_datetime(x, unit="s", errors="coerce")` does not coerce all of them: it raises OverflowError past
about 9.2e18 seconds, and at a NaN it sometimes raises FloatingPointError, depending on what ran
before (its cast runs under `np.errstate(over="raise")`; pandas 2.3.3; this crashed a CI run of
TVAE sampling). So only finite values inside pandas' nanosecond range (1677–2262) reach pandas here.

Data may hold dates outside that range (0001-01-01, 9999-12-31: synthwright.data_contracts.dtypes holds
such a column in microseconds), so values in years 1 to 9999 are dates too: datetime64[ns] when every one
fits nanoseconds (as before), else datetime64[us], computed in NumPy. Anything else becomes NaT.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

_NS_PER_SECOND = 1_000_000_000
_US_PER_SECOND = 1_000_000
_SECONDS_PER_UNIT = {"s": 1.0, "D": 86_400.0}
# one second inside each end, so pandas' own rounding never steps over the edge
_NS_LOWEST = pd.Timestamp.min.value / _NS_PER_SECOND + 1
_NS_HIGHEST = pd.Timestamp.max.value / _NS_PER_SECOND - 1
_EPOCH = dt.datetime(1970, 1, 1)
_LOWEST_SECOND = (dt.datetime.min - _EPOCH).total_seconds() + 1  # year 1
_HIGHEST_SECOND = (dt.datetime.max - _EPOCH).total_seconds() - 1  # year 9999


def seconds_since_epoch(values: pd.Series) -> np.ndarray:
    """Datetimes (any unit, years 1–9999) → float64 seconds since the epoch; NaT → NaN.
    A nanosecond column is converted from nanoseconds exactly as before (seeded models reproduce bit
    for bit); any other unit through microseconds, which hold every year from 1 to 9999 in int64."""
    if values.dtype == "datetime64[ns]":
        seconds = values.to_numpy().view(np.int64) / _NS_PER_SECOND
    else:
        seconds = values.to_numpy(dtype="datetime64[us]").view(np.int64) / _US_PER_SECOND
    return np.where(values.isna().to_numpy(), np.nan, seconds)


def timestamp_seconds(value: Any) -> float:
    """One datetime (a contract bound: years 1–9999) → float seconds since the epoch, with the float
    arithmetic of `seconds_since_epoch`: a whole-second value equals its bound to the bit."""
    stamp = pd.Timestamp(value)
    try:
        return float(stamp.value) / _NS_PER_SECOND  # inside 1677–2262: from nanoseconds, as before
    except OverflowError:
        return float(stamp.to_datetime64().astype("datetime64[us]").astype(np.int64)) / _US_PER_SECOND


def datetimes_from_seconds(seconds: ArrayLike) -> pd.Series:
    """Seconds since the epoch → a datetime Series (ns, or us when a value lies outside 1677–2262);
    NaN, ±inf and values outside years 1–9999 → NaT."""
    x = np.asarray(seconds, dtype=np.float64)
    representable = _inside(x, _LOWEST_SECOND, _HIGHEST_SECOND)
    nanoseconds = _inside(x, _NS_LOWEST, _NS_HIGHEST)
    if (representable == nanoseconds).all():
        out = np.full(len(x), np.datetime64("NaT", "ns"))
        if nanoseconds.any():
            out[nanoseconds] = pd.to_datetime(x[nanoseconds], unit="s").to_numpy()
        return pd.Series(out)
    out = np.full(len(x), np.datetime64("NaT", "us"))
    out[representable] = np.round(x[representable] * _US_PER_SECOND).astype(np.int64).astype("datetime64[us]")
    return pd.Series(out)


def within_years(seconds: ArrayLike) -> np.ndarray:
    """Seconds moved into years 1–9999 (NaN stays NaN): a model overshooting a wide column (0001 to 9999)
    then writes the nearest date, which conform clips into the contract's range, instead of a null."""
    return np.clip(np.asarray(seconds, dtype=np.float64), _LOWEST_SECOND + 1, _HIGHEST_SECOND - 1)


def add_gap(start: pd.Series, gap: pd.Series, unit: str) -> pd.Series:
    """`start + gap` with `gap` in `unit` ("s" or "D"); NaT where either is missing or the sum would
    leave years 1–9999. Nanoseconds through pandas when every sum fits them, else microseconds."""
    gap_seconds = gap.to_numpy(dtype=np.float64, na_value=np.nan) * _SECONDS_PER_UNIT[unit]
    start_seconds = np.where(
        start.notna().to_numpy(),
        start.to_numpy(dtype="datetime64[us]").astype(np.int64) / _US_PER_SECOND,
        np.nan,
    )
    total = start_seconds + gap_seconds
    ok = _inside(total, _LOWEST_SECOND, _HIGHEST_SECOND)  # False wherever either side is NaN
    if start.dtype == "datetime64[ns]" and (ok == _inside(total, _NS_LOWEST, _NS_HIGHEST)).all():
        out = np.full(len(start), np.datetime64("NaT", "ns"))
        if ok.any():
            out[ok] = (start[ok] + pd.to_timedelta(gap[ok].astype("float64"), unit=unit)).to_numpy()
        return pd.Series(out, index=start.index)
    out = np.full(len(start), np.datetime64("NaT", "us"))
    steps = np.round(gap_seconds[ok] * _US_PER_SECOND).astype(np.int64).astype("timedelta64[us]")
    out[ok] = start[ok].to_numpy(dtype="datetime64[us]") + steps
    return pd.Series(out, index=start.index)


def _inside(seconds: np.ndarray, low: float, high: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(seconds) & (seconds > low) & (seconds < high)
