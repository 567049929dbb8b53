"""The generator contract, checked for every registered generator (docs/design.md: one conformance suite)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.dtypes import pandas_dtype
from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.errors import ConfigError, NotFittedError, UserInputError
from synthwright.generators.base import Generator
from synthwright.generators.neural.encoding import OTHER, DiscreteEncoding
from synthwright.generators.registry import create_generator, generator_class, generator_names

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


def fast_generator(name: str, config: dict | None = None, **kwargs) -> Generator:
    """The generator with its FAST config, `config` on top (seed and device as create_generator's)."""
    return create_generator(name, {**FAST.get(name, {}), **(config or {})} or None, **kwargs)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread for the neural generators' tiny networks, as in test_diffusion.py and
    test_llm.py: on 2 shared, busy cores torch's default 2 threads spin-wait on each other (this file
    measured at 39 s with 2 threads on a loaded machine, 11 s with one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fits() -> dict[str, tuple[Generator, pd.DataFrame, Contract]]:
    """The generators `fitted` has fitted in this module, by name."""
    return {}


@pytest.fixture(params=ALL)
def fitted(request, fits):
    """The generator named by the param (indirect: any subset of ALL), fitted once per module on its
    first use: the tests below parametrise it together with their own cases, in any order."""
    name = request.param
    if name not in fits:
        frame, contract = make_mixed_frame(rows=160, seed=11), mixed_contract()
        fits[name] = fast_generator(name, seed=7).fit(frame, contract), frame, contract
    return fits[name]


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


# ---- conditional sampling ------------------------------------------------------------------------------
# What every conditional generator promises. Cases on numbers and dates at any value run for EVERY_VALUE,
# those on categories the model learned itself for OWN_CATEGORIES; what one generator adds is in its own
# file (CTGAN and TVAE: they refuse float and datetime conditions and search within a budget; diffusion
# and the llm: a condition moves the other columns of a learned table).

EVERY_VALUE = ["diffusion", "llm"]
"""Conditional generators that hold a condition on any value the contract allows, numbers and dates
included (they write the value asked for). CTGAN and TVAE refuse float and datetime conditions
(test_ctgan_tvae.py); the copula conditions through SDV, which fails on numbers beyond its training data."""
OWN_CATEGORIES = [
    name for name in CONDITIONAL if "max_categories" in generator_class(name).Config.model_fields
]
"""Conditional generators that encode categories themselves, a slot per value seen in training (the
rarest beyond `max_categories` pooled into one): they refuse a category that never occurs in training.
The copula leaves categories to SDV."""


def each(names: list[str], cases: list) -> list:
    """Every case (a pytest.param with an id) for every generator in `names`, the generator first."""
    return [pytest.param(name, *case.values, id=f"{name}-{case.id}") for name in names for case in cases]


def learned_categories(generator: Generator, name: str) -> DiscreteEncoding:
    """The slots a generator learned for category column `name`."""
    vocabulary = getattr(generator, "vocabulary_", None)  # the llm's; the others keep an encoding_
    if vocabulary is not None:
        return next(field.encoding for field in vocabulary.fields if field.name == name)
    return next(column for column in generator.encoding_.columns if column.name == name)


HOLDS = [
    pytest.param("colour", "green", "green", id="category"),
    pytest.param("age", 40, 40, id="integer"),
    pytest.param("member", True, True, id="boolean"),
    pytest.param("member", "false", False, id="boolean-text"),  # read as the contract says
]
HOLDS_AT_ANY_VALUE = [
    pytest.param("age", "79", 79, id="integer-edge"),  # read as the contract says; the edge of the range
    pytest.param("income", 12345.67, 12345.67, id="float"),
    pytest.param("income", 99_999.0, 99_999.0, id="float-beyond-training"),  # inside the contract
    pytest.param("income", -19_999.99, -19_999.99, id="float-low-edge"),
    pytest.param("start_date", "2024-03-01", pd.Timestamp("2024-03-01"), id="date"),
]


@pytest.mark.parametrize(
    ("fitted", "column", "value", "expected"),
    each(CONDITIONAL, HOLDS) + each(EVERY_VALUE, HOLDS_AT_ANY_VALUE),
    indirect=["fitted"],
)
def test_a_condition_holds_exactly_in_every_row(fitted, column, value, expected):
    generator, _, contract = fitted
    sample = generator.sample(40, conditions={column: value})
    assert_conforms(sample, contract)
    assert len(sample) == 40
    assert (sample[column] == expected).all(), sample[column].unique()


SEVERAL = [
    pytest.param({"colour": "green", "member": True}, {"colour": "green", "member": True}, id="category"),
    pytest.param({"age": 40, "member": "false"}, {"age": 40, "member": False}, id="integer"),
]
SEVERAL_AT_ANY_VALUE = [
    pytest.param(
        {"colour": "blue", "age": 25, "income": 5000.5, "member": False, "start_date": "2024-10-01"},
        {
            "colour": "blue",
            "age": 25,
            "income": 5000.5,
            "member": False,
            "start_date": pd.Timestamp("2024-10-01"),
        },
        id="every-kind",
    ),
]


@pytest.mark.parametrize(
    ("fitted", "conditions", "expected"),
    each(CONDITIONAL, SEVERAL) + each(EVERY_VALUE, SEVERAL_AT_ANY_VALUE),
    indirect=["fitted"],
)
def test_several_conditions_at_once(fitted, conditions, expected):
    generator, _, contract = fitted
    sample = generator.sample(25, conditions=conditions)
    assert_conforms(sample, contract)  # end_date, learned as a gap, stays on or after start_date
    for name, value in expected.items():
        assert (sample[name] == value).all(), name
    assert sample["customer_id"].tolist() == list(range(1, 26))
    for name in set(contract.names) - set(conditions):  # the free columns still vary
        assert sample[name].nunique(dropna=False) > 1, name


PER_ROW = [
    pytest.param(
        pd.DataFrame(
            {
                "colour": ["red", None, "blue", "green", None, None, "red", "blue"] * 4,
                "member": pd.array([True, False, None, None, True, None, None, False] * 4, dtype="boolean"),
            }
        ),
        id="categories",
    ),
    pytest.param(
        pd.DataFrame(
            {
                "colour": ["red", None, "blue", "green", None, "red"] * 5,
                "member": [True, False, None, None, None, False] * 5,  # an object column with None
            }
        ),
        id="object-cells",
    ),
]
PER_ROW_AT_ANY_VALUE = [
    pytest.param(
        pd.DataFrame(
            {
                "colour": ["red", None, "blue", None] * 8,
                "age": pd.array([None, 30, None, 61] * 8, dtype="Int64"),
                "income": [1000.5, None, None, 70_000.0] * 8,
                "member": pd.array([None, True, False, None] * 8, dtype="boolean"),
                "start_date": [None, "2024-05-05", None, None] * 8,
            }
        ),
        id="every-kind",
    ),
]


@pytest.mark.parametrize(
    ("fitted", "table"),
    each(CONDITIONAL, PER_ROW) + each(EVERY_VALUE, PER_ROW_AT_ANY_VALUE),
    indirect=["fitted"],
)
def test_per_row_conditions_hold_row_by_row_and_leave_null_cells_free(fitted, table):
    generator, _, contract = fitted
    sample = generator.sample(len(table), conditions=table)
    assert_conforms(sample, contract)
    for name in table.columns:
        asked = pd.to_datetime(table[name]) if name == "start_date" else table[name]
        fixed = asked.notna().to_numpy()
        got = sample[name].to_numpy()[fixed]
        assert (got == asked.to_numpy()[fixed]).all(), name
        assert sample.loc[~fixed, name].nunique(dropna=False) > 1, name  # free cells are not one value


@pytest.mark.parametrize("fitted", CONDITIONAL, indirect=True)
def test_a_conditions_table_must_have_one_row_per_output_row(fitted):
    generator, _, _ = fitted
    with pytest.raises(UserInputError, match="rows were asked for"):
        generator.sample(5, conditions=pd.DataFrame({"colour": ["red"] * 4}))


SEEDED = [
    pytest.param({"colour": "blue", "member": True}, id="category"),
    pytest.param({"colour": "blue", "age": 33}, id="integer"),
]
SEEDED_AT_ANY_VALUE = [pytest.param(pd.DataFrame({"income": [100.0, None] * 10}), id="float-table")]


@pytest.mark.parametrize(
    ("fitted", "conditions"),
    each(CONDITIONAL, SEEDED) + each(EVERY_VALUE, SEEDED_AT_ANY_VALUE),
    indirect=["fitted"],
)
def test_the_conditional_sample_is_seeded(fitted, conditions):
    generator, _, _ = fitted
    first = generator.sample(20, conditions=conditions, seed=11)
    pd.testing.assert_frame_equal(first, generator.sample(20, conditions=conditions, seed=11))
    assert not first.equals(generator.sample(20, conditions=conditions, seed=12))


@pytest.mark.parametrize("fitted", CONDITIONAL, indirect=True)
@pytest.mark.parametrize(
    ("conditions", "error"),
    [
        ({"shoe_size": 42}, "unknown column 'shoe_size'"),
        ({"colour": "purple"}, "not one of the contract's categories"),
        ({"age": 5}, "outside the contract's range"),
        ({"age": 80}, "outside the contract's range"),
        ({"income": 1e9}, "outside the contract's range"),
        ({"member": "perhaps"}, "cannot be read as boolean"),
        ({"customer_id": 1003}, "it is an identifier"),
        ({"email": "person1@example.com"}, "personal data"),
        ({"end_date": "2024-03-01"}, "learns it as a gap"),
        ({"colour": None}, "conditions must be values"),
        ({}, "conditions are empty"),
    ],
)
def test_conditions_the_contract_cannot_hold_are_refused(fitted, conditions, error):
    generator, _, _ = fitted
    with pytest.raises(ConfigError, match=error):
        generator.sample(10, conditions=conditions)


@pytest.mark.parametrize("fitted", CONDITIONAL, indirect=True)
def test_an_unknown_category_names_the_allowed_ones(fitted):
    generator, _, _ = fitted
    with pytest.raises(ConfigError) as info:
        generator.sample(3, conditions={"colour": "purple"})
    assert "'blue', 'green', 'red'" in info.value.hint


@pytest.mark.parametrize("name", OWN_CATEGORIES)
def test_a_category_never_seen_in_training_is_refused(name):
    frame, contract = make_mixed_frame(rows=120, seed=6), mixed_contract()
    frame["colour"] = frame["colour"].replace("blue", "green")
    generator = fast_generator(name, {"epochs": 1}, seed=7).fit(frame, contract)
    with pytest.raises(ConfigError, match="never occurs in the training data") as info:
        generator.sample(5, conditions={"colour": "blue"})
    assert "colour='blue'" in str(info.value) and info.value.hint
    with pytest.raises(ConfigError, match="never occurs in the training data"):
        generator.sample(2, conditions=pd.DataFrame({"colour": ["red", "blue"]}))
    assert (generator.sample(5, conditions={"colour": "red"})["colour"] == "red").all()
    assert "blue" not in set(generator.sample(200)["colour"].dropna())


@pytest.mark.parametrize("nulls", [True, False], ids=["with-nulls", "without-nulls"])
@pytest.mark.parametrize("name", OWN_CATEGORIES)
def test_a_condition_on_a_value_pooled_beyond_max_categories(name, nulls):
    frame, contract = make_mixed_frame(rows=160, seed=9), mixed_contract()
    if not nulls:
        frame["colour"] = frame["colour"].fillna("red")
    generator = fast_generator(name, {"max_categories": 2}, seed=7).fit(frame, contract)
    colour = learned_categories(generator, "colour")
    assert colour.values == ["red", OTHER]
    assert set(colour.rare_values) == {"green", "blue"} | ({None} if nulls else set())
    assert (generator.sample(20, conditions={"colour": "blue"})["colour"] == "blue").all()
    free = generator.sample(300)["colour"]
    # the pooled slot is drawn out into its values: a pooled null too, and only when there was one
    assert set(free.dropna()) == {"blue", "green", "red"}
    assert free.isna().any() == nulls


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
