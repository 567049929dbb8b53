"""The condition sampler: condition vectors, training rows that hold them, values drawn by frequency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.generators.neural.condition_sampler import ConditionSampler
from synthwright.generators.neural.encoding import TableEncoding


@pytest.fixture(scope="module")
def sampler_and_codes():
    rng = np.random.default_rng(0)
    rows = 600
    frame = pd.DataFrame(
        {
            "size": rng.choice(["s", "m", "l", "xl"], rows, p=[0.55, 0.3, 0.1, 0.05]).astype(object),
            "flag": pd.array(rng.random(rows) < 0.3, dtype="boolean"),
            "shade": rng.choice(["dark", "light"], rows, p=[0.8, 0.2]).astype(object),
        }
    )
    contract = Contract(
        dataset="conditions",
        columns=[
            Column(name="size", kind=ColumnKind.CATEGORICAL, values=["s", "m", "l", "xl"]),
            Column(name="flag", kind=ColumnKind.BOOLEAN),
            Column(name="shade", kind=ColumnKind.CATEGORICAL, values=["dark", "light"]),
        ],
    )
    encoding, _, codes = TableEncoding.fit_transform(
        frame, contract, max_modes=10, max_categories=1000, mode_fit_rows=10_000, spike_share=0.05, seed=0
    )
    return ConditionSampler.build(encoding, codes), codes


def test_condition_vectors_hold_one_one_in_the_chosen_slice(sampler_and_codes):
    sampler, _ = sampler_and_codes
    assert sampler.n_columns == 3 and sampler.dim == 4 + 2 + 2
    assert sampler.offsets.tolist() == [0, 4, 6]
    rng = np.random.default_rng(1)
    columns = rng.integers(sampler.n_columns, size=200)
    values = sampler.draw_values(columns, rng, log=True)
    assert (values < sampler.widths[columns]).all() and (values >= 0).all()
    vectors = sampler.vectors(columns, values)
    assert vectors.dtype == np.float32 and vectors.shape == (200, sampler.dim)
    assert (vectors.sum(axis=1) == 1).all()
    assert (vectors[np.arange(200), sampler.offsets[columns] + values] == 1).all()
    for j in range(sampler.n_columns):  # nothing outside the chosen column's slice
        start, stop = sampler.offsets[j], sampler.offsets[j] + sampler.widths[j]
        assert (vectors[columns != j, start:stop] == 0).all()


def test_training_rows_hold_the_asked_value(sampler_and_codes):
    sampler, codes = sampler_and_codes
    rng = np.random.default_rng(2)
    columns = rng.integers(sampler.n_columns, size=1000)
    values = sampler.draw_values(columns, rng, log=True)
    rows = sampler.training_rows(columns, values, rng)
    assert ((rows >= 0) & (rows < len(codes))).all()
    assert (codes[rows, columns] == values).all()
    assert (sampler.own_values(rows, columns) == values).all()
    # the rarest value (xl, the last slot of size) is still found
    rare = np.full(50, 3)
    assert (codes[sampler.training_rows(np.zeros(50, dtype=np.int64), rare, rng), 0] == 3).all()


@pytest.mark.parametrize("log", [False, True])
def test_drawn_values_follow_the_training_frequencies(sampler_and_codes, log):
    sampler, codes = sampler_and_codes
    rng = np.random.default_rng(3)
    draws = 40_000
    for j in range(sampler.n_columns):
        values = sampler.draw_values(np.full(draws, j), rng, log=log)
        got = np.bincount(values, minlength=sampler.widths[j]) / draws
        counts = np.bincount(codes[:, j], minlength=sampler.widths[j]).astype(float)
        weights = np.log1p(counts) if log else counts
        np.testing.assert_allclose(got, weights / weights.sum(), atol=0.015)


def test_a_sampler_built_without_codes_still_makes_vectors(sampler_and_codes):
    sampler, _ = sampler_and_codes
    bare = ConditionSampler(sampler.offsets, sampler.widths, sampler.cumulative, sampler.cumulative_log)
    assert bare.pool_rows is None
    columns, values = np.array([0, 1, 2]), np.array([3, 1, 0])
    np.testing.assert_array_equal(bare.vectors(columns, values), sampler.vectors(columns, values))
