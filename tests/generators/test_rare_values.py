"""Rare values are never published verbatim, whatever the generator (generators/rare.py, the base class)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_conformance import ALL, CONDITIONAL, _one_torch_thread, fast_generator  # noqa: F401 (autouse)

from synthwright.data_contracts.infer import infer_contract
from synthwright.data_contracts.model import Column, ColumnKind, Contract, PiiKind, RareValues
from synthwright.errors import ConfigError

NAMES = [
    "Mary Johnson", "James Smith", "Patricia Brown", "Robert Miller", "Jennifer Davis",
    "Michael Wilson", "Linda Moore", "William Taylor", "Elizabeth Anderson", "David Thomas",
    "Barbara Jackson", "Richard White", "Susan Harris", "Joseph Martin", "Jessica Thompson",
    "Thomas Garcia", "Sarah Martinez", "Charles Robinson", "Karen Clark", "Daniel Lewis",
]  # fmt: skip
WORDS = [
    "the",
    "order",
    "arrived",
    "late",
    "and",
    "the",
    "customer",
    "asked",
    "for",
    "a",
    "refund",
    "after",
    "two",
    "calls",
]


def _table(rows: int, repeats: int, seed: int = 0) -> pd.DataFrame:
    """A frequent category, a number, `customer` (each of 20 real names on `repeats` rows, the rest
    `walk-in`) and `notes`: a dozen words with a unique token per row."""
    rng = np.random.default_rng(seed)
    customer = np.array(["walk-in"] * rows, dtype=object)
    customer[: 20 * repeats] = np.repeat(NAMES, repeats)
    rng.shuffle(customer)
    return pd.DataFrame(
        {
            "channel": rng.choice(["web", "shop", "phone"], rows),
            "amount": np.round(rng.lognormal(3, 1, rows), 2),
            "customer": customer,
            "notes": [" ".join([*rng.choice(WORDS, 12), f"ticket-{i:06d}"]) for i in range(rows)],
        }
    )


def _contract(*, text: bool) -> Contract:
    columns = [
        Column(name="channel", kind=ColumnKind.CATEGORICAL, values=["phone", "shop", "web"]),
        Column(name="amount", kind=ColumnKind.FLOAT, min=0.0),
        Column(name="customer", kind=ColumnKind.CATEGORICAL),  # declared labels: no pii, no list
    ]
    if text:
        columns.append(Column(name="notes", kind=ColumnKind.TEXT))
    return Contract(dataset="tickets", columns=columns)


@pytest.mark.parametrize("name", ALL)
def test_no_rare_label_is_published_by_any_generator(name):
    frame = _table(300, repeats=2).drop(columns="notes")  # 2 rows per name: rare under k = 5
    generator = fast_generator(name, seed=3).fit(frame, _contract(text=False))
    sample = generator.sample(600)
    assert not sample["customer"].isin(NAMES).any(), sample["customer"].value_counts().head()
    assert set(sample["customer"].dropna()) <= {"walk-in"}
    protection = generator.plan_.protection("customer")
    assert protection.rare_values == 20 and protection.rare_rows == 40
    assert not any(n in str(generator.plan_.model_dump()) for n in NAMES)  # the saved plan holds hashes


@pytest.mark.parametrize("name", ALL)
def test_an_inferred_name_column_is_personal_data_and_faked(name):
    frame = _table(300, repeats=5).drop(columns="notes")  # 5 rows per name: not rare, but names
    contract = infer_contract(frame)
    assert contract.column("customer").pii is PiiKind.NAME
    sample = fast_generator(name, seed=3).fit(frame, contract).sample(300)
    assert not sample["customer"].isin(NAMES).any()


@pytest.mark.parametrize("name", ALL)
def test_free_text_is_written_by_the_llm_or_refused_with_the_fix(name):
    frame = _table(200, repeats=2)
    contract = _contract(text=True)
    generator = fast_generator(name, seed=3)
    if not generator.writes_text:
        with pytest.raises(ConfigError, match="'notes' is free text") as caught:
            generator.fit(frame, contract)
        assert "llm" in caught.value.hint and "pii" in caught.value.hint and "drop" in caught.value.hint
        return
    sample = generator.fit(frame, contract).sample(200)
    assert not sample["notes"].isin(set(frame["notes"])).any()
    assert not sample["customer"].isin(NAMES).any()


def test_inference_tells_free_text_from_wordy_labels():
    frame = _table(300, repeats=2)
    frame["degree"] = np.resize(["Bachelor of Science in Nursing", "Master of Business Administration"], 300)
    contract = infer_contract(frame)
    assert contract.column("notes").kind is ColumnKind.TEXT
    assert contract.column("degree").kind is ColumnKind.CATEGORICAL


@pytest.mark.parametrize("name", ["copula", "bootstrap", "diffusion"])
def test_numbers_are_clipped_to_the_kth_smallest_and_largest_training_values(name):
    frame = _table(300, repeats=2).drop(columns="notes")
    generator = fast_generator(name, seed=3).fit(frame, _contract(text=False))
    ordered = np.sort(frame["amount"].to_numpy())
    sample = generator.sample(2000)
    assert sample["amount"].min() >= ordered[4] and sample["amount"].max() <= ordered[-5]
    assert frame["amount"].max() not in set(sample["amount"])


@pytest.mark.parametrize("name", CONDITIONAL)
def test_a_condition_on_a_rare_label_is_refused_and_a_number_is_the_callers_own(name):
    frame = _table(300, repeats=2).drop(columns="notes")
    generator = fast_generator(name, seed=3).fit(frame, _contract(text=False))
    with pytest.raises(ConfigError, match="fewer than 5 training rows") as caught:
        generator.sample(10, conditions={"customer": NAMES[0]})
    assert "rare: {min_rows: 1}" in caught.value.hint
    beyond = float(frame["amount"].max() + 1)
    if name in ("diffusion", "llm"):  # conditions at any value inside the contract
        assert (generator.sample(5, conditions={"amount": beyond})["amount"] == beyond).all()


def test_the_contract_may_allow_rare_values_and_the_placeholder_replaces_them():
    frame = _table(300, repeats=2).drop(columns="notes")
    allowed = _contract(text=False).model_copy(
        update={
            "columns": [
                c.model_copy(update={"rare": RareValues(min_rows=1)}) if c.name == "customer" else c
                for c in _contract(text=False).columns
            ]
        }
    )
    copied = fast_generator("bootstrap", seed=3).fit(frame, allowed).sample(600)
    assert copied["customer"].isin(NAMES).any()  # the contract says they may be published

    placeholder = RareValues(replace_with="placeholder", placeholder="(someone)")
    sample = fast_generator("bootstrap", seed=3).fit(frame, _contract(text=False), rare_values=placeholder)
    values = set(sample.sample(600)["customer"])
    assert "(someone)" in values and not values & set(NAMES)


def test_a_placeholder_outside_a_declared_category_list_is_refused():
    frame = _table(300, repeats=2).drop(columns="notes")
    listed = _contract(text=False).model_copy(
        update={
            "columns": [
                c.model_copy(update={"values": sorted(set(frame["customer"]))}) if c.name == "customer" else c
                for c in _contract(text=False).columns
            ]
        }
    )
    with pytest.raises(ConfigError, match="not one of its categories"):
        fast_generator("copula").fit(frame, listed, rare_values=RareValues(replace_with="placeholder"))
    sample = fast_generator("copula").fit(frame, listed).sample(300)  # frequent: stays in the list
    assert not sample["customer"].isin(NAMES).any()


def test_a_saved_model_keeps_its_protection(tmp_path):
    frame = _table(300, repeats=2).drop(columns="notes")
    generator = fast_generator("bootstrap", seed=3).fit(frame, _contract(text=False))
    generator.save(tmp_path / "model")
    loaded = type(generator).load(tmp_path / "model")
    assert loaded.plan_.protected == generator.plan_.protected
    assert not loaded.sample(600)["customer"].isin(NAMES).any()
    assert not any(n in (tmp_path / "model" / "generator.json").read_text() for n in NAMES)


def test_a_declared_column_whose_every_value_is_rare_falls_back_to_unseen_values_or_is_refused():
    frame = pd.DataFrame({"code": [f"c{i:02d}" for i in range(40)], "x": np.arange(40.0)})
    unseen = Contract(
        columns=[
            Column(name="code", kind=ColumnKind.CATEGORICAL, values=[f"c{i:02d}" for i in range(45)]),
            Column(name="x", kind=ColumnKind.FLOAT),
        ]
    )
    sample = fast_generator("copula").fit(frame, unseen).sample(200)
    assert set(sample["code"]) <= {f"c{i:02d}" for i in range(40, 45)}  # public by the contract only
    listed = unseen.model_copy(
        update={
            "columns": [
                unseen.columns[0].model_copy(update={"values": list(frame["code"])}),
                unseen.columns[1],
            ]
        }
    )
    with pytest.raises(ConfigError, match="'code': every value is held by fewer than 5") as caught:
        fast_generator("copula").fit(frame, listed)
    assert "rare: {min_rows: 1}" in caught.value.hint


def test_a_fake_that_happens_to_equal_a_real_persons_value_is_drawn_again():
    from synthwright.generators.columns import fake_values

    column = Column(name="full_name", kind=ColumnKind.TEXT, pii=PiiKind.NAME)
    common = list(fake_values(column, 400, 11, False))  # names Faker itself draws: clashes guaranteed
    frame = pd.DataFrame({"full_name": common, "x": np.arange(400.0)})
    contract = Contract(columns=[column, Column(name="x", kind=ColumnKind.FLOAT)])
    generator = fast_generator("bootstrap", seed=11).fit(frame, contract)
    sample = generator.sample(2000)
    assert not sample["full_name"].isin(set(common)).any()
    assert not any(name in str(generator.plan_.model_dump()) for name in common)


def test_a_generator_made_to_copy_rare_values_is_rejected_by_rare_value_leaks():
    """The bootstrap copier with protection switched off at fit, judged by the default gates."""
    from synthwright.validators.evaluate import evaluate

    frame = _table(400, repeats=2, seed=5).drop(columns="notes")
    train, holdout = frame.iloc[:300], frame.iloc[300:]
    contract = _contract(text=False)
    copier = fast_generator("bootstrap", seed=5).fit(train, contract, rare_values=RareValues(min_rows=1))
    result = evaluate(train, holdout, copier.sample(300), contract)
    leaks = {m.name: m for m in result.scorecard.failures}["rare_value_leaks"]
    assert leaks.value > 0 and "customer" in leaks.description
    protected = fast_generator("bootstrap", seed=5).fit(train, contract).sample(300)
    assert evaluate(train, holdout, protected, contract).privacy.rare_value_leaks["customer"] == 0


@pytest.mark.parametrize("name", ALL)
def test_a_rare_integer_code_is_never_published(name):
    frame = _table(300, repeats=2, seed=6).drop(columns="notes")
    frame["region"] = pd.array(
        np.where(np.arange(300) < 3, 9, np.arange(300) % 4), dtype="Int64"
    )  # 9: 3 rows
    contract = _contract(text=False).model_copy(
        update={"columns": [*_contract(text=False).columns, Column(name="region", kind=ColumnKind.INTEGER)]}
    )
    generator = fast_generator(name, seed=6).fit(frame, contract)
    assert generator.plan_.protection("region").kind == "codes"
    assert set(generator.sample(1000)["region"].dropna()) <= {0, 1, 2, 3}


def test_fakes_avoid_the_personal_values_of_real_rows_not_learned_from():
    from synthwright.generators.columns import fake_values

    column = Column(name="full_name", kind=ColumnKind.TEXT, pii=PiiKind.NAME)
    unseen = pd.DataFrame({"full_name": list(fake_values(column, 400, 11, False))})  # the holdout's names
    frame = pd.DataFrame({"full_name": [f"Person {i}" for i in range(300)], "x": np.arange(300.0)})
    contract = Contract(columns=[column, Column(name="x", kind=ColumnKind.FLOAT)])
    sample = fast_generator("bootstrap", seed=11).fit(frame, contract, other_real=unseen).sample(2000)
    assert not sample["full_name"].isin(set(unseen["full_name"])).any()
