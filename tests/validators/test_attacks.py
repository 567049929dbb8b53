"""Privacy attacks: a copier must be flagged by all three, a fresh sample of the population by none."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from support import fresh_keys, independent_draws, make_mixed_frame, mixed_contract

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators.attacks import (
    MAX_SECRETS,
    AttackRisk,
    Attacks,
    _multivariate_queries,
    _Queries,
    _random_queries,
    _Table,
    attack_risks,
    residual_risk,
    success_rate,
)

ROWS = 600
ATTACKS = 300
CONTRACT = mixed_contract()
SCORED = ["age", "income", "colour", "member", "start_date", "end_date"]
KINDS = ("singling_out", "linkability", "attribute_inference")


@pytest.fixture(scope="module")
def frames():
    return independent_draws(ROWS)


@pytest.fixture(scope="module")
def copies(frames) -> Attacks:
    train, holdout, _ = frames
    return attack_risks(train, holdout, fresh_keys(train), CONTRACT, seed=0, n_attacks=ATTACKS)


@pytest.fixture(scope="module")
def fresh(frames) -> Attacks:
    return attack_risks(*frames, CONTRACT, seed=0, n_attacks=ATTACKS)


@pytest.mark.parametrize("kind", KINDS)
def test_a_copier_is_flagged_by_every_attack(copies, kind):
    record = getattr(copies, kind)
    assert record.risk > 0.9
    assert record.interval[0] > 0.8
    assert record.main_rate > record.control_rate + 0.5
    assert record.main_rate > record.baseline_rate + 0.5
    assert record.n_attacks == ATTACKS


def test_a_copier_exposes_every_secret_column(copies):
    assert set(copies.attribute_inference.part_risks) == set(SCORED)
    assert min(copies.attribute_inference.part_risks.values()) > 0.8
    assert set(copies.singling_out.part_risks) == {"univariate", "multivariate"}
    assert min(copies.singling_out.part_risks.values()) > 0.8


@pytest.mark.parametrize("kind", KINDS)
def test_a_fresh_sample_of_the_population_shows_no_risk(fresh, kind):
    record = getattr(fresh, kind)
    assert record.risk < 0.2
    assert record.interval[0] < 0.1  # zero risk is inside, or next to, the 95 % interval
    for part in record.parts.values():
        assert part.interval[0] < 0.1


def test_a_smaller_holdout_does_not_make_a_fresh_sample_look_risky(frames):
    """Singling out scales the control's count to the train's size; a bad scaling reads as risk."""
    train, _, synthetic = frames
    small = make_mixed_frame(150, seed=7)
    result = attack_risks(train, small, synthetic, CONTRACT, seed=0, n_attacks=ATTACKS)
    assert result.rows["holdout"] == 150
    for part in result.singling_out.parts.values():
        assert part.interval[0] < 0.1
        assert part.risk < 0.2


def test_the_risk_is_the_excess_of_main_over_control(copies, fresh):
    for result in (copies, fresh):
        for kind in KINDS:
            record = getattr(result, kind)
            expected = (record.main_rate - record.control_rate) / (1 - record.control_rate)
            assert record.risk == pytest.approx(min(max(expected, 0.0), 1.0), abs=2e-3)
            assert record.interval[0] <= record.risk <= record.interval[1]


def test_the_headline_is_the_worst_part(copies, fresh):
    for result in (copies, fresh):
        for kind in ("singling_out", "attribute_inference"):
            record = getattr(result, kind)
            worst = max(record.parts.values(), key=lambda p: p.risk)
            assert record.risk == max(record.part_risks.values())
            assert record.interval == worst.interval


def test_same_seed_same_figures_other_seed_other_draws(frames):
    first = attack_risks(*frames, CONTRACT, seed=3, n_attacks=100).to_dict()
    again = attack_risks(*frames, CONTRACT, seed=3, n_attacks=100).to_dict()
    other = attack_risks(*frames, CONTRACT, seed=4, n_attacks=100).to_dict()
    assert json.dumps(first) == json.dumps(again)
    assert json.dumps(first) != json.dumps(other)


def test_wilson_interval_matches_the_hand_computed_value():
    # 20 successes in 100: z = 1.959964, z² = 3.841459
    # centre = (20 + z²/2) / (100 + z²) = 21.920729 / 103.841459 = 0.211098
    # error = z / (100 + z²) · √(20·80/100 + z²/4) = 0.018875 · 4.118292 = 0.077731
    centre, error = success_rate(20, 100)
    assert centre == pytest.approx(0.211098, abs=1e-6)
    assert error == pytest.approx(0.077731, abs=1e-6)
    assert (centre - error, centre + error) == pytest.approx((0.1334, 0.2888), abs=1e-4)  # Wilson's bounds
    centre, error = success_rate(0, 50)
    assert centre - error == pytest.approx(0.0, abs=1e-12)  # the interval starts at 0, not below
    assert centre > 0
    assert all(math.isnan(v) for v in success_rate(0, 0))


def test_residual_risk_propagates_both_errors_and_clips():
    # (0.6 − 0.2) / 0.8 = 0.5; error = √((0.05 / 0.8)² + (0.04 · (0.6 − 1) / 0.8²)²) = 0.067315
    risk, (low, high) = residual_risk((0.6, 0.05), (0.2, 0.04))
    assert risk == pytest.approx(0.5)
    assert (low, high) == pytest.approx((0.5 - 0.067315, 0.5 + 0.067315), abs=1e-6)
    risk, (low, high) = residual_risk((0.1, 0.02), (0.3, 0.02))  # control beats main: no risk
    assert (risk, low) == (0.0, 0.0)
    assert high == 0.0
    risk, interval = residual_risk((0.99, 0.01), (1.0, 0.0))  # nothing left for main to gain
    assert math.isnan(risk)


def test_secrets_and_halves_can_be_named(frames):
    result = attack_risks(
        *frames,
        CONTRACT,
        seed=0,
        n_attacks=50,
        secrets=["colour", "income"],
        aux_cols=(["age", "colour"], ["start_date"]),
    )
    assert list(result.attribute_inference.part_risks) == ["colour", "income"]
    assert not math.isnan(result.linkability.risk)
    with pytest.raises(ValueError, match="customer_id"):
        attack_risks(*frames, CONTRACT, secrets=["customer_id"])


def test_secrets_default_to_at_most_a_spread_of_the_scored_columns():
    columns = [Column(name=f"c{i}", kind=ColumnKind.INTEGER) for i in range(MAX_SECRETS + 4)]
    contract = Contract(dataset="wide", columns=columns)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c.name: rng.integers(0, 5, 80) for c in columns})
    result = attack_risks(frame, frame.iloc[:40], frame, contract, n_attacks=20)
    chosen = list(result.attribute_inference.part_risks)
    assert len(chosen) == MAX_SECRETS
    assert chosen[0] == "c0" and chosen[-1] == f"c{MAX_SECRETS + 3}"
    assert chosen == sorted(chosen, key=lambda n: int(n[1:]))


def test_tiny_frames_and_odd_columns_do_not_crash():
    train, holdout, synthetic = make_mixed_frame(5, 0), make_mixed_frame(3, 1), make_mixed_frame(4, 2)
    for frame in (train, holdout, synthetic):
        frame["member"] = pd.array([True] * len(frame), dtype="boolean")  # one value
        frame["colour"] = None  # all null
        frame["income"] = np.nan
    result = attack_risks(train, holdout, synthetic, CONTRACT, n_attacks=500)
    assert result.rows["targets"] == 3
    for kind in KINDS:
        record = getattr(result, kind)
        assert (
            math.isnan(record.risk) or 0.0 <= record.interval[0] <= record.risk <= record.interval[1] <= 1.0
        )
    json.dumps(result.to_dict())


def test_one_scored_column_leaves_linkability_and_inference_unmeasured():
    contract = Contract(dataset="one", columns=[Column(name="x", kind=ColumnKind.FLOAT)])
    rng = np.random.default_rng(0)
    train, holdout, synthetic = (pd.DataFrame({"x": rng.normal(size=200)}) for _ in range(3))
    result = attack_risks(train, holdout, synthetic, contract, n_attacks=100)
    assert not math.isnan(result.singling_out.risk)
    for record in (result.linkability, result.attribute_inference):
        assert math.isnan(record.risk)
        assert "two scored columns" in record.note
        assert record.n_attacks == 0
    assert json.dumps(result.to_dict(), allow_nan=True)


def test_empty_synthetic_data_measures_nothing(frames):
    train, holdout, synthetic = frames
    result = attack_risks(train, holdout, synthetic.iloc[:0], CONTRACT)
    for kind in KINDS:
        assert math.isnan(getattr(result, kind).risk)
        assert "rows" in getattr(result, kind).note


def test_to_dict_is_plain_json(copies):
    out = copies.to_dict()
    assert set(out) == {*KINDS, "rows"}
    record = out["attribute_inference"]
    assert set(record) >= {
        "risk",
        "interval",
        "main_rate",
        "control_rate",
        "baseline_rate",
        "n_attacks",
        "parts",
    }
    assert set(record["parts"]) == set(SCORED)
    assert json.loads(json.dumps(out)) == out
    assert isinstance(AttackRisk(0.0, (0.0, 0.0), 0.0, 0.0, 0.0, 0).to_dict()["interval"], list)


def test_range_counting_agrees_with_checking_every_row():
    """Singling out counts a predicate's matches from sorted columns, checking few rows where it
    can; every row against every predicate must give the same answers."""
    rng = np.random.default_rng(0)
    matrix = np.column_stack([rng.integers(0, k, 3000) for k in (4, 30, 3000, 6)]).astype("float64")
    matrix[rng.random(matrix.shape) < 0.05] = np.inf  # nulls
    table = _Table(matrix)
    categorical = [True, False, False, True]
    for terms in (1, 2, 3):
        drawn = _random_queries(table, 1000, terms, categorical, rng)
        built = _multivariate_queries(table, categorical, terms, 50, rng)  # each singles out a row
        queries = _Queries(  # no "≠" here: count_dense alone checks those
            np.vstack([drawn.columns, built.columns]),
            np.vstack([drawn.low, built.low]),
            np.vstack([drawn.high, built.high]),
        )
        dense = table.count_dense(queries)
        assert (table.count(queries) == dense).all()
        assert (table.singles_out(queries) == (dense == 1)).all()
        assert (dense[len(drawn) :] == 1).all()
        assert (dense[: len(drawn)] > 1).any()
