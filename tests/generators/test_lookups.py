"""Columns a category determines: found strictly, filled by look-up, and conditions on them translated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data_contracts.model import Column, ColumnKind, Contract
from generators.columns import ColumnPlan
from generators.lookups import MIN_ROWS, find_lookups, translate_conditions
from generators.registry import create_generator
from synthwright.errors import ConfigError

LEVELS = {"Bachelors": 13, "HS-grad": 9, "Masters": 14, "Some-college": 10}


def _schooling(rows: int = 240, seed: int = 0) -> tuple[pd.DataFrame, Contract]:
    """Adult's education → education-num, with a flag a level determines and columns it does not."""
    rng = np.random.default_rng(seed)
    level = rng.choice(list(LEVELS), rows, p=[0.3, 0.4, 0.1, 0.2])
    frame = pd.DataFrame(
        {
            "level": level.astype(object),
            "level_num": pd.array([LEVELS[v] for v in level], dtype="Int64"),
            "graduate": pd.array([v in ("Bachelors", "Masters") for v in level], dtype="boolean"),
            "age": pd.array(rng.integers(18, 70, rows), dtype="Int64"),
            "hours": np.round(rng.normal(40, 8, rows), 1),
        }
    )
    contract = Contract(
        dataset="schooling",
        columns=[
            Column(name="level", kind=ColumnKind.CATEGORICAL, values=sorted(LEVELS)),
            Column(name="level_num", kind=ColumnKind.INTEGER, min=1, max=16),
            Column(name="graduate", kind=ColumnKind.BOOLEAN),
            Column(name="age", kind=ColumnKind.INTEGER, min=18, max=90),
            Column(name="hours", kind=ColumnKind.FLOAT, min=0, max=99),
        ],
    )
    return frame, contract


def test_a_column_a_category_determines_is_filled_by_look_up():
    frame, contract = _schooling()
    plan = ColumnPlan.fit(contract, frame)
    assert [(lk.source, lk.target) for lk in plan.lookups] == [("level", "level_num"), ("level", "graduate")]
    table = dict(zip(plan.lookups[0].values, plan.lookups[0].targets, strict=True))
    assert table == LEVELS
    assert plan.model_contract.names == ["level", "age", "hours"]
    decoded = plan.decode(plan.encode(frame), seed=0)
    assert decoded["level_num"].tolist() == frame["level_num"].tolist()
    assert decoded["graduate"].tolist() == frame["graduate"].tolist()


def test_one_row_against_the_mapping_and_it_is_no_look_up():
    frame, contract = _schooling()
    frame.loc[5, "level_num"] = LEVELS[frame.loc[5, "level"]] + 1
    assert ("level", "level_num") not in [
        (lk.source, lk.target) for lk in find_lookups(contract, frame, contract.names)
    ]


def test_a_source_value_held_by_fewer_than_min_rows_rows_finds_nothing():
    frame, contract = _schooling()
    rare = frame.index[frame["level"] == "Masters"][: -(MIN_ROWS - 1)]
    small = frame.drop(index=rare).reset_index(drop=True)
    assert (small["level"] == "Masters").sum() == MIN_ROWS - 1
    assert find_lookups(contract, small, contract.names) == []
    assert find_lookups(contract, frame, contract.names) != []


def test_constant_personal_and_unrelated_columns_are_not_targets_and_numbers_are_not_sources():
    frame, contract = _schooling()
    frame["country"] = "US"
    frame["email"] = frame["level"] + "@example.com"  # a function of level, but personal data
    contract = Contract(
        dataset="schooling",
        columns=[
            *contract.columns,
            Column(name="country", kind=ColumnKind.CATEGORICAL),
            Column(name="email", kind=ColumnKind.TEXT, pii="email"),
        ],
    )
    found = {(lk.source, lk.target) for lk in find_lookups(contract, frame, contract.names)}
    assert found == {("level", "level_num"), ("level", "graduate")}  # level_num → level is not taken


def test_look_ups_do_not_chain():
    frame, contract = _schooling()
    frame["band"] = frame["graduate"].map({True: "degree", False: "no degree"}).astype(object)
    contract = Contract(
        dataset="schooling", columns=[*contract.columns, Column(name="band", kind=ColumnKind.CATEGORICAL)]
    )
    found = [(lk.source, lk.target) for lk in find_lookups(contract, frame, contract.names)]
    # graduate determines band too, but graduate is itself filled: band comes from level
    assert found == [("level", "level_num"), ("level", "graduate"), ("level", "band")]


def test_nulls_are_a_source_value_and_a_target_value_of_their_own():
    frame, contract = _schooling()
    frame["level"] = frame["level"].where(frame["level"] != "Some-college", None)
    frame["level_num"] = frame["level_num"].where(frame["level"].notna(), pd.NA)
    contract = Contract(
        dataset="schooling",
        columns=[
            Column(name="level", kind=ColumnKind.CATEGORICAL, nullable=True),
            Column(name="level_num", kind=ColumnKind.INTEGER, nullable=True),
        ],
    )
    (lookup,) = find_lookups(contract, frame, contract.names)
    assert dict(zip(lookup.values, lookup.targets, strict=True))[None] is None
    filled = lookup.fill(pd.Series(["Masters", None, "Unheard-of"], dtype=object))
    assert filled.tolist() == [14, None, 9]  # a value never seen gets the most frequent source's target


def test_conditions_on_a_target_become_conditions_on_its_source():
    frame, contract = _schooling()
    plan = ColumnPlan.fit(contract, frame)
    table = pd.DataFrame({"level_num": pd.array([13, None, 9], dtype="Int64")})
    asked = translate_conditions(table, plan.lookups, contract, np.random.default_rng(0))
    assert list(asked.columns) == ["level"]
    assert asked["level"].tolist()[0] == "Bachelors" and pd.isna(asked["level"][1])
    assert asked["level"][2] == "HS-grad"


def test_a_target_value_many_sources_give_draws_them_by_training_frequency():
    frame, contract = _schooling(rows=2000)
    plan = ColumnPlan.fit(contract, frame)
    graduate = next(lk for lk in plan.lookups if lk.target == "graduate")
    table = pd.DataFrame({"graduate": pd.array([True] * 4000, dtype="boolean")})
    asked = translate_conditions(table, [graduate], contract, np.random.default_rng(0))
    share = (asked["level"] == "Bachelors").mean()  # Bachelors 0.3 against Masters 0.1: three quarters
    assert set(asked["level"]) == {"Bachelors", "Masters"} and 0.7 < share < 0.8


def test_impossible_and_contradicting_conditions_are_clear_errors():
    frame, contract = _schooling()
    plan = ColumnPlan.fit(contract, frame)
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match=r"level_num=11.*no value of level gives 11") as raised:
        translate_conditions(
            pd.DataFrame({"level_num": pd.array([11], dtype="Int64")}), plan.lookups, contract, rng
        )
    assert "10, 13, 14, 9" in raised.value.hint
    both = pd.DataFrame({"level": ["Masters"], "level_num": pd.array([13], dtype="Int64")})
    with pytest.raises(ConfigError, match=r"level='Masters' and level_num=13 contradict"):
        translate_conditions(both, plan.lookups, contract, rng)
    agreeing = pd.DataFrame({"level": ["Masters"], "level_num": pd.array([14], dtype="Int64")})
    assert translate_conditions(agreeing, plan.lookups, contract, rng)["level"].tolist() == ["Masters"]


def test_a_generator_keeps_the_mapping_in_every_row_and_after_save_and_load(tmp_path):
    frame, contract = _schooling()
    model = create_generator("copula", {}, seed=3).fit(frame, contract)
    rows = model.sample(300)
    assert (rows["level_num"] == rows["level"].map(LEVELS)).all()
    assert (rows["graduate"] == rows["level"].isin(["Bachelors", "Masters"])).all()
    asked = model.sample(50, conditions={"level_num": 14})
    assert (asked["level"] == "Masters").all() and (asked["level_num"] == 14).all()
    model.save(tmp_path / "model")
    again = type(model).load(tmp_path / "model")
    assert again.plan_.lookups == model.plan_.lookups
    pd.testing.assert_frame_equal(again.sample(300), rows)
