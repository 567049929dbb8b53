"""Fidelity figures: shape and trend errors as SDMetrics defines them, against the training data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.sdv_metadata import sdv_columns
from synthwright.validators.fidelity import fidelity


@pytest.fixture(scope="module")
def placements_split(placements):
    frame = placements.frame
    train = frame.sample(frac=0.6, random_state=0)
    return train, frame.drop(train.index), placements.contract


def test_identical_data_scores_zero_error(placements_split):
    train, _, contract = placements_split
    result = fidelity(train, train.copy(), contract)
    assert result.shape_error == pytest.approx(0, abs=1e-9)
    assert result.trend_error == pytest.approx(0, abs=1e-9)


def test_column_shuffle_keeps_shapes_but_breaks_trends(placements_split):
    train, _, contract = placements_split
    rng = np.random.default_rng(0)
    shuffled = train.apply(lambda s: s.iloc[rng.permutation(len(s))].reset_index(drop=True))
    result = fidelity(train, shuffled, contract)
    assert result.shape_error == pytest.approx(0, abs=1e-9)
    assert result.trend_error > 5


def test_identifiers_and_personal_data_are_not_scored(placements_split):
    train, holdout, contract = placements_split
    result = fidelity(train, holdout, contract)
    assert "student_id" not in result.column_errors
    assert set(result.column_errors) == set(sdv_columns(contract))
    assert all(" ~ " in pair for pair in result.pair_errors)


def test_shapes_agree_with_sdmetrics_column_metrics(placements_split):
    """Independent recomputation: mean KS/TV complement over the learned columns."""
    from sdmetrics.single_column import KSComplement, TVComplement

    train, holdout, contract = placements_split
    result = fidelity(train, holdout, contract)
    scores = []
    for name, meta in sdv_columns(contract).items():
        real, synthetic = train[name], holdout[name]
        if meta["sdtype"] in ("numerical", "datetime"):
            real, synthetic = real.dropna(), synthetic.dropna()
            if meta["sdtype"] == "numerical":
                real, synthetic = real.astype(float), synthetic.astype(float)
            score = KSComplement.compute(real, synthetic)
        else:
            score = TVComplement.compute(_labels(real), _labels(synthetic))
        scores.append(score)
        assert result.column_errors[name] == pytest.approx(100 * (1 - score), abs=1e-3), name
    assert result.shape_error == pytest.approx(100 * (1 - np.mean(scores)), abs=1e-3)


def _report(train: pd.DataFrame, other: pd.DataFrame, contract):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
        columns = sdv_columns(contract)
        names = list(columns)
        report.generate(_plain(train[names]), _plain(other[names]), {"columns": columns}, verbose=False)
    return report


def test_shapes_and_pairs_agree_with_sdmetrics_single_table_report(placements_split):
    """SDMetrics' older single-table report is a separate code path; both must give the same figures
    (every pair scored, as in the papers: both reports' real-association thresholds set to 0), except
    where a number is binned against a category (see the next test)."""
    train, holdout, contract = placements_split
    report = _report(train, holdout, contract)
    expected = report.get_properties().set_index("Property")["Score"]
    result = fidelity(train, holdout, contract)
    assert result.shape_error == pytest.approx(100 * (1 - expected["Column Shapes"]), abs=1e-3)
    continuous = {
        n for n, meta in sdv_columns(contract).items() if meta["sdtype"] in ("numerical", "datetime")
    }
    details = report.get_details("Column Pair Trends")
    compared = 0
    for a, b, score in zip(details["Column 1"], details["Column 2"], details["Score"], strict=True):
        if (a in continuous) == (b in continuous):
            assert result.pair_errors[f"{a} ~ {b}"] == pytest.approx(100 * (1 - score), abs=1e-3), (a, b)
            compared += 1
    assert compared >= 3


def test_a_narrower_synthetic_range_does_not_shift_the_bins_of_number_by_category_pairs(placements_split):
    """The report bins a synthetic number on its own range: with the top 2 % of a column's values cut
    off, every bin edge moves and its pairs with categories look broken. On the real data's bins (as
    SDMetrics documents) the cut-off values stay in the top bin and the pairs score as they are."""
    train, _, contract = placements_split
    sdtypes = {name: meta["sdtype"] for name, meta in sdv_columns(contract).items()}
    number = next(n for n, t in sdtypes.items() if t == "numerical")
    values = train[number].astype("float64")
    synthetic = train.copy()
    synthetic[number] = values.clip(upper=values.quantile(0.98))
    result = fidelity(train, synthetic, contract)
    details = _report(train, synthetic, contract).get_details("Column Pair Trends")
    checked = 0
    for a, b, score in zip(details["Column 1"], details["Column 2"], details["Score"], strict=True):
        if number in (a, b) and sdtypes[b if a == number else a] == "categorical":
            ours, reported = result.pair_errors[f"{a} ~ {b}"], 100 * (1 - score)
            assert ours == pytest.approx(0, abs=1e-9) and reported > 5, (a, b, reported)
            checked += 1
    assert checked >= 2


def _labels(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "<missing>")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == "Int64":
            out[name] = out[name].astype(float)
        elif out[name].dtype == "boolean":
            out[name] = out[name].astype(object).where(out[name].notna(), np.nan)
    return out


def test_a_side_above_the_cap_is_scored_on_a_seeded_sample_and_says_so(placements_split):
    train, holdout, contract = placements_split
    whole = fidelity(train, holdout, contract)
    assert whole.rows == {"real": len(train), "synthetic": len(holdout), "sampled": False}
    capped = fidelity(train, holdout, contract, max_rows=60)
    assert capped.rows == {"real": 60, "synthetic": 60, "sampled": True}
    assert capped.shape_error != whole.shape_error
    again = fidelity(train, holdout, contract, max_rows=60)
    assert (again.shape_error, again.trend_error) == (capped.shape_error, capped.trend_error)
    assert fidelity(train, holdout, contract, max_rows=60, seed=1).rows["sampled"] is True
