"""The `llm` generator (our own transformer from scratch): presets, output that conforms, seeds, the save
folder, rows valid by construction, learning (conditions that move the other columns), text columns, the
sampling knobs, the time budget and CUDA. Conditions on every column kind, and the ones refused, are
checked for every conditional generator in test_conformance.py.

Small seeded frames and the `fast` preset: these check the machinery. Two fixtures fit longer and fail
if the model does not learn: a two-group table (a number that depends on a category) and a table of
reviews (text that depends on a sentiment column).
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from support import make_mixed_frame, mixed_contract
from test_conformance import assert_conforms

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.generators.base import Generator, seeded
from synthwright.generators.llm.generator import PRESETS, LLMConfig, LLMGenerator
from synthwright.generators.llm.tokens import RowVocabulary
from synthwright.generators.registry import create_generator

FAST = {"preset": "fast"}
KNOBS = ["epochs", "batch_size", "width", "depth", "heads"]
SAVED_FILES = ["contract.json", "generator.json", "training.json", "vocabulary.json", "weights.pt"]


def make(seed: int = 7, device: str = "cpu", **overrides) -> Generator:
    return create_generator("llm", {**FAST, **overrides}, seed=seed, device=device)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread for these tiny networks: on 2 shared, busy cores torch's default 2 threads
    spin-wait on each other (this file measured at 26 s with one thread, 50 s to 73 s without)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fitted():
    frame, contract = make_mixed_frame(rows=200, seed=5), mixed_contract()
    return make().fit(frame, contract), frame, contract


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    generator, _, _ = fitted
    folder = tmp_path_factory.mktemp("llm") / "model"
    generator.save(folder)
    return folder


def _edit_config(folder, **changes) -> None:
    """Change the config in generator.json (the manifest holds the other files' sha256, not its own)."""
    manifest_path = folder / "generator.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["config"].update(changes)
    manifest_path.write_text(json.dumps(manifest, indent=2))


def _copy(folder, target):
    shutil.copytree(folder, target)
    return target


def _with_knobs(folder, target, **changes) -> Generator:
    """The saved weights, loaded with sampling knobs changed."""
    _copy(folder, target)
    _edit_config(target, **changes)
    return Generator.load(target)


# ---- config and presets -------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["fast", "default", "quality"])
def test_a_preset_fills_every_knob_it_names(preset):
    config = create_generator("llm", {"preset": preset}).config
    assert config.preset == preset
    assert set(KNOBS) == set(PRESETS[preset])
    for knob, value in PRESETS[preset].items():
        assert getattr(config, knob) == value, knob
    assert config.width % config.heads == 0


def test_presets_grow_from_fast_to_quality_and_default_is_the_default():
    fast, default, quality = (create_generator("llm", {"preset": p}).config for p in PRESETS)
    for knob in KNOBS:
        assert getattr(fast, knob) < getattr(default, knob) < getattr(quality, knob), knob
    assert fast.epochs <= 5 and fast.width <= 64  # the test preset stays small
    assert create_generator("llm").config == default
    assert LLMConfig() == default and default.base_model is None


def test_an_explicit_knob_overrides_the_preset():
    config = create_generator("llm", {"preset": "quality", "epochs": 5, "heads": 2, "top_k": 3}).config
    assert (config.epochs, config.heads, config.top_k) == (5, 2, 3)
    assert config.width == PRESETS["quality"]["width"]  # the rest still from the preset
    assert create_generator("llm", {"width": 32}).config.epochs == PRESETS["default"]["epochs"]


def test_an_unknown_preset_is_a_config_error_naming_it_and_the_allowed_ones():
    with pytest.raises(ConfigError) as info:
        create_generator("llm", {"preset": "huge"})
    message = str(info.value)
    assert "preset" in message and "'huge'" in message
    assert "'fast'" in message and "'quality'" in message
    assert "1 problem" in message and "Field required" not in message


def test_an_unknown_key_is_a_config_error_with_concrete_defaults_in_the_hint():
    with pytest.raises(ConfigError, match="no_such_knob") as info:
        create_generator("llm", {"preset": "fast", "no_such_knob": 1})
    assert "1 problem" in str(info.value)
    hint = info.value.hint
    assert "valid keys" in hint and "temperature" in hint and "max_bins" in hint
    assert f"width (default {PRESETS['default']['width']})" in hint
    assert "PydanticUndefined" not in hint


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("epochs", 0),
        ("width", -1),
        ("temperature", 0),
        ("top_k", 0),
        ("top_p", 0),
        ("top_p", 1.5),
        ("dropout", 1.0),
        ("conditioned_share", 1.5),
        ("max_bins", 0),
        ("max_radix", 1),
        ("max_decimals", 13),
        ("max_categories", 1),
        ("max_minutes", 0),
    ],
)
def test_an_invalid_knob_value_is_a_config_error(knob, value):
    with pytest.raises(ConfigError, match=knob):
        create_generator("llm", {"preset": "fast", knob: value})


def test_config_defaults_lists_every_knob_with_the_default_preset_filled_in():
    defaults = LLMGenerator.config_defaults()
    assert set(defaults) == set(LLMConfig.model_fields)
    assert defaults["preset"] == "default"
    assert {k: defaults[k] for k in KNOBS} == PRESETS["default"]
    unset = {k for k, v in defaults.items() if v is None}
    assert unset == {"base_model", "top_k", "max_minutes"}
    json.dumps(defaults)  # concrete, JSON-ready values


def test_a_width_that_is_not_a_multiple_of_heads_is_a_config_error():
    with pytest.raises(ConfigError, match="heads"):
        create_generator("llm", {"preset": "fast", "width": 30, "heads": 4})


# ---- conformance, seeds, save and load ----------------------------------------------------------------


def test_sample_conforms_to_the_contract(fitted):
    generator, frame, contract = fitted
    sample = generator.sample(300)
    assert len(sample) == 300
    assert_conforms(sample, contract)
    assert sample["colour"].isna().any()  # nullable in the data: the null is learned too
    assert sample["age"].nunique() > 5 and sample["income"].nunique() > 50
    assert generator.sample(0).columns.tolist() == contract.names


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows(fitted):
    generator, _, _ = fitted
    first = generator.sample(100, seed=3)
    pd.testing.assert_frame_equal(first, generator.sample(100, seed=3))
    pd.testing.assert_frame_equal(generator.sample(50), generator.sample(50))  # the model's own seed
    other = generator.sample(100, seed=4)
    model_columns = ["age", "income", "colour", "member", "start_date"]
    assert not first[model_columns].equals(other[model_columns])
    assert (first["income"] != other["income"]).mean() > 0.5


def test_the_same_seed_fits_the_same_model():
    frame, contract = make_mixed_frame(rows=80, seed=1), mixed_contract()
    one, two = make(seed=3, epochs=1).fit(frame, contract), make(seed=3, epochs=1).fit(frame, contract)
    pd.testing.assert_frame_equal(one.sample(40), two.sample(40))
    three = make(seed=4, epochs=1).fit(frame, contract)
    assert not one.sample(40, seed=0)["income"].equals(three.sample(40, seed=0)["income"])


def test_the_save_folder_holds_state_dicts_and_json_only(fitted, saved):
    generator, _, _ = fitted
    assert sorted(p.name for p in saved.iterdir()) == SAVED_FILES
    weights = torch.load(saved / "weights.pt", weights_only=True)  # tensors only: no pickled code
    assert list(weights) == ["transformer"]
    assert all(isinstance(t, torch.Tensor) for t in weights["transformer"].values())
    manifest = json.loads((saved / "generator.json").read_text())
    assert manifest["generator"] == "llm" and manifest["config"] == generator.config.model_dump(mode="json")
    assert sorted(manifest["sha256"]) == sorted(set(SAVED_FILES) - {"generator.json"})
    assert "torch" in manifest["versions"]
    vocabulary = RowVocabulary.model_validate_json((saved / "vocabulary.json").read_text())
    assert vocabulary == generator.vocabulary_
    training = json.loads((saved / "training.json").read_text())
    assert training == generator.training_
    assert training["epochs_completed"] == training["epochs_requested"] == PRESETS["fast"]["epochs"]
    assert training["stopped_early"] is False and training["device"] == "cpu"


def test_a_loaded_model_samples_the_same_rows(fitted, saved):
    generator, _, _ = fitted
    loaded = Generator.load(saved)
    assert isinstance(loaded, LLMGenerator) and loaded.config == generator.config
    assert loaded.vocabulary_ == generator.vocabulary_ and loaded.training_ == generator.training_
    first, again = generator.sample(80, seed=5), loaded.sample(80, seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert first.to_csv(index=False).encode() == again.to_csv(index=False).encode()
    table = pd.DataFrame({"colour": ["blue", None, "red"] * 8, "income": [None, 2000.0, None] * 8})
    pd.testing.assert_frame_equal(
        loaded.sample(24, conditions=table, seed=2), generator.sample(24, conditions=table, seed=2)
    )


def test_a_changed_byte_in_the_weights_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path / "model")
    weights = bytearray((folder / "weights.pt").read_bytes())
    weights[len(weights) // 2] ^= 0xFF
    (folder / "weights.pt").write_bytes(bytes(weights))
    with pytest.raises(ConfigError, match="weights.pt is missing or changed .*sha256 mismatch"):
        Generator.load(folder)


@pytest.mark.parametrize(("knob", "value"), [("width", 64), ("depth", 2)])
def test_a_config_that_does_not_fit_the_weights_is_refused(saved, tmp_path, knob, value):
    folder = _copy(saved, tmp_path / "model")
    _edit_config(folder, **{knob: value})
    with pytest.raises(ConfigError, match="does not fit the model's config") as info:
        Generator.load(folder)
    assert "generator.json" in info.value.hint


def test_a_saved_width_that_does_not_split_into_heads_is_a_config_error(saved, tmp_path):
    folder = _copy(saved, tmp_path / "model")
    _edit_config(folder, width=33)  # heads: 2
    with pytest.raises(ConfigError):
        Generator.load(folder)


def test_a_sample_larger_than_sample_batch_is_made_in_batches(fitted, saved, tmp_path):
    generator, _, contract = fitted
    loaded = _with_knobs(saved, tmp_path / "model", sample_batch=16)
    sample = loaded.sample(50)
    assert len(sample) == 50
    assert_conforms(sample, contract)
    table = pd.DataFrame({"colour": ["red", "blue", None, "green", "red"] * 10})
    rows = loaded.sample(50, conditions=table)
    fixed = table["colour"].notna()
    assert (rows.loc[fixed, "colour"] == table.loc[fixed, "colour"]).all()


# ---- valid by construction ----------------------------------------------------------------------------


def _tight() -> tuple[pd.DataFrame, Contract]:
    """Tight ranges on every number, a category with a value never seen, nulls in a category, a number
    and a text column: what an untrained model must still write validly."""
    rng = np.random.default_rng(11)
    rows = 150
    weight = np.round(rng.uniform(0, 50, rows), 1)
    weight[rng.random(rows) < 0.2] = np.nan
    colour = rng.choice(["red", "blue"], rows).astype(object)
    colour[rng.random(rows) < 0.2] = None
    comment = rng.choice(["ok", "", "fine", "so-so"], rows).astype(object)
    comment[rng.random(rows) < 0.2] = None
    frame = pd.DataFrame(
        {
            "grade": rng.choice(["A", "B", "C"], rows).astype(object),
            "colour": colour,
            "small": pd.array(rng.integers(3, 8, rows), dtype="Int64"),
            "qty": pd.array(rng.integers(0, 1001, rows), dtype="Int64"),
            "ratio": np.round(rng.uniform(-1.5, 2.25, rows), 2),
            "weight": weight,
            "flag": pd.array(rng.random(rows) < 0.5, dtype="boolean"),
            "day": pd.Timestamp("2024-02-01") + pd.to_timedelta(rng.integers(0, 29, rows), unit="D"),
            "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s"),
            "comment": comment,
        }
    )
    contract = Contract(
        dataset="tight",
        columns=[
            Column(name="grade", kind=ColumnKind.CATEGORICAL, values=["A", "B", "C", "D"]),
            Column(name="colour", kind=ColumnKind.CATEGORICAL, nullable=True, values=["red", "blue"]),
            Column(name="small", kind=ColumnKind.INTEGER, min=3, max=7),
            Column(name="qty", kind=ColumnKind.INTEGER, min=0, max=1000),
            Column(name="ratio", kind=ColumnKind.FLOAT, min=-1.5, max=2.25),
            Column(name="weight", kind=ColumnKind.FLOAT, nullable=True, min=0.0, max=50.0),
            Column(name="flag", kind=ColumnKind.BOOLEAN),
            Column(
                name="day", kind=ColumnKind.DATETIME, format="%Y-%m-%d", min="2024-02-01", max="2024-02-29"
            ),
            Column(
                name="at",
                kind=ColumnKind.DATETIME,
                format="%Y-%m-%d %H:%M:%S",
                min="2024-01-01 00:00:00",
                max="2024-01-01 23:59:59",
            ),
            Column(name="comment", kind=ColumnKind.TEXT, nullable=True),
        ],
    )
    return frame, contract


@pytest.mark.parametrize(
    "knobs",
    [{}, {"max_bins": 4, "max_radix": 3}, {"top_p": 0.5, "top_k": 3}],
    ids=["default-bins", "small-bins", "top-k-p"],
)
def test_an_untrained_model_at_a_high_temperature_still_writes_valid_rows(knobs):
    frame, contract = _tight()
    generator = make(epochs=1, temperature=5.0, **knobs).fit(frame, contract)
    with seeded(0):
        raw = generator._sample(2000, 0)  # the model's own rows, before the base class conforms them
    assert len(raw) == 2000
    chars = {ch for text in frame["comment"].dropna() for ch in text}
    for column in contract.columns:
        values = raw[column.name]
        present = values.dropna()
        if not column.nullable:
            assert values.notna().all(), column.name
        if column.kind is ColumnKind.CATEGORICAL:
            assert set(present) <= set(column.values) - {"D"}, column.name  # D: allowed, never seen
        if column.min is not None:
            low = pd.Timestamp(column.min) if column.kind is ColumnKind.DATETIME else column.min
            high = pd.Timestamp(column.max) if column.kind is ColumnKind.DATETIME else column.max
            assert present.min() >= low and present.max() <= high, column.name
        if column.kind is ColumnKind.INTEGER:
            assert (present == np.round(present)).all(), column.name
        if column.is_date_only:
            assert (present == present.dt.normalize()).all(), column.name
        if column.kind is ColumnKind.TEXT:
            assert set("".join(present)) <= chars
            assert present.str.len().max() <= frame[column.name].str.len().max()
    if not knobs.get("top_k"):  # a hot, untrained model is close to uniform over the allowed tokens
        assert raw["small"].min() == 3 and raw["small"].max() == 7
        assert raw["qty"].max() > 900 and raw["ratio"].max() > 2.0
        assert all(raw[c.name].isna().any() for c in contract.columns if c.nullable)
    assert_conforms(generator.sample(500), contract)


# ---- learning -----------------------------------------------------------------------------------------

LEARN = {"epochs": 20, "learning_rate": 3e-3}
"""About 2.5 s on one CPU thread (600 rows)."""


@pytest.fixture(scope="module")
def two_groups():
    """group a (70 %): value ~ N(10, 3), flag 20 % true; group b (30 %): value ~ N(90, 3), flag 80 %."""
    rng = np.random.default_rng(0)
    rows = 600
    group = np.where(rng.random(rows) < 0.3, "b", "a")
    value = np.round(np.where(group == "b", rng.normal(90, 3, rows), rng.normal(10, 3, rows)), 1)
    flag = rng.random(rows) < np.where(group == "b", 0.8, 0.2)
    frame = pd.DataFrame(
        {"group": group.astype(object), "value": value, "flag": pd.array(flag, dtype="boolean")}
    )
    contract = Contract(
        dataset="two-groups",
        columns=[
            Column(name="group", kind=ColumnKind.CATEGORICAL, values=["a", "b", "c"]),
            Column(name="value", kind=ColumnKind.FLOAT, min=0.0, max=100.0),
            Column(name="flag", kind=ColumnKind.BOOLEAN),
        ],
    )
    generator = make(seed=0, **LEARN).fit(frame, contract)
    return generator, frame, contract


@pytest.fixture(scope="module")
def two_groups_saved(two_groups, tmp_path_factory):
    generator, _, _ = two_groups
    folder = tmp_path_factory.mktemp("llm-two-groups") / "model"
    generator.save(folder)
    return folder


def test_the_model_learns_the_group_shares_and_the_value_per_group(two_groups):
    generator, frame, contract = two_groups
    sample = generator.sample(1000)
    assert_conforms(sample, contract)
    b = sample["group"] == "b"
    # data: b 28 %. Measured: b 27 %; value median 9.9 (a) and 89.7 (b), mean 11.2 and 83.9 (a few b
    # rows get an a-like value); flag 21 % (a) and 73 % (b)
    assert abs(b.mean() - (frame["group"] == "b").mean()) < 0.08
    assert abs(sample.loc[~b, "value"].median() - 10) < 3 and abs(sample.loc[b, "value"].median() - 90) < 3
    assert sample.loc[b, "value"].mean() - sample.loc[~b, "value"].mean() > 55
    assert (abs(sample.loc[~b, "value"] - 10) < 10).mean() > 0.85
    assert (abs(sample.loc[b, "value"] - 90) < 10).mean() > 0.8
    assert sample.loc[b, "flag"].mean() - sample.loc[~b, "flag"].mean() > 0.3
    assert set(sample["group"]) == {"a", "b"}  # c is allowed but never seen: never made


def test_a_condition_on_the_group_moves_the_value(two_groups):
    generator, _, contract = two_groups
    b = generator.sample(400, conditions={"group": "b"})
    a = generator.sample(400, conditions={"group": "a"})
    assert_conforms(b, contract)
    assert (b["group"] == "b").all() and (a["group"] == "a").all()
    # measured: 93 % of the b rows within 10 of 90, mean 83.9; a rows: median 9.9
    assert abs(b["value"].median() - 90) < 3 and (abs(b["value"] - 90) < 10).mean() > 0.8
    assert abs(a["value"].median() - 10) < 3 and (abs(a["value"] - 10) < 10).mean() > 0.85
    assert b["flag"].mean() - a["flag"].mean() > 0.3


def test_per_row_conditions_stay_with_their_rows(two_groups):
    generator, _, _ = two_groups
    table = pd.DataFrame({"group": ["a", "b", None, "b"] * 50})
    sample = generator.sample(len(table), conditions=table)
    fixed = table["group"].notna()
    assert (sample.loc[fixed, "group"] == table.loc[fixed, "group"]).all()
    assert sample.loc[table["group"] == "b", "value"].median() > 80
    assert sample.loc[table["group"] == "a", "value"].median() < 20
    assert sample.loc[~fixed, "group"].nunique() == 2  # the free rows are the model's choice


# ---- the sampling knobs -------------------------------------------------------------------------------


def test_top_k_1_writes_the_likeliest_row_whatever_the_seed(two_groups_saved, tmp_path):
    loaded = _with_knobs(two_groups_saved, tmp_path / "model", top_k=1)
    sample = loaded.sample(60, seed=1)
    assert len(sample.drop_duplicates()) == 1  # every step takes its likeliest token
    assert sample["group"].iloc[0] == "a"  # the mode (70 % of the rows)
    assert abs(sample["value"].iloc[0] - 10) < 5
    pd.testing.assert_frame_equal(sample, loaded.sample(60, seed=2))
    b = loaded.sample(30, conditions={"group": "b"}, seed=3)
    assert len(b.drop_duplicates()) == 1 and abs(b["value"].iloc[0] - 90) < 5


SAMPLING_KNOBS = {"cold": {"temperature": 0.3}, "hot": {"temperature": 3.0}, "nucleus": {"top_p": 0.3}}


def _far(sample: pd.DataFrame) -> float:
    """The share of values far from both groups' centres."""
    return float(((abs(sample["value"] - 10) > 15) & (abs(sample["value"] - 90) > 15)).mean())


def test_temperature_and_top_p_change_the_spread_and_the_rows_stay_valid(
    two_groups, two_groups_saved, tmp_path
):
    generator, _, contract = two_groups
    base = generator.sample(600, seed=5)
    spread = {}
    for name, knobs in SAMPLING_KNOBS.items():
        loaded = _with_knobs(two_groups_saved, tmp_path / name, **knobs)
        sample = loaded.sample(600, seed=5)
        assert_conforms(sample, contract)
        assert not sample.equals(base), name
        spread[name] = sample
    # the distinct values written: fewer when cold or nucleus-cut, more when hot
    assert spread["cold"]["value"].nunique() < base["value"].nunique() < spread["hot"]["value"].nunique()
    assert spread["nucleus"]["value"].nunique() < base["value"].nunique()
    # a hot model strays from the learned groups: more values far from both 10 and 90
    assert _far(spread["cold"]) <= _far(base) < _far(spread["hot"])


# ---- text columns -------------------------------------------------------------------------------------

POSITIVE = ["good", "great", "nice", "super", "neat", "ideal"]
NEGATIVE = ["bad", "poor", "awful", "weak", "cheap", "dull"]
NOUNS = ["lid", "box", "bag", "pen", "cup", "toy", "mat", "fan"]
ENDINGS = {"positive": ["love it", "a gem", "buy it", "so fun"], "negative": ["sad", "meh", "nope", "avoid"]}
REVIEW = re.compile(r"^(\w+) (\w+) and (\w+) (\w+), ([\w ]+)$")
TEXT = {"epochs": 20, "width": 64, "depth": 2, "heads": 2, "batch_size": 64, "learning_rate": 3e-3}
"""About 15 s on one CPU thread (800 rows of up to 35 tokens)."""


def _reviews(rows: int = 800, seed: int = 0) -> pd.DataFrame:
    """sentiment (half positive); stars 4-5 when positive, 1-3 when negative; a review "ADJ NOUN and ADJ
    NOUN, ENDING" with adjectives and ending of its sentiment: 6 × 8 × 6 × 7 × 4 = 8,064 reviews per
    sentiment, twenty times its 400 rows: a model that copies its training rows is seen to."""
    rng = np.random.default_rng(seed)
    positive = rng.random(rows) < 0.5
    stars = np.where(
        positive, rng.choice([4, 5], rows, p=[0.4, 0.6]), rng.choice([1, 2, 3], rows, p=[0.5, 0.35, 0.15])
    )
    reviews = []
    for good in positive:
        adjectives = POSITIVE if good else NEGATIVE
        first, second = rng.choice(adjectives, 2)
        noun, other = rng.choice(NOUNS, 2, replace=False)
        ending = rng.choice(ENDINGS["positive" if good else "negative"])
        reviews.append(f"{first} {noun} and {second} {other}, {ending}")
    return pd.DataFrame(
        {
            "sentiment": np.where(positive, "positive", "negative").astype(object),
            "stars": pd.array(stars, dtype="Int64"),
            "review": pd.Series(reviews, dtype=object),
        }
    )


def _reviews_contract() -> Contract:
    return Contract(
        dataset="reviews",
        columns=[
            Column(name="sentiment", kind=ColumnKind.CATEGORICAL, values=["negative", "positive"]),
            Column(name="stars", kind=ColumnKind.INTEGER, min=1, max=5),
            Column(name="review", kind=ColumnKind.TEXT),
        ],
    )


@pytest.fixture(scope="module")
def reviews():
    frame, contract = _reviews(), _reviews_contract()
    return make(seed=0, **TEXT).fit(frame, contract), frame, contract


def _first_words(sample: pd.DataFrame) -> pd.Series:
    return sample["review"].str.split(" ").str[0]


# record_property warns under --junitxml's default xunit2 family, and this project makes warnings errors
@pytest.mark.filterwarnings("ignore:record_property is incompatible with junit_family")
def test_generated_reviews_are_new_text_that_follows_the_sentiment_condition(reviews, record_property):
    """The issue's requirement: text not copied from the training rows (the exact-copy rate reported)
    and consistent with a conditioning column."""
    generator, frame, contract = reviews
    sample = generator.sample(400, conditions={"sentiment": "positive"}, seed=1)
    assert_conforms(sample, contract)
    assert (sample["sentiment"] == "positive").all()
    first = _first_words(sample)
    well_formed = sample["review"].str.match(REVIEW)
    copies = sample["review"].isin(set(frame["review"]))
    rate = float(copies.mean())
    print(f"exact-copy rate {rate:.3f}")
    record_property("exact_copy_rate", round(rate, 4))
    record_property("well_formed_rate", round(float(well_formed.mean()), 4))
    # measured (data and model seeds 0-3, two sample seeds each): 96-97 % positive first words, at most
    # 0.7 % negative, 96-98 % in the template's shape, 3.0-6.8 % exact copies (6.8 % here), 93-95 %
    # positive endings, stars 4-5 in 99.8-100 % of the rows. Ignoring the condition: about 50 % positive.
    assert first.isin(POSITIVE).mean() >= 0.85
    assert first.isin(NEGATIVE).mean() <= 0.03
    assert well_formed.mean() >= 0.85  # text, not noise: a low copy rate means something
    assert rate < 0.25
    assert (well_formed & ~copies).mean() >= 0.75  # new reviews in the template's shape
    assert sample["stars"].isin([4, 5]).mean() >= 0.9  # the other columns follow the condition too
    endings = sample["review"].str.extract(REVIEW)[4].dropna()
    assert endings.isin(ENDINGS["positive"]).mean() >= 0.85  # the whole text, not only its start


def test_a_negative_condition_writes_negative_reviews(reviews):
    generator, _, _ = reviews
    sample = generator.sample(200, conditions={"sentiment": "negative"}, seed=2)
    first = _first_words(sample)
    # measured (seeds 0-3): 97.5-99.5 % negative first words, at most 0.5 % positive, stars ≤ 3 in all
    assert first.isin(NEGATIVE).mean() >= 0.85 and first.isin(POSITIVE).mean() <= 0.03
    assert (sample["stars"] <= 3).mean() >= 0.9


def test_unconditioned_reviews_agree_with_their_own_sentiment(reviews):
    generator, frame, _ = reviews
    sample = generator.sample(400, seed=3)
    positive = sample["sentiment"] == "positive"
    assert 0.35 < positive.mean() < 0.65  # data: 50 %
    first = _first_words(sample)
    agree = np.where(positive, first.isin(POSITIVE), first.isin(NEGATIVE))
    # measured (seeds 0-3): 96-98 %; a model that wrote text ignoring the row would agree half the time
    assert agree.mean() >= 0.85
    assert sample["review"].isin(set(frame["review"])).mean() < 0.25  # measured 3-6 %


def test_a_condition_on_the_text_column(reviews):
    generator, _, _ = reviews
    text = "neat fan and ideal mat, a gem"  # known characters, never a training review
    sample = generator.sample(20, conditions={"review": text})
    assert (sample["review"] == text).all()
    with pytest.raises(ConfigError, match=r"text column 'review': character\(s\) \['!'\]"):
        generator.sample(5, conditions={"review": "neat fan!"})


# ---- time budget and progress -------------------------------------------------------------------------


def test_a_spent_time_budget_still_trains_one_epoch_and_the_summary_is_saved(tmp_path):
    frame, contract = make_mixed_frame(rows=120, seed=3), mixed_contract()
    generator = make(epochs=50, max_minutes=1e-12).fit(frame, contract)
    generator.save(tmp_path / "model")
    training = json.loads((tmp_path / "model" / "training.json").read_text())
    assert training["epochs_requested"] == 50
    assert training["epochs_completed"] == 1 and training["stopped_early"] is True
    assert [set(epoch) for epoch in training["losses"]] == [{"loss"}]
    assert np.isfinite(training["losses"][0]["loss"])
    assert training == generator.training_
    assert_conforms(generator.sample(20), contract)


def test_progress_reports_epochs_and_losses():
    frame, contract = make_mixed_frame(rows=100, seed=4), mixed_contract()
    updates = []
    make(epochs=3).fit(frame, contract, progress=updates.append)
    assert updates[0].total is None and "vocabulary" in updates[0].message
    epochs = [u for u in updates if u.metrics]
    assert [(u.done, u.total) for u in epochs] == [(1, 3), (2, 3), (3, 3)]
    assert all(set(u.metrics) == {"loss"} and np.isfinite(u.metrics["loss"]) for u in epochs)
    losses = [u.metrics["loss"] for u in epochs]
    assert losses[-1] < losses[0]  # it learns something


# ---- CUDA ---------------------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_and_sampling_on_a_gpu(tmp_path):
    """`-m gpu` on a GPU machine: the model trains, samples, conditions and reloads on CUDA."""
    frame, contract = make_mixed_frame(rows=200, seed=5), mixed_contract()
    generator = make(device="cuda").fit(frame, contract)
    assert generator.training_["device"].startswith("cuda")
    assert next(generator.network_.parameters()).is_cuda
    assert_conforms(generator.sample(100), contract)
    pd.testing.assert_frame_equal(generator.sample(40, seed=2), generator.sample(40, seed=2))
    sample = generator.sample(30, conditions={"colour": "red", "age": 50, "income": 1234.5})
    assert (sample["colour"] == "red").all() and (sample["age"] == 50).all()
    assert (sample["income"] == 1234.5).all()
    generator.save(tmp_path / "model")
    loaded = Generator.load(tmp_path / "model")
    assert next(loaded.network_.parameters()).is_cuda
    pd.testing.assert_frame_equal(loaded.sample(30, seed=1), generator.sample(30, seed=1))
    text = make(device="cuda", epochs=2).fit(_reviews(200), _reviews_contract())
    assert_conforms(text.sample(50, conditions={"sentiment": "positive"}), _reviews_contract())
