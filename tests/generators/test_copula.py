"""The copula's fit-size cap: above `max_fit_rows` it fits on a seeded sample, and says so."""

from __future__ import annotations

import pandas as pd
from support import make_mixed_frame, mixed_contract

from synthwright.generators.copula import FIT_MAX_ROWS
from synthwright.generators.registry import create_generator


def test_more_rows_than_max_fit_rows_fits_a_seeded_sample_and_says_so():
    frame, contract = make_mixed_frame(rows=160, seed=3), mixed_contract()
    messages = []
    capped = create_generator("copula", {"max_fit_rows": 80}, seed=5)
    capped.fit(frame, contract, progress=lambda update: messages.append(update.message))
    assert "a seeded sample of 80 of 160 rows" in messages[0]
    again = create_generator("copula", {"max_fit_rows": 80}, seed=5).fit(frame, contract)
    pd.testing.assert_frame_equal(capped.sample(50, seed=1), again.sample(50, seed=1))
    whole = create_generator("copula", {"max_fit_rows": None}, seed=5).fit(frame, contract)
    default = create_generator("copula", seed=5).fit(frame, contract)  # 160 rows: under the default cap
    assert default.config.max_fit_rows == FIT_MAX_ROWS
    pd.testing.assert_frame_equal(whole.sample(50, seed=1), default.sample(50, seed=1))


def test_the_rows_fitted_are_recorded_and_survive_a_save(tmp_path):
    from synthwright.generators.base import Generator

    frame, contract = make_mixed_frame(rows=160, seed=3), mixed_contract()
    capped = create_generator("copula", {"max_fit_rows": 80}, seed=5).fit(frame, contract)
    assert (capped.n_training_rows_, capped.n_fitted_rows_) == (160, 80)
    capped.save(tmp_path / "model")
    loaded = Generator.load(tmp_path / "model")
    assert (loaded.n_training_rows_, loaded.n_fitted_rows_) == (160, 80)
    assert create_generator("copula", seed=5).fit(frame, contract).n_fitted_rows_ == 160
