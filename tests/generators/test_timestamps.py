"""Model numbers → datetimes: any float a generator writes decodes, never raises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthwright.generators.timestamps import add_gap, datetimes_from_seconds


def test_the_pandas_call_it_replaces_raises_on_these_inputs():
    """Why the helper exists: pandas' coerce does not coerce these (if pandas fixes it, this fails)."""
    with pytest.raises(OverflowError):
        pd.to_datetime(np.array([1e300]), unit="s", errors="coerce")
    with pytest.raises(OverflowError):
        pd.to_datetime(np.array([np.inf, 0.0]), unit="s", errors="coerce")


def test_pandas_only_ever_sees_finite_representable_seconds(monkeypatch):
    """pandas' cast reads leftover heap memory at a NaN's place: depending on what ran before, its
    `to_datetime([nan, 3.0], unit="s", errors="coerce")` raises FloatingPointError (it crashed a CI run).
    That cannot be provoked on demand, so the test checks what reaches pandas."""
    original = pd.to_datetime
    seen: list[np.ndarray] = []

    def recording(values, *args, **kwargs):
        seen.append(np.asarray(values, dtype=np.float64))
        return original(values, *args, **kwargs)

    monkeypatch.setattr(pd, "to_datetime", recording)
    out = datetimes_from_seconds(np.array([np.nan, 3.0, np.inf, 1e300, np.nan]))
    assert pd.isna(out[0]) and out[1] == pd.Timestamp("1970-01-01 00:00:03") and out[2:].isna().all()
    assert len(seen) == 1 and np.isfinite(seen[0]).all() and list(seen[0]) == [3.0]


@pytest.mark.parametrize(
    "seconds",
    [[np.nan], [np.inf], [-np.inf], [1e300], [-1e19], [2.6e11], [-6.3e10], [np.nan, np.nan], []],
    ids=["lone-nan", "inf", "-inf", "1e300", "-1e19", "after-9999", "before-year-1", "two-nans", "empty"],
)
def test_unrepresentable_seconds_become_nat(seconds):
    out = datetimes_from_seconds(np.array(seconds, dtype=np.float64))
    assert out.dtype == "datetime64[ns]"
    assert len(out) == len(seconds) and out.isna().all()


def test_representable_seconds_match_pandas_exactly_beside_bad_ones():
    good = np.array([0.0, 1.5, 1.7e9 + 0.25, -1e9, 9.2e9])
    mixed = np.array([good[0], np.nan, good[1], np.inf, good[2], 1e300, good[3], good[4]])
    out = datetimes_from_seconds(mixed)
    expected = pd.to_datetime(good, unit="s")
    assert list(out[[0, 2, 4, 6, 7]]) == list(expected)
    assert out[[1, 3, 5]].isna().all()
    assert out.index.equals(pd.RangeIndex(len(mixed)))


def test_add_gap_matches_pandas_in_range_and_gives_nat_outside_it():
    start = pd.Series(pd.to_datetime(["2024-01-01", "2200-01-01", None, "2024-06-01", "2024-06-01"]))
    gap = pd.Series([86_400.5, 3e11, 5.0, np.nan, np.inf], index=start.index)
    out = add_gap(start, gap, "s")
    assert out[0] == pd.Timestamp("2024-01-01") + pd.to_timedelta(86_400.5, unit="s")
    assert out[1:].isna().all()  # past 9999, no start, no gap, infinite gap
    assert out.dtype == "datetime64[ns]"


def test_dates_outside_pandas_nanoseconds_are_dates_in_microseconds():
    """Data may reach 0001-01-01 or 9999-12-31 (held in microseconds): a model's numbers there decode."""
    seconds = np.array([-62135510400.0, 0.0, np.nan, 253402214400.0])  # 0001-01-02, 1970, null, 9999-12-31
    out = datetimes_from_seconds(seconds)
    assert out.dtype == "datetime64[us]"
    assert list(out.dt.year.fillna(0).astype(int)) == [1, 1970, 0, 9999]
    start = pd.Series(np.array(["0001-01-01", "9999-12-30", "2024-01-01"], dtype="datetime64[us]"))
    later = add_gap(start, pd.Series([1.0, 1.0, 1e7]), "D")
    assert later.dtype == "datetime64[us]"
    assert [str(v.date()) for v in later[:2]] == ["0001-01-02", "9999-12-31"]
    assert pd.isna(later[2])  # 27,000 years on: past 9999
