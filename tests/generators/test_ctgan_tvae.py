"""CTGAN and TVAE: seeded fits, the save folder, the time budget, progress, and what their conditioning
adds to the conformance suite's (conditions they refuse, the bounded search for the others).

Small frames and two epochs: these check the machinery, not the quality of what the models learn.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import torch
from support import REPO, make_mixed_frame, mixed_contract

from synthwright.data_contracts.dtypes import pandas_dtype
from synthwright.data_contracts.model import Contract, RareValues
from synthwright.errors import ConfigError
from synthwright.generators.base import Generator
from synthwright.generators.neural import conditioning, training
from synthwright.generators.registry import create_generator

NEURAL = ["ctgan", "tvae"]
FAST: dict[str, dict] = {  # two epochs of small networks, few mixture modes
    "ctgan": {
        "epochs": 2,
        "max_modes": 3,
        "batch_size": 50,
        "pac": 5,
        "embedding_dim": 32,
        "generator_dim": (64, 64),
        "discriminator_dim": (64, 64),
    },
    "tvae": {
        "epochs": 2,
        "max_modes": 3,
        "batch_size": 50,
        "embedding_dim": 32,
        "compress_dims": (64, 64),
        "decompress_dims": (64, 64),
    },
}
LOSSES = {"ctgan": {"loss_g", "loss_d"}, "tvae": {"loss"}}
SAVED_FILES = ["contract.json", "encoding.json", "generator.json", "training.json", "weights.pt"]


def make(name: str, seed: int = 7, **overrides) -> Generator:
    fast = FAST.get(name, {"preset": "fast"})  # the diffusion model's own preset
    return create_generator(name, {**fast, **overrides}, seed=seed)


def check_shape(sample: pd.DataFrame, contract: Contract) -> None:
    assert list(sample.columns) == contract.names
    assert [str(t) for t in sample.dtypes] == [pandas_dtype(c) for c in contract.columns]


@pytest.fixture(scope="module", params=NEURAL)
def fitted(request):
    frame, contract = make_mixed_frame(rows=200, seed=5), mixed_contract()
    return make(request.param).fit(frame, contract), frame, contract


def _weights(generator: Generator, folder) -> dict[str, dict[str, torch.Tensor]]:
    generator.save(folder)
    return torch.load(folder / "weights.pt", weights_only=True)


def _flat(weights: dict[str, dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {f"{module}.{key}": tensor for module, state in weights.items() for key, tensor in state.items()}


# ---- a seeded fit ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NEURAL)
def test_the_same_seed_gives_the_same_weights_and_rows(name, tmp_path):
    frame, contract = make_mixed_frame(rows=150, seed=2), mixed_contract()
    first, again, other = (make(name, seed=seed).fit(frame, contract) for seed in (3, 3, 4))
    a, b, c = (_flat(_weights(g, tmp_path / tag)) for g, tag in [(first, "a"), (again, "b"), (other, "c")])
    assert a.keys() == b.keys() == c.keys() and a
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not all(torch.equal(a[key], c[key]) for key in a)
    assert first.training_["losses"] == again.training_["losses"]
    pd.testing.assert_frame_equal(first.sample(60), again.sample(60))
    assert not first.sample(60).equals(other.sample(60))
    assert (tmp_path / "a" / "encoding.json").read_bytes() == (tmp_path / "b" / "encoding.json").read_bytes()


# ---- the save folder -------------------------------------------------------------------------------


def test_the_save_folder_holds_state_dicts_and_json_only(fitted, tmp_path):
    generator, _, _ = fitted
    generator.save(tmp_path / "model")
    folder = tmp_path / "model"
    assert sorted(p.name for p in folder.iterdir()) == SAVED_FILES
    weights = torch.load(folder / "weights.pt", weights_only=True)  # tensors only: no pickled code
    assert list(weights) == (["generator"] if generator.name == "ctgan" else ["decoder"])
    assert all(isinstance(t, torch.Tensor) for state in weights.values() for t in state.values())
    manifest = json.loads((folder / "generator.json").read_text())
    assert sorted(manifest["sha256"]) == sorted(set(SAVED_FILES) - {"generator.json"})
    assert {"ctgan", "torch", "scikit-learn"} <= set(manifest["versions"])
    json.loads((folder / "encoding.json").read_text())
    training = json.loads((folder / "training.json").read_text())
    assert training["epochs_requested"] == training["epochs_completed"] == 2
    assert training["stopped_early"] is False
    assert training["device"] == "cpu"
    assert len(training["losses"]) == 2
    assert all(set(epoch) == LOSSES[generator.name] for epoch in training["losses"])
    assert training == generator.training_


def test_a_loaded_model_samples_conditions_like_the_original(fitted, tmp_path):
    generator, _, _ = fitted
    generator.save(tmp_path / "model")
    loaded = Generator.load(tmp_path / "model")
    assert loaded.training_ == generator.training_
    table = pd.DataFrame({"colour": ["blue", None, "red"] * 8, "member": [None, True, False] * 8})
    pd.testing.assert_frame_equal(
        loaded.sample(24, conditions=table, seed=2), generator.sample(24, conditions=table, seed=2)
    )


# ---- time budget and progress ----------------------------------------------------------------------


@pytest.mark.parametrize("name", [*NEURAL, "diffusion", "llm"])
def test_max_minutes_sizes_the_training_to_its_budget(name):
    frame, contract = make_mixed_frame(rows=150, seed=3), mixed_contract()
    updates = []
    generator = make(name, epochs=500, max_minutes=0.0005)  # 30 ms
    generator.fit(frame, contract, progress=updates.append)
    training = generator.training_
    assert training["stopped_early"] is True
    assert 1 <= training["epochs_completed"] < 500
    assert len(training["losses"]) == training["epochs_completed"]
    budget = [u for u in updates if "time budget" in u.message]
    assert len(budget) == 1 and f"trained {training['epochs_completed']} of 500 epochs" in budget[0].message
    assert budget[0].done == budget[0].total == training["epochs_completed"]
    check_shape(generator.sample(20), contract)


@pytest.mark.parametrize("name", ["diffusion", "llm"])
def test_a_budget_is_planned_before_training_and_the_planned_epochs_reproduce_the_model(name, monkeypatch):
    """The models with a learning-rate schedule time their step on throwaway copies first: the
    schedule has its final length from the start, and pinning `epochs` to the count the budget
    planned (budget off) gives the same model on any machine. The step's timing is fixed here and the
    overrun stop is off (each has its own test in test_neural_training.py), so that the load of other
    tests can change neither the plan nor where the training ends."""
    timed = []

    def fixed_step_seconds(step, device, steps=8):
        step()  # the throwaway copy really trains a step: it must not touch the model's random stream
        timed.append(device)
        return 0.1

    monkeypatch.setattr(training, "measure_step_seconds", fixed_step_seconds)
    monkeypatch.setattr(training.TrainingClock, "OVERRUN", float("inf"))
    frame, contract = make_mixed_frame(rows=200, seed=3), mixed_contract()
    budgeted = make(name, epochs=10_000, max_minutes=0.02).fit(frame, contract)  # 1.2 s: 0.4 s an epoch
    record = budgeted.training_
    assert timed and record["budget_minutes"] == 0.02
    assert record["epochs_planned"] == 3 == record["epochs_completed"]
    pinned = make(name, epochs=3, max_minutes=None).fit(frame, contract)
    pd.testing.assert_frame_equal(budgeted.sample(60, seed=1), pinned.sample(60, seed=1))


@pytest.mark.parametrize("name", NEURAL)
def test_a_spent_time_budget_still_trains_one_epoch(name):
    frame, contract = make_mixed_frame(rows=120, seed=3), mixed_contract()
    generator = make(name, epochs=50, max_minutes=1e-12).fit(frame, contract)
    assert generator.training_["epochs_completed"] == 1
    assert generator.training_["stopped_early"] is True


@pytest.mark.parametrize("name", NEURAL)
def test_progress_reports_epochs_and_losses(name):
    frame, contract = make_mixed_frame(rows=100, seed=4), mixed_contract()
    updates = []
    make(name, epochs=3).fit(frame, contract, progress=updates.append)
    assert updates[0].total is None and "encoding" in updates[0].message
    epochs = [u for u in updates if u.metrics]
    assert [(u.done, u.total) for u in epochs] == [(1, 3), (2, 3), (3, 3)]
    for update in epochs:
        assert set(update.metrics) == LOSSES[name]
        assert all(np.isfinite(v) for v in update.metrics.values())
    assert any(u.done == 0 and u.total == 3 for u in updates)  # training announced before epoch 1


# ---- conditional sampling ----------------------------------------------------------------------------
# What every conditional generator promises is checked in test_conformance.py; here, what CTGAN and TVAE's
# own conditioning (generators/neural/conditioning.py) adds: no float or datetime conditions, and a
# bounded search for the conditions beyond the one the model takes.


@pytest.mark.parametrize(
    ("conditions", "error"),
    [
        ({"income": 50_000.0}, "cannot condition on float column 'income'"),
        ({"start_date": "2024-03-01"}, "cannot condition on datetime column 'start_date'"),
    ],
)
def test_conditions_the_model_cannot_meet_are_refused_before_sampling(fitted, conditions, error):
    generator, _, _ = fitted
    with pytest.raises(ConfigError, match=error):
        generator.sample(10, conditions=conditions)


def test_a_conditions_table_with_a_float_cell_is_refused(fitted):
    generator, _, _ = fitted
    table = pd.DataFrame({"colour": ["red", None], "income": [None, 1000.0]})
    with pytest.raises(ConfigError, match="cannot condition on float"):
        generator.sample(2, conditions=table)


@pytest.mark.parametrize("name", NEURAL)
def test_an_impossible_combination_fails_fast_with_a_count(name, monkeypatch):
    frame, contract = make_mixed_frame(rows=120, seed=8), mixed_contract()
    frame["age"] = pd.array(np.random.default_rng(8).integers(20, 25, len(frame)), dtype="Int64")
    generator = make(name, epochs=1).fit(frame, contract)
    monkeypatch.setattr(conditioning, "MIN_BUDGET", 3_000)
    monkeypatch.setattr(conditioning, "BUDGET_PER_ROW", 10)
    started = time.perf_counter()
    # every training age is 20-24: no mode of the model reaches 79, inside the contract's range
    with pytest.raises(ConfigError, match=r"made only 0 of 10 rows .* in 3,\d{3} draws") as info:
        generator.sample(10, conditions={"colour": "red", "age": 79})
    assert time.perf_counter() - started < 10
    assert "colour='red'" in str(info.value) and "age=79" in str(info.value)
    assert info.value.hint


def test_batch_size_must_be_a_multiple_of_pac():
    with pytest.raises(ConfigError, match="pac"):
        create_generator("ctgan", {"batch_size": 55, "pac": 10})
    assert create_generator("ctgan", {"batch_size": 50, "pac": 10}).config.pac == 10


# ---- on real data ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult_slice(adult_path):
    from synthwright.data_contracts.io import load_contract
    from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest

    contract = load_contract(REPO / "data_contracts" / "examples" / "adult.yaml")
    result = ingest(adult_path, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]), contract)
    return result.frame.sample(300, random_state=0).reset_index(drop=True), contract


@pytest.mark.parametrize("name", NEURAL)
def test_adult_slice_fits_and_samples_conditions(name, adult_slice):
    frame, contract = adult_slice
    # rare-value protection off: this is about the max_categories pool, which may hold rare values then
    generator = make(name, seed=1, max_categories=6).fit(frame, contract, rare_values=RareValues(min_rows=1))
    check_shape(generator.sample(100), contract)
    sample = generator.sample(12, conditions={"income": ">50K", "sex": "Female"})
    check_shape(sample, contract)
    assert (sample["income"] == ">50K").all() and (sample["sex"] == "Female").all()
    rare = frame["native-country"].value_counts().index[-1]  # pooled into the other slot
    assert rare in generator.encoding_.column("native-country").rare_values
    assert (generator.sample(10, conditions={"native-country": rare})["native-country"] == rare).all()


def test_a_second_condition_draws_about_what_its_match_rate_needs_not_the_whole_budget(fitted):
    generator, _, _ = fitted
    drawn = []

    def counting(count, native):
        drawn.append(count)
        return generator._draw(count, native, np.random.default_rng(0))

    table = pd.DataFrame({"colour": ["red"] * 300, "member": [True] * 300})
    rows = conditioning.sample_conditioned(
        counting, table, generator.encoding_, generator.plan_.model_contract, generator.name
    )
    assert len(rows) == 300 and (rows["colour"] == "red").all() and rows["member"].all()
    budget = max(conditioning.MIN_BUDGET, conditioning.BUDGET_PER_ROW * 300)
    assert max(drawn) <= conditioning.MAX_CHUNK
    assert sum(drawn) < budget / 4, drawn


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", NEURAL)
def test_training_and_sampling_on_a_gpu(name, tmp_path):
    """`-m gpu` on a GPU machine: the model trains, samples, conditions and reloads on CUDA."""
    frame, contract = make_mixed_frame(rows=200, seed=5), mixed_contract()
    generator = create_generator(name, FAST[name], seed=7, device="cuda").fit(frame, contract)
    assert generator.training_["device"].startswith("cuda")
    check_shape(generator.sample(50), contract)
    pd.testing.assert_frame_equal(generator.sample(40, seed=2), generator.sample(40, seed=2))
    assert (generator.sample(20, conditions={"colour": "red"})["colour"] == "red").all()
    generator.save(tmp_path / "model")
    loaded = Generator.load(tmp_path / "model")
    assert next(loaded.network_.module.parameters()).is_cuda
    check_shape(loaded.sample(30), contract)
