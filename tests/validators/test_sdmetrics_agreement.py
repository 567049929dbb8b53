"""`fidelity()` against SDMetrics' own single metrics, recombined the way its QualityReport combines them.

What sdmetrics 0.32's `sdmetrics.reports.QualityReport` does (reports/single_table/_properties):

- Column Shapes: KSComplement for numerical and datetime columns, TVComplement for categorical and
  boolean ones (both drop nulls); the property is the plain mean over columns.
- Column Pair Trends: every pair of columns. Two continuous columns (numerical/datetime; datetimes as
  integer nanoseconds): CorrelationSimilarity (Pearson). Two discrete columns: ContingencySimilarity.
  One of each: ContingencySimilarity of the discrete column and the continuous one discretised with
  `np.digitize` on `np.histogram_bin_edges` (10 bins). The property is the mean over the pairs that
  meet the report's thresholds on the real data (|correlation| above `real_correlation_threshold`,
  Cramér's V above `real_association_threshold`; 0.5 and 0.3 by default, where most pairs drop out).
  `fidelity()` sets both to 0, so every pair is scored and averaged, as the papers' SDMetrics did.

One difference, on purpose: the report cuts each side's bins from that side's own values, so a synthetic
column with a narrower range is binned on shifted edges. SDMetrics documents the bins as the real data's,
outer edges open, for both sides (sdv-dev/SDMetrics#368), which is what its ContingencySimilarity does
when given `continuous_column_names`; `fidelity()` scores those pairs that way, and so does the reference
below (tests/validators/test_fidelity.py shows the report's shifted bins at work).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.sdv_metadata import sdv_columns
from synthwright.validators.fidelity import fidelity

TOLERANCE = 0.1  # percentage points
CORRELATION_THRESHOLD = 0  # as fidelity() sets them on the report: every pair counts
ASSOCIATION_THRESHOLD = 0
CONTINUOUS = {"numerical", "datetime"}


def _associated_frame(rows: int, seed: int, strength: float) -> pd.DataFrame:
    """The mixed frame with every kind of pair trend: colour follows income, membership follows colour."""
    rng = np.random.default_rng(seed + 100)
    frame = make_mixed_frame(rows, seed)
    tier = pd.qcut(frame["income"], 3, labels=["blue", "green", "red"]).astype(object)
    random_colour = rng.choice(["blue", "green", "red"], rows).astype(object)
    colour = np.where(rng.random(rows) < strength, tier, random_colour).astype(object)
    colour[rng.random(rows) < 0.08] = np.nan
    frame["colour"] = colour
    member = np.where(
        colour == "red", rng.random(rows) < 0.85, rng.random(rows) < 0.15 + 0.3 * (1 - strength)
    )
    frame["member"] = pd.array(member, dtype="boolean")
    frame.loc[frame.index[rng.random(rows) < 0.05], "member"] = pd.NA
    return frame


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Numpy-backed columns, as SDMetrics needs: nullable integers as float, nullable booleans as object."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == "Int64":
            out[name] = out[name].astype("float64")
        elif out[name].dtype == "boolean":
            out[name] = out[name].astype(object).where(out[name].notna(), np.nan)
    return out


def _continuous(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        missing = series.isna()
        numbers = pd.to_numeric(series).astype("float64")
        return numbers.where(~missing, np.nan)
    return series


def _discretised(series: pd.Series, real: pd.Series) -> pd.Series:
    """`series` on 10 bins cut from the real column's values, the outer two open-ended."""
    edges = np.histogram_bin_edges(real.dropna())
    edges[0], edges[-1] = -np.inf, np.inf
    return pd.Series(np.digitize(series, bins=edges), index=series.index, name=series.name)


def _sdmetrics_scores(real: pd.DataFrame, synthetic: pd.DataFrame, contract) -> tuple[dict, dict]:
    """Per-column and per-pair scores from SDMetrics' single metrics, each called directly."""
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
    from sdmetrics.single_column import KSComplement, TVComplement

    sdtypes = {name: meta["sdtype"] for name, meta in sdv_columns(contract).items()}
    real, synthetic = _plain(real[list(sdtypes)]), _plain(synthetic[list(sdtypes)])

    columns = {}
    for name, sdtype in sdtypes.items():
        metric = KSComplement if sdtype in CONTINUOUS else TVComplement
        columns[name] = metric.compute(real[name], synthetic[name])

    pairs = {}
    for a, b in itertools.combinations(sdtypes, 2):
        continuous = [sdtypes[a] in CONTINUOUS, sdtypes[b] in CONTINUOUS]
        if all(continuous):
            breakdown = CorrelationSimilarity.compute_breakdown(
                real_data=pd.concat([_continuous(real[a]), _continuous(real[b])], axis=1),
                synthetic_data=pd.concat([_continuous(synthetic[a]), _continuous(synthetic[b])], axis=1),
                real_correlation_threshold=CORRELATION_THRESHOLD,
            )
        else:

            def side(frame: pd.DataFrame, name: str, is_continuous: bool) -> pd.Series:
                if not is_continuous:
                    return frame[name]
                return _discretised(_continuous(frame[name]), _continuous(real[name]))

            breakdown = ContingencySimilarity.compute_breakdown(
                real_data=pd.concat([side(real, a, continuous[0]), side(real, b, continuous[1])], axis=1),
                synthetic_data=pd.concat(
                    [side(synthetic, a, continuous[0]), side(synthetic, b, continuous[1])], axis=1
                ),
                real_association_threshold=ASSOCIATION_THRESHOLD,
            )
        pairs[(a, b)] = (breakdown["score"], "correlation" if all(continuous) else "contingency", continuous)
    return columns, pairs


@pytest.fixture(scope="module")
def measured():
    contract = mixed_contract()
    real = _associated_frame(300, seed=0, strength=0.9)
    synthetic = _associated_frame(260, seed=1, strength=0.5)
    synthetic["income"] = synthetic["income"] * 1.1 + 2000  # shapes and trends both a little off
    return fidelity(real, synthetic, contract), *_sdmetrics_scores(real, synthetic, contract)


def test_every_pair_is_scored_including_unrelated_ones(measured):
    result, _, pairs = measured
    assert len(result.pair_errors) == 15  # 6 learned columns
    assert not any(np.isnan(error) for error in result.pair_errors.values()), result.pair_errors
    assert not any(np.isnan(score) for score, _, _ in pairs.values())


def test_the_table_exercises_every_kind_of_pair(measured):
    _, _, pairs = measured
    kinds = {(kind, tuple(continuous)) for _, kind, continuous in pairs.values()}
    assert ("correlation", (True, True)) in kinds  # age ~ income, start_date ~ end_date, ...
    assert ("contingency", (False, False)) in kinds  # colour ~ member
    assert ("contingency", (True, False)) in kinds  # income ~ colour: income binned
    assert ("contingency", (False, True)) in kinds  # colour ~ start_date: dates binned


def test_column_shape_errors_agree_per_column_and_overall(measured):
    result, columns, _ = measured
    assert set(result.column_errors) == set(columns)
    for name, score in columns.items():
        assert result.column_errors[name] == pytest.approx(100 * (1 - score), abs=TOLERANCE), name
    assert result.shape_error == pytest.approx(100 * (1 - np.mean(list(columns.values()))), abs=TOLERANCE)
    assert result.shape_error > 1  # the comparison is not between two zeros


def test_column_pair_trend_errors_agree_per_pair_and_overall(measured):
    result, _, pairs = measured
    assert set(result.pair_errors) == {f"{a} ~ {b}" for a, b in pairs}
    for (a, b), (score, _, _) in pairs.items():
        assert result.pair_errors[f"{a} ~ {b}"] == pytest.approx(100 * (1 - score), abs=TOLERANCE), (a, b)
    scores = [score for score, _, _ in pairs.values()]
    assert result.trend_error == pytest.approx(100 * (1 - np.mean(scores)), abs=TOLERANCE)
    assert result.trend_error > 1


def test_agreement_on_the_plain_mixed_frame():
    """make_mixed_frame as it is: nulls in colour, booleans, dates, an identifier and e-mails left out."""
    contract = mixed_contract()
    real, synthetic = make_mixed_frame(200, 0), make_mixed_frame(150, 7)
    result = fidelity(real, synthetic, contract)
    columns, pairs = _sdmetrics_scores(real, synthetic, contract)
    for name, score in columns.items():
        assert result.column_errors[name] == pytest.approx(100 * (1 - score), abs=TOLERANCE), name
    assert result.shape_error == pytest.approx(100 * (1 - np.mean(list(columns.values()))), abs=TOLERANCE)
    for (a, b), (score, _, _) in pairs.items():
        assert result.pair_errors[f"{a} ~ {b}"] == pytest.approx(100 * (1 - score), abs=TOLERANCE), (a, b)
    scores = [score for score, _, _ in pairs.values()]
    assert result.trend_error == pytest.approx(100 * (1 - np.mean(scores)), abs=TOLERANCE)
