"""Detection: a classifier two-sample test, overall and per column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators.fidelity import Detection, detection

PAIR = Contract(
    dataset="pair",
    columns=[
        Column(name="a", kind=ColumnKind.FLOAT),
        Column(name="b", kind=ColumnKind.FLOAT),
        Column(name="colour", kind=ColumnKind.CATEGORICAL, values=["blue", "green", "red"]),
    ],
)


def _pair(rows: int, seed: int) -> pd.DataFrame:
    """b follows a closely; colour is independent of both."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 10, rows)
    return pd.DataFrame(
        {
            "a": a,
            "b": a + rng.normal(0, 0.3, rows),
            "colour": rng.choice(["red", "green", "blue"], rows).astype(object),
        }
    )


def test_two_samples_of_one_distribution_cannot_be_told_apart():
    result = detection(make_mixed_frame(500, 0), make_mixed_frame(500, 1), mixed_contract(), seed=0)
    assert result.auc == pytest.approx(0.5, abs=0.07), result
    assert result.rows_per_side == 500
    assert all(abs(auc - 0.5) < 0.1 for auc in result.column_auc.values()), result.column_auc


def test_a_shifted_column_is_detected_and_named():
    real, synthetic = make_mixed_frame(500, 0), make_mixed_frame(500, 1)
    synthetic["income"] = synthetic["income"] + 50_000  # about three standard deviations
    result = detection(real, synthetic, mixed_contract(), seed=0)
    assert result.auc > 0.9, result
    assert max(result.column_auc, key=result.column_auc.get) == "income"
    assert result.column_auc["income"] > 0.9
    others = {k: v for k, v in result.column_auc.items() if k != "income"}
    assert max(others.values()) < 0.6, others


def test_a_broken_dependency_with_identical_marginals_is_detected_overall_only():
    real, synthetic = _pair(600, 0), _pair(600, 1)
    synthetic["b"] = synthetic["b"].to_numpy()[np.random.default_rng(0).permutation(600)]
    result = detection(real, synthetic, PAIR, seed=0)
    assert result.auc > 0.9, result
    # each column alone looks real: only the rows give the synthetic data away
    assert all(abs(auc - 0.5) < 0.1 for auc in result.column_auc.values()), result.column_auc


def test_a_shuffle_of_the_same_rows_is_detected():
    """Real and synthetic share values exactly; only the pairing of a and b differs."""
    real = _pair(600, 0)
    synthetic = real.copy()
    synthetic["b"] = synthetic["b"].to_numpy()[np.random.default_rng(1).permutation(600)]
    result = detection(real, synthetic, PAIR, seed=0)
    assert result.auc > 0.9, result


def test_identifiers_and_personal_data_are_not_used():
    """Different ids and e-mails on every row would give the rows away if they were features."""
    real, synthetic = make_mixed_frame(400, 0), make_mixed_frame(400, 1)
    synthetic["customer_id"] = synthetic["customer_id"] + 10_000
    synthetic["email"] = [f"fake{i}@example.org" for i in range(400)]
    result = detection(real, synthetic, mixed_contract(), seed=0)
    assert result.auc < 0.6
    assert set(result.column_auc) == {"age", "income", "colour", "member", "start_date", "end_date"}


def test_seeded_results_repeat_and_the_seed_matters():
    real, synthetic = make_mixed_frame(600, 0), make_mixed_frame(300, 1)
    first = detection(real, synthetic, mixed_contract(), seed=4)
    assert first == detection(real, synthetic, mixed_contract(), seed=4)
    assert first.column_auc  # compared too: per-column figures repeat as well
    # the real side is sampled down to the synthetic size, by the seed
    assert first.rows_per_side == 300
    assert detection(real, synthetic, mixed_contract(), seed=5, per_column=False).auc != first.auc


def test_sides_are_sampled_to_equal_size_and_max_rows():
    real, synthetic = make_mixed_frame(300, 0), make_mixed_frame(200, 1)
    assert detection(real, synthetic, mixed_contract(), per_column=False).rows_per_side == 200
    capped = detection(real, synthetic, mixed_contract(), max_rows=50, per_column=False)
    assert capped.rows_per_side == 50
    assert capped.column_auc == {}


def test_too_few_rows_give_nan_not_a_crash():
    result = detection(make_mixed_frame(1, 0), make_mixed_frame(5, 1), mixed_contract())
    assert np.isnan(result.auc)
    assert result.rows_per_side == 1


def test_to_dict_is_plain_json():
    result = detection(_pair(200, 0), _pair(200, 1), PAIR)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data == {"auc": result.auc, "rows_per_side": 200, "column_auc": result.column_auc}
    assert isinstance(result, Detection)
