"""The generator contract, checked for every registered generator (DESIGN.md: one conformance suite)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from support import make_mixed_frame, mixed_contract

from data_contracts.dtypes import pandas_dtype
from data_contracts.model import ColumnKind, Contract
from generators.base import Generator
from generators.registry import create_generator, generator_class, generator_names
from synthwright.errors import ConfigError, NotFittedError, UserInputError

ALL = generator_names()
CONDITIONAL = [name for name in ALL if generator_class(name).supports_conditions]
UNCONDITIONAL = [name for name in ALL if name not in CONDITIONAL]

FAST: dict[str, dict] = {
    "ctgan": {"epochs": 2, "batch_size": 50, "pac": 5},
    "tvae": {"epochs": 2, "batch_size": 50},
    "diffusion": {"preset": "fast"},
    "llm": {"preset": "fast"},
}
"""Configs that keep the neural generators' fits to a second or so; the others train as they are."""


def fast_generator(name: str, **kwargs) -> Generator:
    return create_generator(name, FAST.get(name), **kwargs)


@pytest.fixture(scope="module", params=ALL)
def fitted(request):
    frame, contract = make_mixed_frame(rows=160, seed=11), mixed_contract()
    return fast_generator(request.param, seed=7).fit(frame, contract), frame, contract


def assert_conforms(sample: pd.DataFrame, contract: Contract) -> None:
    """Columns, order, dtypes, ranges, categories, nullability, keys and rules — checked directly."""
    assert list(sample.columns) == contract.names
    for column in contract.columns:
        values = sample[column.name]
        assert str(values.dtype) == pandas_dtype(column), column.name
        present = values.dropna()
        if not column.nullable:
            assert values.notna().all(), column.name
        if column.min is not None:
            assert (present >= column.min).all(), column.name
        if column.max is not None:
            assert (present <= column.max).all(), column.name
        if column.kind is ColumnKind.CATEGORICAL and column.values:
            assert set(present) <= set(column.values), column.name
        if contract.is_unique(column):
            assert present.is_unique, column.name
        if column.is_date_only:
            assert (present == present.dt.normalize()).all(), column.name
    for rule in contract.rules:
        both = sample[rule.left].notna() & sample[rule.right].notna()
        assert (sample.loc[both, rule.left] <= sample.loc[both, rule.right]).all(), str(rule)


def test_sample_conforms_to_the_contract(fitted):
    generator, _, contract = fitted
    assert_conforms(generator.sample(200), contract)


def test_same_seed_same_rows_and_other_seed_other_rows(fitted):
    generator, _, _ = fitted
    first = generator.sample(80, seed=3)
    pd.testing.assert_frame_equal(first, generator.sample(80, seed=3))
    assert not first.equals(generator.sample(80, seed=4))


def test_default_seed_is_the_fit_seed(fitted):
    generator, _, _ = fitted
    pd.testing.assert_frame_equal(generator.sample(30), generator.sample(30, seed=7))


def test_identifiers_and_personal_data_are_never_copied(fitted):
    generator, frame, _ = fitted
    sample = generator.sample(150)
    assert not set(sample["email"]) & set(frame["email"])
    assert sample["customer_id"].tolist() == list(range(1, 151))


def test_save_load_round_trip(fitted, tmp_path):
    generator, _, _ = fitted
    generator.save(tmp_path / "model")
    loaded = Generator.load(tmp_path / "model")
    assert type(loaded) is type(generator)
    assert loaded.config == generator.config
    pd.testing.assert_frame_equal(loaded.sample(60, seed=1), generator.sample(60, seed=1))
    assert generator_class(generator.name).load(tmp_path / "model").name == generator.name


def test_save_replaces_an_existing_model_and_refuses_foreign_folders(fitted, tmp_path):
    generator, _, _ = fitted
    generator.save(tmp_path / "model")
    generator.save(tmp_path / "model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a synthwright model folder"):
        generator.save(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_load_rejects_a_changed_file(fitted, tmp_path):
    generator, _, _ = fitted
    generator.save(tmp_path / "model")
    manifest = json.loads((tmp_path / "model" / "generator.json").read_text())
    victim = next(name for name in manifest["sha256"] if name != "contract.json")
    with open(tmp_path / "model" / victim, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ConfigError, match="sha256 mismatch"):
        Generator.load(tmp_path / "model")


def test_sampling_zero_rows_gives_typed_empty_frame(fitted):
    generator, _, contract = fitted
    empty = generator.sample(0)
    assert empty.empty and list(empty.columns) == contract.names
    assert [str(t) for t in empty.dtypes] == [pandas_dtype(c) for c in contract.columns]


@pytest.mark.parametrize("rows", [-1, 2.5, "10"])
def test_bad_row_counts_are_clear_errors(fitted, rows):
    generator, _, _ = fitted
    with pytest.raises(UserInputError, match="whole number"):
        generator.sample(rows)


@pytest.mark.parametrize("fitted", UNCONDITIONAL, indirect=True)
def test_conditions_are_refused_clearly_until_supported(fitted):
    generator, _, _ = fitted
    with pytest.raises(ConfigError, match="does not support conditional sampling"):
        generator.sample(5, conditions={"colour": "red"})


@pytest.mark.parametrize("fitted", CONDITIONAL, indirect=True)
def test_a_fixed_condition_holds_in_every_row(fitted):
    generator, _, contract = fitted
    sample = generator.sample(40, conditions={"colour": "red"})
    assert_conforms(sample, contract)
    assert len(sample) == 40
    assert (sample["colour"] == "red").all()


@pytest.mark.parametrize("fitted", CONDITIONAL, indirect=True)
def test_per_row_conditions_are_honoured_row_by_row(fitted):
    generator, _, contract = fitted
    table = pd.DataFrame(
        {
            "colour": ["red", None, "blue", "green", None, "red"] * 5,
            "member": [True, False, None, None, None, False] * 5,
        }
    )
    sample = generator.sample(len(table), conditions=table)
    assert_conforms(sample, contract)
    for asked, got in zip(table.itertuples(index=False), sample.itertuples(index=False), strict=True):
        if asked.colour is not None:
            assert got.colour == asked.colour
        if asked.member is not None:
            assert got.member == asked.member


@pytest.mark.parametrize("name", ALL)
def test_unknown_config_key_lists_the_valid_ones(name):
    with pytest.raises(ConfigError, match="valid keys") as info:
        create_generator(name, {"no_such_knob": 1})
    assert "no_such_knob" in str(info.value)


@pytest.mark.parametrize("name", ALL)
def test_sample_before_fit_raises_not_fitted(name):
    with pytest.raises(NotFittedError, match="not fitted"):
        create_generator(name).sample(3)


@pytest.mark.parametrize("name", ALL)
def test_training_data_must_match_the_contract(name, mixed_frame, mixed):
    with pytest.raises(UserInputError, match="missing \\['age'\\]"):
        fast_generator(name).fit(mixed_frame.drop(columns=["age"]), mixed)
    bad = mixed_frame.astype({"age": object})
    bad.loc[0, "age"] = "old"
    with pytest.raises(UserInputError, match="'age': 1 value"):
        fast_generator(name).fit(bad, mixed)
    with pytest.raises(UserInputError, match="at least 2"):
        fast_generator(name).fit(mixed_frame.head(1), mixed)


def test_unknown_generator_lists_the_registry():
    with pytest.raises(ConfigError, match="unknown generator 'gan'") as info:
        create_generator("gan")
    assert all(name in info.value.hint for name in ALL)


def test_every_generator_declares_its_interface():
    for name in ALL:
        klass = generator_class(name)
        assert klass.name == name
        assert klass.summary
        assert klass.Config.model_config.get("extra") == "forbid"
