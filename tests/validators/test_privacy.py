"""Privacy figures: a copier must stand out on every one, a fresh sample of the population on none."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import fresh_keys, independent_draws, make_mixed_frame, mixed_contract

from synthwright.validators.privacy import Privacy, pii_verbatim, privacy

ROWS = 400
CONTRACT = mixed_contract()


@pytest.fixture(scope="module")
def frames():
    """Train, holdout and a fresh synthetic sample: three independent draws of one population."""
    return independent_draws(ROWS)


@pytest.fixture(scope="module")
def fresh(frames) -> Privacy:
    train, holdout, synthetic = frames
    return privacy(train, holdout, synthetic, CONTRACT, seed=0)


@pytest.fixture(scope="module")
def copies(frames) -> Privacy:
    """The synthetic rows are the training rows (new ids and e-mails, so only the learned columns copy)."""
    train, holdout, _ = frames
    return privacy(train, holdout, fresh_keys(train), CONTRACT, seed=0)


def test_dcr_share_is_about_half_for_a_fresh_sample(fresh):
    assert fresh.dcr_share == pytest.approx(0.5, abs=0.07)
    low, high = fresh.dcr_share_interval
    assert low <= fresh.dcr_share <= high
    assert low < 0.5 < high  # the ideal value is inside the 95 % interval
    assert high - low < 0.15


def test_dcr_share_is_one_for_copies_of_the_training_rows(copies):
    assert copies.dcr_share == 1.0
    low, high = copies.dcr_share_interval
    assert low <= copies.dcr_share <= high
    assert (low, high) == (1.0, 1.0)
    assert (copies.dcr_train == 0).all()
    assert (copies.dcr_holdout > 0).all()


def test_dcr_share_for_half_copies_lies_between(frames):
    train, holdout, synthetic = frames
    half = pd.concat([fresh_keys(train.iloc[:200]), synthetic.iloc[:200]], ignore_index=True)
    result = privacy(train, holdout, half, CONTRACT, seed=0)
    assert result.dcr_share == pytest.approx(0.75, abs=0.06)
    low, high = result.dcr_share_interval
    assert low <= result.dcr_share <= high


def test_dcr_interval_is_ordered_and_narrows_with_more_rows():
    small = privacy(
        make_mixed_frame(100, 10), make_mixed_frame(100, 11), fresh_keys(make_mixed_frame(100, 12)), CONTRACT
    )
    large = privacy(
        make_mixed_frame(800, 10), make_mixed_frame(800, 11), fresh_keys(make_mixed_frame(800, 12)), CONTRACT
    )
    for result in (small, large):
        low, high = result.dcr_share_interval
        assert 0 <= low <= result.dcr_share <= high <= 1
    assert large.dcr_share_interval[1] - large.dcr_share_interval[0] < (
        small.dcr_share_interval[1] - small.dcr_share_interval[0]
    )


def test_exact_matches_count_copies_of_train_and_of_holdout(frames):
    train, holdout, synthetic = frames
    # 100 train copies, 20 holdout copies, 280 fresh rows
    mixed_rows = pd.concat(
        [fresh_keys(train.iloc[:100]), fresh_keys(holdout.iloc[:20]), synthetic.iloc[:280]], ignore_index=True
    )
    result = privacy(train, holdout, mixed_rows, CONTRACT, seed=0)
    assert result.exact_match_train == pytest.approx(100 / 400)
    assert result.exact_match_holdout == pytest.approx(20 / 400)
    assert result.exact_match_excess == pytest.approx(100 * (100 - 20) / 400)
    assert result.to_dict()["exact_match_excess_pp"] == pytest.approx(20.0)


def test_exact_matches_of_copies_and_fresh_rows(copies, fresh):
    assert (copies.exact_match_train, copies.exact_match_holdout) == (1.0, 0.0)
    assert copies.exact_match_excess == 100.0
    assert (fresh.exact_match_train, fresh.exact_match_holdout, fresh.exact_match_excess) == (0.0, 0.0, 0.0)


def test_an_exact_match_needs_every_learned_column_and_nulls_match_nulls(frames):
    train, holdout, synthetic = frames
    copied = fresh_keys(train.iloc[:50])
    nudged = copied.copy()
    nudged["income"] = nudged["income"] + 0.01  # one learned column off by a cent: not a copy
    result = privacy(train, holdout, pd.concat([copied, nudged], ignore_index=True), CONTRACT)
    assert result.exact_match_train == pytest.approx(0.5)
    assert train["colour"].iloc[:50].isna().any()  # the copied rows include null colours, which match


def test_exact_matches_do_not_depend_on_the_integer_dtype(frames):
    train, holdout, _ = frames
    copies = fresh_keys(train)
    copies["age"] = copies["age"].astype("float64")  # same values, as a float column
    result = privacy(train, holdout, copies, CONTRACT)
    assert (result.dcr_train == 0).all()  # the distance space sees copies
    assert result.exact_match_train == 1.0, result.to_dict()


def test_nndr_is_zero_for_copies_and_not_for_fresh_rows(copies, fresh):
    assert copies.nndr_median == 0.0
    assert 0.5 < fresh.nndr_median <= 1.0
    assert fresh.nndr_median_holdout == pytest.approx(fresh.nndr_median, abs=0.15)
    assert copies.nndr_median_holdout == fresh.nndr_median_holdout  # the holdout's own figure: same rows


def test_membership_inference_wins_on_copies_and_guesses_on_fresh_rows(copies, fresh):
    assert copies.mia_auc == 1.0  # every member is at distance 0, every non-member above
    assert fresh.mia_auc == pytest.approx(0.5, abs=0.07)


def test_membership_inference_on_partial_copies_is_in_between(frames):
    train, holdout, synthetic = frames
    quarter = pd.concat([fresh_keys(train.iloc[:100]), synthetic.iloc[:300]], ignore_index=True)
    result = privacy(train, holdout, quarter, CONTRACT, seed=0)
    assert 0.6 < result.mia_auc < 0.9


def test_a_copier_with_an_80_20_split_lands_near_five_eighths():
    """Train is sampled down to the holdout size, so only that share of copied rows can be seen as copies:
    a pure copier scores 0.5 + 0.5 × holdout/train."""
    train, holdout = make_mixed_frame(800, 0), make_mixed_frame(200, 1)
    copier = fresh_keys(train.iloc[np.random.default_rng(0).integers(0, 800, 800)].reset_index(drop=True))
    result = privacy(train, holdout, copier, CONTRACT)
    assert result.dcr_share == pytest.approx(0.625, abs=0.04)


def test_a_copier_with_a_small_holdout_dilutes_dcr_but_fails_the_privacy_gate():
    """Only copies of the sampled train rows are closer to train: a copier scores about
    0.5 + 0.5 × holdout/train (0.55 at 90/10, under dcr_share_max), so exact matches and the
    membership attack carry the privacy gate there."""
    from synthwright.validators.contract import ContractReport
    from synthwright.validators.fidelity import Fidelity
    from synthwright.validators.gates import Gates, score

    train, holdout = make_mixed_frame(900, 0), make_mixed_frame(100, 1)
    copier = fresh_keys(train.iloc[np.random.default_rng(0).integers(0, 900, 900)].reset_index(drop=True))
    result = privacy(train, holdout, copier, CONTRACT)
    assert result.dcr_share == pytest.approx(0.5 + 0.5 * 100 / 900, abs=0.05)
    card = score(Gates(), Fidelity(0.0, 0.0), ContractReport("s", 1, []), privacy=result)
    assert {"exact_match_excess", "mia_auc"} <= {m.name for m in card.failures}, card.lines()


def test_pii_verbatim_counts_copied_personal_data(frames):
    train, holdout, synthetic = frames
    leaked = synthetic.copy()
    leaked.loc[:9, "email"] = train["email"].iloc[:10].to_numpy()  # 10 from train
    leaked.loc[10:14, "email"] = holdout["email"].iloc[:5].to_numpy()  # and 5 "from" holdout
    leaked.loc[15:16, "email"] = None  # nulls are not values
    result = privacy(train, holdout, leaked, CONTRACT, seed=0)
    assert result.pii_verbatim == {"email": 15}
    assert pii_verbatim(pd.concat([train, holdout]), leaked, CONTRACT) == {"email": 15}


def test_pii_verbatim_is_zero_for_fresh_values_and_counts_every_copy(frames, copies, fresh):
    train, holdout, _ = frames
    assert fresh.pii_verbatim == {"email": 0}
    # the learned columns copied but e-mails faked: no personal data leaked
    assert copies.pii_verbatim == {"email": 0}
    assert privacy(train, holdout, train.copy(), CONTRACT).pii_verbatim == {"email": ROWS}


def test_pii_verbatim_skips_a_personal_data_column_the_output_lacks(frames):
    train, holdout, synthetic = frames
    assert pii_verbatim(train, synthetic.drop(columns="email"), CONTRACT) == {}


def test_max_rows_subsamples_every_side_and_says_so():
    train, holdout = make_mixed_frame(300, 20), make_mixed_frame(200, 21)
    synthetic = fresh_keys(make_mixed_frame(250, 22))
    result = privacy(train, holdout, synthetic, CONTRACT, max_rows=100)
    assert {k: result.rows[k] for k in ("synthetic", "train", "holdout")} == {
        "synthetic": 100,
        "train": 100,
        "holdout": 100,
    }
    assert result.rows["sampled"] is True
    assert len(result.dcr_train) == len(result.dcr_holdout) == 100


def test_train_is_sampled_to_the_holdout_size():
    train, holdout = make_mixed_frame(300, 20), make_mixed_frame(120, 21)
    result = privacy(train, holdout, fresh_keys(make_mixed_frame(90, 22)), CONTRACT)
    assert {k: result.rows[k] for k in ("synthetic", "train", "holdout")} == {
        "synthetic": 90,
        "train": 120,
        "holdout": 120,
    }
    assert result.rows["sampled"] is False  # no table was larger than max_rows


def test_only_a_table_larger_than_max_rows_counts_as_sampled():
    train, holdout = make_mixed_frame(120, 20), make_mixed_frame(300, 21)
    # the holdout is cut to the train size (equal sides are the method), but no table exceeds max_rows
    result = privacy(train, holdout, fresh_keys(make_mixed_frame(100, 22)), CONTRACT)
    assert (result.rows["holdout"], result.rows["sampled"]) == (120, False)
    # one synthetic table over max_rows is enough
    result = privacy(train, holdout, fresh_keys(make_mixed_frame(400, 22)), CONTRACT, max_rows=300)
    assert (result.rows["synthetic"], result.rows["sampled"]) == (300, True)


def test_nothing_is_sampled_when_every_side_fits(frames, fresh):
    assert {k: fresh.rows[k] for k in ("synthetic", "train", "holdout")} == {
        "synthetic": ROWS,
        "train": ROWS,
        "holdout": ROWS,
    }
    assert fresh.rows["sampled"] is False


def test_seeded_results_are_identical(frames):
    train, holdout, synthetic = frames
    train = make_mixed_frame(600, 0)  # larger than the holdout: the train sample depends on the seed
    first = privacy(train, holdout, synthetic, CONTRACT, seed=7, max_rows=300)
    second = privacy(train, holdout, synthetic, CONTRACT, seed=7, max_rows=300)
    assert first == second
    assert first.to_dict() == second.to_dict()
    np.testing.assert_array_equal(first.dcr_train, second.dcr_train)
    other = privacy(train, holdout, synthetic, CONTRACT, seed=8, max_rows=300)
    assert not np.array_equal(first.dcr_train, other.dcr_train)  # the seed does choose the rows


def test_to_dict_is_plain_json(fresh):
    data = json.loads(json.dumps(fresh.to_dict(), allow_nan=False))
    assert data["dcr_share"] == fresh.dcr_share
    assert data["dcr_share_interval"] == list(fresh.dcr_share_interval)
    assert set(data) >= {"exact_match_excess_pp", "mia_auc", "nndr_median", "pii_verbatim", "rows"}
