"""The `diffusion` generator: presets, learning (conditions that move the other columns), nulls and
pooled categories, seeds, the time budget, the save folder, CUDA and the command line. Conditions on every
column kind, and the ones refused, are checked for every conditional generator in test_conformance.py.

Small seeded frames and the `fast` preset (a second a fit): these check the machinery. One test fits a
little longer on a two-group table and fails if the model does not learn it.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from cli_support import Result, cli, cli_captured, logging_restored
from support import make_mixed_frame, mixed_contract
from test_conformance import assert_conforms

from synthwright.data_contracts.io import save_contract
from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.generators.base import Generator
from synthwright.generators.diffusion.generator import PRESETS, DiffusionConfig
from synthwright.generators.registry import create_generator
from synthwright.pipelines.ingest import ingest

FAST = {"preset": "fast"}
KNOBS = ["epochs", "batch_size", "hidden", "depth", "sampling_steps"]
SAVED_FILES = ["contract.json", "encoding.json", "generator.json", "training.json", "weights.pt"]


def make(seed: int = 7, device: str = "cpu", **overrides) -> Generator:
    return create_generator("diffusion", {**FAST, **overrides}, seed=seed, device=device)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread for these tiny networks. On 2 shared, busy cores torch's default 2 threads
    spin-wait on each other: a 2 s fit was measured at 12 s to 180 s (1 thread: 2 s every time)."""
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
    folder = tmp_path_factory.mktemp("diffusion") / "model"
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


# ---- config and presets ------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["fast", "default", "quality"])
def test_a_preset_fills_every_knob_it_names(preset):
    config = create_generator("diffusion", {"preset": preset}).config
    assert config.preset == preset
    assert set(KNOBS) <= set(PRESETS[preset])
    for knob, value in PRESETS[preset].items():
        assert getattr(config, knob) == value, knob


def test_presets_grow_from_fast_to_quality_and_default_is_the_default():
    fast, default, quality = (create_generator("diffusion", {"preset": p}).config for p in PRESETS)
    for knob in KNOBS:
        assert getattr(fast, knob) < getattr(default, knob) <= getattr(quality, knob), knob
    assert fast.epochs <= 10 and fast.hidden <= 128  # the test preset stays small
    assert create_generator("diffusion").config == default
    assert DiffusionConfig() == default


def test_an_explicit_knob_overrides_the_preset():
    config = create_generator("diffusion", {"preset": "quality", "epochs": 5, "sampling_steps": 3}).config
    assert (config.epochs, config.sampling_steps) == (5, 3)
    assert config.hidden == PRESETS["quality"]["hidden"]  # the rest still from the preset
    assert create_generator("diffusion", {"hidden": 32}).config.epochs == PRESETS["default"]["epochs"]


def test_an_unknown_preset_is_a_config_error_naming_it():
    with pytest.raises(ConfigError) as info:
        create_generator("diffusion", {"preset": "huge"})
    message = str(info.value)
    assert "preset" in message and "'huge'" in message
    assert "'fast'" in message and "'quality'" in message  # what is allowed


def test_an_unknown_preset_reports_only_the_preset():
    with pytest.raises(ConfigError) as info:
        create_generator("diffusion", {"preset": "huge"})
    assert "Field required" not in str(info.value)
    assert "1 problem" in str(info.value)


def test_an_unknown_key_is_a_config_error_with_concrete_defaults_in_the_hint():
    with pytest.raises(ConfigError, match="no_such_knob") as info:
        create_generator("diffusion", {"preset": "fast", "no_such_knob": 1})
    assert "1 problem" in str(info.value)
    hint = info.value.hint
    assert "valid keys" in hint and "sampling_steps" in hint
    assert f"epochs (default {PRESETS['default']['epochs']})" in hint
    assert "PydanticUndefined" not in hint


@pytest.mark.parametrize(
    ("knob", "value"),
    [("epochs", 0), ("hidden", -1), ("sampling_steps", 1), ("ema_decay", 1.0), ("conditioned_share", 1.5)],
)
def test_an_invalid_knob_value_is_a_config_error(knob, value):
    with pytest.raises(ConfigError, match=knob):
        create_generator("diffusion", {"preset": "fast", knob: value})


def test_the_saved_config_holds_concrete_values_and_loads_the_same(fitted, saved):
    generator, _, _ = fitted
    manifest = json.loads((saved / "generator.json").read_text())
    config = manifest["config"]
    assert config == generator.config.model_dump(mode="json")
    assert config["preset"] == "fast"
    for knob in KNOBS:
        assert config[knob] == PRESETS["fast"][knob], knob
    assert all(value is not None for key, value in config.items() if key != "max_minutes")
    loaded = Generator.load(saved)
    assert loaded.config == generator.config


def test_a_saved_model_keeps_its_knobs_when_the_preset_name_changes(fitted, saved, tmp_path):
    generator, _, _ = fitted
    folder = _copy(saved, tmp_path / "model")
    _edit_config(folder, preset="quality")
    loaded = Generator.load(folder)
    assert loaded.config.hidden == PRESETS["fast"]["hidden"]  # explicit values win over the preset
    pd.testing.assert_frame_equal(loaded.sample(30, seed=4), generator.sample(30, seed=4))


# ---- learning --------------------------------------------------------------------------------------------

LEARN = {"epochs": 60, "batch_size": 128, "hidden": 128, "sample_batch": 256}
"""About 1.5 s on one CPU thread (1,000 rows); sample_batch makes a 500-row sample two batches."""


@pytest.fixture(scope="module")
def two_groups():
    """group a (70 %): value ~ N(0, 1), flag 20 % true; group b (30 %): value ~ N(8, 1), flag 80 %."""
    rng = np.random.default_rng(0)
    rows = 1000
    group = np.where(rng.random(rows) < 0.3, "b", "a")
    value = np.where(group == "b", rng.normal(8, 1, rows), rng.normal(0, 1, rows))
    flag = rng.random(rows) < np.where(group == "b", 0.8, 0.2)
    frame = pd.DataFrame(
        {"group": group.astype(object), "value": value, "flag": pd.array(flag, dtype="boolean")}
    )
    contract = Contract(
        dataset="two-groups",
        columns=[
            Column(name="group", kind=ColumnKind.CATEGORICAL, values=["a", "b", "c"]),
            Column(name="value", kind=ColumnKind.FLOAT),
            Column(name="flag", kind=ColumnKind.BOOLEAN),
        ],
    )
    generator = make(seed=0, **LEARN).fit(frame, contract)
    return generator, frame, contract


def test_the_model_learns_the_group_shares_and_the_values_per_group(two_groups):
    generator, frame, contract = two_groups
    sample = generator.sample(2000)
    assert_conforms(sample, contract)
    b = sample["group"] == "b"
    # data: b 27.7 %. Measured: b 27.5 %; value mean 0.31 (a) and 7.60 (b), median -0.08 and 8.28;
    # flag 24 % (a) and 73 % (b). About a tenth of the b rows get an a-like value (the quantile map
    # squeezes the gap between the modes), which pulls the b mean down: the medians are tighter.
    assert abs(b.mean() - (frame["group"] == "b").mean()) < 0.08
    assert abs(sample.loc[~b, "value"].mean()) < 1.0
    assert abs(sample.loc[b, "value"].mean() - 8) < 1.5
    assert abs(sample.loc[~b, "value"].median()) < 0.75 and abs(sample.loc[b, "value"].median() - 8) < 0.75
    assert sample.loc[b, "flag"].mean() - sample.loc[~b, "flag"].mean() > 0.35
    assert set(sample["group"]) == {"a", "b"}  # c is allowed but never seen: never made


def test_a_condition_on_the_group_moves_the_value(two_groups):
    generator, _, contract = two_groups
    b = generator.sample(500, conditions={"group": "b"})
    a = generator.sample(500, conditions={"group": "a"})
    assert_conforms(b, contract)
    assert (b["group"] == "b").all() and (a["group"] == "a").all()
    # measured: value mean 7.55, median 8.27 and flag 81 % (b); value mean 0.25 (a)
    assert abs(b["value"].mean() - 8) < 1.5 and abs(b["value"].median() - 8) < 0.75
    assert abs(a["value"].mean()) < 1.0
    assert b["flag"].mean() > 0.6


def test_a_condition_on_the_number_moves_the_group(two_groups):
    generator, _, _ = two_groups
    high = generator.sample(500, conditions={"value": 8.0})
    low = generator.sample(500, conditions={"value": 0.0})
    assert (high["value"] == 8.0).all() and (low["value"] == 0.0).all()
    # measured: b in 81 % of the rows at value 8, in 8 % at value 0 (data: 100 % and 0 %)
    assert (high["group"] == "b").mean() > 0.65
    assert (low["group"] == "b").mean() < 0.2


def test_per_row_conditions_stay_with_their_rows_across_sampling_batches(two_groups):
    generator, _, _ = two_groups
    table = pd.DataFrame({"group": ["a", "b", None, "b"] * 125})  # 500 rows: two batches of 256
    sample = generator.sample(len(table), conditions=table)
    fixed = table["group"].notna()
    assert (sample.loc[fixed, "group"] == table.loc[fixed, "group"]).all()
    in_b = table["group"] == "b"
    in_a = table["group"] == "a"
    # measured: median 8.32 (b rows), -0.15 (a rows); 8.33 and 8.31 in the two batches
    assert sample.loc[in_b, "value"].median() > 6 and abs(sample.loc[in_a, "value"].median()) < 1.5
    for half in (slice(0, 256), slice(256, 500)):  # in each batch
        part = sample.iloc[half]
        assert part.loc[in_b.iloc[half], "value"].median() > 6
    assert sample.loc[~fixed, "group"].nunique() == 2  # the free rows are the model's choice


# ---- nulls and pooled categories (conditions on every column kind: test_conformance.py) ----------------


def test_a_null_pooled_beyond_max_categories_fits_and_is_made():
    frame = pd.DataFrame({"shop": ["a"] * 60 + ["b"] * 30 + [None] * 10, "n": np.arange(100.0)})
    contract = Contract(
        dataset="pooled-null",
        columns=[
            Column(name="shop", kind=ColumnKind.CATEGORICAL, nullable=True),
            Column(name="n", kind=ColumnKind.FLOAT),
        ],
    )
    generator = make(max_categories=2, epochs=2).fit(frame, contract)
    sample = generator.sample(300)
    assert sample["shop"].isna().any() and set(sample["shop"].dropna()) == {"a", "b"}


def test_a_number_never_present_in_training_is_never_made():
    """An all-null column is learned as a flag that is always "null"; an untrained (fast) model could
    still draw "present" from it, so the encoding makes such a column null by rule."""
    frame = pd.DataFrame({"shop": list("ab") * 25, "unknown": [np.nan] * 50})
    contract = Contract(
        dataset="all-null",
        columns=[
            Column(name="shop", kind=ColumnKind.CATEGORICAL),
            Column(name="unknown", kind=ColumnKind.FLOAT, nullable=True),
        ],
    )
    generator = make(epochs=1).fit(frame, contract)
    assert generator.sample(200)["unknown"].isna().all()
    assert generator.sample(20, conditions={"shop": "b"})["unknown"].isna().all()


def test_a_condition_on_a_number_with_nulls_makes_it_present():
    rng = np.random.default_rng(1)
    rows = 150
    spend = rng.gamma(2.0, 30.0, rows)
    spend[rng.random(rows) < 0.4] = np.nan
    frame = pd.DataFrame({"spend": spend, "vip": pd.array(rng.random(rows) < 0.5, dtype="boolean")})
    contract = Contract(
        dataset="nullable",
        columns=[
            Column(name="spend", kind=ColumnKind.FLOAT, nullable=True, min=0.0),
            Column(name="vip", kind=ColumnKind.BOOLEAN),
        ],
    )
    generator = make(epochs=2).fit(frame, contract)
    assert generator.sample(300)["spend"].isna().any()  # nulls are made when free
    sample = generator.sample(40, conditions={"spend": 42.5})
    assert (sample["spend"] == 42.5).all()
    table = pd.DataFrame({"spend": [10.0, None] * 20, "vip": pd.array([None, True] * 20, dtype="boolean")})
    sample = generator.sample(40, conditions=table)
    assert (sample["spend"].iloc[::2] == 10.0).all() and sample["vip"].iloc[1::2].all()


# ---- seeds and sampling steps ------------------------------------------------------------------------------


def test_the_same_fit_seed_gives_the_same_model_and_rows():
    frame, contract = make_mixed_frame(rows=150, seed=2), mixed_contract()
    first, again, other = (make(seed=seed).fit(frame, contract) for seed in (3, 3, 4))
    assert first.training_["losses"] == again.training_["losses"]
    assert first.training_["losses"] != other.training_["losses"]
    pd.testing.assert_frame_equal(first.sample(60), again.sample(60))
    pd.testing.assert_frame_equal(first.sample(60, seed=9), again.sample(60, seed=9))
    assert not first.sample(60, seed=9).equals(other.sample(60, seed=9))
    assert first.encoding_ == again.encoding_


def test_the_sample_seed_defaults_to_the_fit_seed_and_changes_the_rows(fitted):
    generator, _, _ = fitted
    pd.testing.assert_frame_equal(generator.sample(40), generator.sample(40, seed=7))
    assert not generator.sample(40, seed=1).equals(generator.sample(40, seed=2))


@pytest.mark.parametrize("steps", [2, 3, 25])
def test_sampling_steps_are_chosen_at_sampling_time_and_the_output_conforms(fitted, saved, tmp_path, steps):
    generator, _, contract = fitted
    folder = _copy(saved, tmp_path / "model")
    _edit_config(folder, sampling_steps=steps)  # the same weights, sampled in `steps` network calls
    loaded = Generator.load(folder)
    assert loaded.config.sampling_steps == steps
    sample = loaded.sample(120)
    assert_conforms(sample, contract)
    assert (loaded.sample(10, conditions={"colour": "red"})["colour"] == "red").all()
    pd.testing.assert_frame_equal(sample, loaded.sample(120))
    if steps != generator.config.sampling_steps:
        assert not sample.equals(generator.sample(120))


def test_a_sample_larger_than_sample_batch_is_made_in_batches(fitted, saved, tmp_path):
    _, _, contract = fitted
    folder = _copy(saved, tmp_path / "model")
    _edit_config(folder, sample_batch=16)
    loaded = Generator.load(folder)
    sample = loaded.sample(50)
    assert len(sample) == 50
    assert_conforms(sample, contract)
    table = pd.DataFrame({"colour": ["red", "blue", None, "green", "red"] * 10})
    rows = loaded.sample(50, conditions=table)
    fixed = table["colour"].notna()
    assert (rows.loc[fixed, "colour"] == table.loc[fixed, "colour"]).all()


@pytest.mark.parametrize(
    ("name", "frame", "columns"),
    [
        (
            "numbers only",
            pd.DataFrame(
                {
                    "x": np.random.default_rng(0).normal(size=80),
                    "k": pd.array(np.arange(80) % 5, dtype="Int64"),
                }
            ),
            [Column(name="x", kind=ColumnKind.FLOAT), Column(name="k", kind=ColumnKind.INTEGER)],
        ),
        (
            "categories only",
            pd.DataFrame(
                {"c": ["u", "v", "v", "u"] * 20, "b": pd.array([True, False] * 40, dtype="boolean")}
            ),
            [Column(name="c", kind=ColumnKind.CATEGORICAL), Column(name="b", kind=ColumnKind.BOOLEAN)],
        ),
        (
            "constants",
            pd.DataFrame({"x": [3.25] * 40, "k": pd.array([7] * 40, dtype="Int64"), "c": ["z"] * 40}),
            [
                Column(name="x", kind=ColumnKind.FLOAT),
                Column(name="k", kind=ColumnKind.INTEGER),
                Column(name="c", kind=ColumnKind.CATEGORICAL),
            ],
        ),
    ],
)
def test_tables_of_one_kind_and_constant_columns_fit_and_sample(name, frame, columns):
    contract = Contract(dataset="narrow", columns=columns)
    generator = make(epochs=2).fit(frame, contract)
    sample = generator.sample(60)
    assert_conforms(sample, contract)
    if name == "constants":
        assert sample.drop_duplicates().to_dict("records") == [{"x": 3.25, "k": 7, "c": "z"}]
    else:
        assert all(sample[c].nunique() > 1 for c in sample.columns)


# ---- time budget and progress (stopping early: test_ctgan_tvae.py, for every neural generator) -------


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


def test_progress_reports_epochs_and_losses():
    frame, contract = make_mixed_frame(rows=100, seed=4), mixed_contract()
    updates = []
    make(epochs=3).fit(frame, contract, progress=updates.append)
    assert updates[0].total is None and "encoding" in updates[0].message
    epochs = [u for u in updates if u.metrics]
    assert [(u.done, u.total) for u in epochs] == [(1, 3), (2, 3), (3, 3)]
    assert all(set(u.metrics) == {"loss"} and np.isfinite(u.metrics["loss"]) for u in epochs)


# ---- the save folder -----------------------------------------------------------------------------------


def test_the_save_folder_holds_state_dicts_and_json_only(fitted, saved):
    generator, _, _ = fitted
    assert sorted(p.name for p in saved.iterdir()) == SAVED_FILES
    weights = torch.load(saved / "weights.pt", weights_only=True)  # tensors only: no pickled code
    assert list(weights) == ["denoiser"]
    assert all(isinstance(t, torch.Tensor) for t in weights["denoiser"].values())
    manifest = json.loads((saved / "generator.json").read_text())
    assert manifest["generator"] == "diffusion"
    assert manifest["training"] == {k: v for k, v in generator.training_.items() if k != "losses"}
    assert sorted(manifest["sha256"]) == sorted(set(SAVED_FILES) - {"generator.json"})
    assert {"torch", "scipy"} <= set(manifest["versions"])
    json.loads((saved / "encoding.json").read_text())
    training = json.loads((saved / "training.json").read_text())
    assert training == generator.training_
    assert training["epochs_completed"] == training["epochs_requested"] == PRESETS["fast"]["epochs"]
    assert training["stopped_early"] is False and training["device"] == "cpu"
    assert len(training["losses"]) == training["epochs_completed"]


def test_a_loaded_model_samples_the_same_bytes(fitted, saved):
    generator, _, _ = fitted
    loaded = Generator.load(saved)
    assert loaded.training_ == generator.training_
    assert loaded.encoding_ == generator.encoding_
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


@pytest.mark.parametrize(("knob", "value"), [("hidden", 32), ("depth", 3)])
def test_a_config_that_does_not_fit_the_weights_is_refused(saved, tmp_path, knob, value):
    folder = _copy(saved, tmp_path / "model")
    _edit_config(folder, **{knob: value})
    with pytest.raises(ConfigError, match="does not fit the model's config") as info:
        Generator.load(folder)
    assert "generator.json" in info.value.hint


# ---- CUDA ----------------------------------------------------------------------------------------------


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


# ---- the command line ----------------------------------------------------------------------------------


@pytest.fixture
def _restore_logging():
    with logging_restored():
        yield


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory):
    """A diffusion model fitted with `synthwright fit -g diffusion --config preset=fast --json`."""
    folder = tmp_path_factory.mktemp("cli")
    data, contract = folder / "mixed.csv", folder / "mixed.yaml"
    make_mixed_frame(120, seed=0).to_csv(data, index=False)
    save_contract(mixed_contract(), contract)
    model = folder / "model"
    result = cli_captured(
        "fit", data, "--generator", "diffusion", "--contract", contract, "--out", model,
        "--config", "preset=fast", "--config", "epochs=2", "--device", "cpu", "--seed", "1", "--json",
    )  # fmt: skip
    return model, result


def test_cli_fit_with_a_preset(cli_model):
    model, result = cli_model
    assert result.code == 0, result
    summary = json.loads(result.out)
    assert summary["generator"] == "diffusion" and summary["rows"] == 120
    assert summary["training"]["epochs_completed"] == 2 and summary["training"]["device"] == "cpu"
    config = json.loads((model / "generator.json").read_text())["config"]
    assert config["preset"] == "fast" and config["epochs"] == 2
    assert config["hidden"] == PRESETS["fast"]["hidden"]


def _read(path) -> pd.DataFrame:
    result = ingest(path, contract=mixed_contract())
    assert not result.parse_failures, result.parse_failures
    return result.frame


@pytest.mark.parametrize(
    ("condition", "column", "expected"),
    [
        ("colour=red", "colour", "red"),
        ("age=40", "age", 40),
        ("income=1234.5", "income", 1234.5),
        ("member=true", "member", True),
        ("start_date=2024-03-01", "start_date", pd.Timestamp("2024-03-01")),
    ],
)
def test_cli_sample_with_a_condition(
    capsys, cli_model, tmp_path, _restore_logging, condition, column, expected
):
    model, _ = cli_model
    target = tmp_path / "out.csv"
    result: Result = cli(capsys, "sample", model, "--rows", 40, "--condition", condition, "--out", target)
    assert result.code == 0, result
    frame = _read(target)
    assert len(frame) == 40
    assert (frame[column] == expected).all(), frame[column].unique()
    assert_conforms(frame, mixed_contract())


def test_cli_sample_with_per_row_conditions(capsys, cli_model, tmp_path, _restore_logging):
    model, _ = cli_model
    conditions = tmp_path / "cond.csv"
    ages = pd.array([None, 70, 20] * 4, dtype="Int64")
    pd.DataFrame({"colour": ["red", None, "blue"] * 4, "age": ages}).to_csv(conditions, index=False)
    target = tmp_path / "out.parquet"
    result = cli(capsys, "sample", model, "--conditions", conditions, "--out", target)
    assert result.code == 0, result
    frame = _read(target)
    assert frame["colour"].iloc[::3].eq("red").all() and frame["colour"].iloc[2::3].eq("blue").all()
    assert frame["age"].iloc[1::3].eq(70).all() and frame["age"].iloc[2::3].eq(20).all()


def test_cli_generators_lists_diffusion_with_its_default_preset(capsys, _restore_logging):
    result = cli(capsys, "generators", "--json")
    assert result.code == 0, result
    rows = {row["name"]: row for row in json.loads(result.out)}
    config = rows["diffusion"]["config"]
    assert config["preset"] == "default"
    assert {knob: config[knob] for knob in KNOBS} == {knob: PRESETS["default"][knob] for knob in KNOBS}
