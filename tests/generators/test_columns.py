"""The column plan: what a model learns, and how rules, identifiers and personal data come back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.generators.columns import ColumnPlan


def _dates(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)), dtype="datetime64[ns]")


def test_model_contract_drops_identifiers_and_personal_data(mixed, mixed_frame):
    plan = ColumnPlan.fit(mixed, mixed_frame)
    learned = plan.model_contract.names
    assert "customer_id" not in learned and "email" not in learned
    assert plan.model_contract.rules == []


def test_date_rule_is_learned_as_a_whole_day_gap_and_restored(mixed, mixed_frame):
    plan = ColumnPlan.fit(mixed, mixed_frame)
    assert [(g.left, g.right, g.unit) for g in plan.gaps] == [("start_date", "end_date", "days")]
    gap_column = plan.model_contract.column("end_date")
    assert gap_column.kind is ColumnKind.INTEGER and gap_column.min == 0
    encoded = plan.encode(mixed_frame)
    expected = (mixed_frame["end_date"] - mixed_frame["start_date"]).dt.days
    assert encoded["end_date"].tolist() == expected.tolist()
    decoded = plan.decode(encoded, seed=0)
    pd.testing.assert_series_equal(decoded["end_date"], mixed_frame["end_date"])


def test_a_negative_sampled_gap_cannot_break_the_rule(mixed, mixed_frame):
    plan = ColumnPlan.fit(mixed, mixed_frame)
    encoded = plan.encode(mixed_frame).head(3).copy()
    encoded["end_date"] = pd.array([-5, 0, 4], dtype="Int64")
    decoded = plan.decode(encoded, seed=0)
    assert (decoded["end_date"] >= decoded["start_date"]).all()
    assert (decoded["end_date"] - decoded["start_date"]).dt.days.tolist() == [0, 0, 4]


def _numbers_contract(op: str = "<=") -> Contract:
    return Contract(
        columns=[
            Column(name="low", kind=ColumnKind.INTEGER, nullable=True),
            Column(name="high", kind=ColumnKind.INTEGER, nullable=True),
        ],
        rules=[f"low {op} high"],
    )


def test_strict_integer_rule_keeps_a_gap_of_at_least_one():
    contract = _numbers_contract("<")
    data = pd.DataFrame({"low": pd.array([1, 5], dtype="Int64"), "high": pd.array([3, 9], dtype="Int64")})
    plan = ColumnPlan.fit(contract, data)
    assert plan.gaps and plan.gaps[0].strict and plan.model_contract.column("high").min == 1
    decoded = plan.decode(pd.DataFrame({"low": [1, 5], "high": [0.0, -3.0]}), seed=0)
    assert (decoded["high"] - decoded["low"]).tolist() == [1, 1]


def test_rule_falls_back_to_repair_when_the_upper_side_can_exist_alone():
    contract = _numbers_contract()
    data = pd.DataFrame({"low": pd.array([1, None], dtype="Int64"), "high": pd.array([3, 9], dtype="Int64")})
    plan = ColumnPlan.fit(contract, data)
    assert plan.gaps == [] and [str(r) for r in plan.repaired_rules] == ["low <= high"]
    assert plan.model_contract.column("high").kind is ColumnKind.INTEGER
    decoded = plan.decode(
        pd.DataFrame({"low": pd.array([7, None], dtype="Int64"), "high": pd.array([2, 4], dtype="Int64")}),
        seed=0,
    )
    assert decoded["high"].tolist() == [7, 4]


def test_chained_rules_re_express_each_column_once_and_all_hold():
    contract = Contract(
        columns=[Column(name=n, kind=ColumnKind.DATETIME) for n in ("a", "b", "c")],
        rules=["a <= b", "b <= c", "a <= c"],
    )
    data = pd.DataFrame(
        {"a": _dates("2024-01-01 10:00"), "b": _dates("2024-01-02 11:00"), "c": _dates("2024-01-05 12:00")}
    )
    plan = ColumnPlan.fit(contract, data)
    # b is re-expressed from a, so `b <= c` cannot also re-express c from b: c is re-expressed from a
    # and lifted to b afterwards where needed.
    assert [(g.left, g.right, g.unit) for g in plan.gaps] == [("a", "b", "seconds"), ("a", "c", "seconds")]
    assert [str(r) for r in plan.repaired_rules] == ["b <= c"]
    decoded = plan.decode(plan.encode(data), seed=0)
    pd.testing.assert_frame_equal(decoded, data)
    shuffled = plan.encode(data).assign(b=[9.0e5], c=[1.0])  # gaps that would put c before b
    decoded = plan.decode(shuffled, seed=0)
    assert (decoded["a"] <= decoded["b"]).all() and (decoded["b"] <= decoded["c"]).all()


def test_personal_data_fakes_are_seeded_and_unique_when_required():
    contract = Contract(
        columns=[
            Column(name="n", kind=ColumnKind.INTEGER),
            Column(name="email", kind=ColumnKind.TEXT, pii="email", unique=True),
            Column(name="phone", kind=ColumnKind.TEXT, pii="phone", nullable=True),
        ]
    )
    data = pd.DataFrame(
        {"n": pd.array([1, 2], dtype="Int64"), "email": ["a@x.org", "b@x.org"], "phone": ["1", None]}
    )
    plan = ColumnPlan.fit(contract, data)
    rows = pd.DataFrame({"n": pd.array(np.arange(500), dtype="Int64")})
    first, again, other = plan.decode(rows, seed=1), plan.decode(rows, seed=1), plan.decode(rows, seed=2)
    pd.testing.assert_frame_equal(first, again)
    assert not first["email"].equals(other["email"])
    assert first["email"].is_unique and first["email"].str.contains("@").all()


@pytest.mark.parametrize(
    "id_type, expected", [("integer", [1, 2, 3]), ("string", ["syn-000001", "syn-000002", "syn-000003"])]
)
def test_identifiers_are_fresh_sequences(id_type, expected):
    contract = Contract(
        columns=[
            Column(name="id", kind=ColumnKind.IDENTIFIER, id_type=id_type, unique=True),
            Column(name="x", kind=ColumnKind.FLOAT),
        ],
        primary_key="id",
    )
    plan = ColumnPlan.fit(contract, pd.DataFrame({"id": [10, 20], "x": [0.5, 1.5]}))
    decoded = plan.decode(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), seed=0)
    assert decoded["id"].tolist() == expected and list(decoded.columns) == ["id", "x"]
