"""Numbers a model wrote → datetime64[ns], safe for any float.

A sampled column can hold any float: NaN for a null, ±inf, or a value centuries out of range. pandas'
`to_datetime(x, unit="s", errors="coerce")` does not coerce all of them: it raises OverflowError past
about 9.2e18 seconds, and at a NaN it sometimes raises FloatingPointError, depending on what ran
before (its cast runs under `np.errstate(over="raise")`; pandas 2.3.3; this crashed a CI run of
TVAE sampling). So only finite values inside the representable range (1677–2262) reach pandas here;
the rest become NaT.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

_NS_PER_SECOND = 1_000_000_000
_SECONDS_PER_UNIT = {"s": 1.0, "D": 86_400.0}
# one second inside each end, so pandas' own rounding never steps over the edge
_LOWEST_SECOND = pd.Timestamp.min.value / _NS_PER_SECOND + 1
_HIGHEST_SECOND = pd.Timestamp.max.value / _NS_PER_SECOND - 1


def datetimes_from_seconds(seconds: ArrayLike) -> pd.Series:
    """Seconds since the epoch → a datetime64[ns] Series; NaN, ±inf and out-of-range values → NaT."""
    x = np.asarray(seconds, dtype=np.float64)
    representable = _representable(x)
    out = np.full(len(x), np.datetime64("NaT", "ns"))
    if representable.any():
        out[representable] = pd.to_datetime(x[representable], unit="s").to_numpy()
    return pd.Series(out)


def add_gap(start: pd.Series, gap: pd.Series, unit: str) -> pd.Series:
    """`start + gap` with `gap` in `unit` ("s" or "D"); NaT where either is missing or the sum would
    leave the representable range (pandas raises OverflowError there)."""
    gap_seconds = gap.to_numpy(dtype=np.float64, na_value=np.nan) * _SECONDS_PER_UNIT[unit]
    start_seconds = np.where(
        start.notna().to_numpy(),
        start.to_numpy(dtype="datetime64[ns]").astype(np.int64) / _NS_PER_SECOND,
        np.nan,
    )
    ok = _representable(start_seconds + gap_seconds)  # False wherever either side is NaN
    out = np.full(len(start), np.datetime64("NaT", "ns"))
    if ok.any():
        out[ok] = (start[ok] + pd.to_timedelta(gap[ok].astype("float64"), unit=unit)).to_numpy()
    return pd.Series(out, index=start.index)


def _representable(seconds: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(seconds) & (seconds > _LOWEST_SECOND) & (seconds < _HIGHEST_SECOND)
