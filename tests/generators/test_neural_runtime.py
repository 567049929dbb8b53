"""The shared torch runtime: device choice, activations, condition vectors, the clock, the critic loss."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import torch
from ctgan.synthesizers.ctgan import Discriminator

from data_contracts.model import Column, ColumnKind, Contract
from generators.neural.encoding import Span, TableEncoding
from generators.neural.runtime import (
    Activation,
    ConditionSampler,
    TrainingClock,
    critic_backward,
    cross_entropy_of,
    load_weights,
    resolve_device,
    save_weights,
)
from synthwright.errors import ConfigError, GeneratorError

CPU = torch.device("cpu")
SPANS = [
    Span(0, 1, "tanh"),
    Span(1, 3, "softmax"),
    Span(4, 1, "tanh"),
    Span(5, 2, "softmax"),
    Span(7, 5, "softmax"),
    Span(12, 1, "softmax"),
]
WIDTH = 13


def _raw(rows: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(rows, WIDTH, generator=torch.Generator().manual_seed(seed)) * 3


def _reference(raw: torch.Tensor) -> torch.Tensor:
    """ctgan's `_apply_activate`, slice by slice."""
    parts = []
    for span in SPANS:
        piece = raw[:, span.start : span.stop]
        parts.append(torch.tanh(piece) if span.activation == "tanh" else torch.softmax(piece, dim=1))
    return torch.cat(parts, dim=1)


# ---- Activation ------------------------------------------------------------------------------------


def test_activation_equals_the_slice_by_slice_reference():
    activate = Activation(SPANS, WIDTH, CPU)
    raw = _raw()
    torch.testing.assert_close(activate(raw), _reference(raw))


def test_gumbel_activation_keeps_every_slice_a_distribution_and_offsets_untouched():
    activate = Activation(SPANS, WIDTH, CPU)
    raw = _raw(64, seed=1)
    torch.manual_seed(0)
    out = activate(raw, gumbel_tau=0.2)
    assert torch.isfinite(out).all()
    for span in SPANS:
        piece = out[:, span.start : span.stop]
        if span.activation == "tanh":
            torch.testing.assert_close(piece, torch.tanh(raw[:, span.start : span.stop]))
        else:
            assert (piece >= 0).all()
            torch.testing.assert_close(piece.sum(dim=1), torch.ones(len(raw)))
    # the noise moves the one-hots (a low temperature sharpens them) ...
    assert not torch.allclose(out, activate(raw))
    # ... and is drawn from torch's seeded generator
    torch.manual_seed(0)
    torch.testing.assert_close(activate(raw, gumbel_tau=0.2), out)


def test_padded_logits_and_cross_entropy_of_a_chosen_slice():
    activate = Activation(SPANS, WIDTH, CPU)
    raw = _raw(6, seed=2)
    padded = activate.padded(raw)
    assert padded.shape == (6, 4, 5)
    soft = [s for s in SPANS if s.activation == "softmax"]
    assert [activate.slice_of(s) for s in soft] == [0, 1, 2, 3]
    torch.testing.assert_close(padded[:, 1, :2], raw[:, 5:7])
    assert torch.isinf(padded[:, 1, 2:]).all()
    slices = torch.tensor([0, 1, 2, 2, 3, 0])
    targets = torch.tensor([2, 1, 4, 0, 0, 1])
    got = cross_entropy_of(activate, raw, slices, targets)
    want = torch.stack(
        [
            torch.nn.functional.cross_entropy(
                raw[i : i + 1, soft[s].start : soft[s].stop], targets[i : i + 1], reduction="sum"
            )
            for i, s in enumerate(slices.tolist())
        ]
    )
    torch.testing.assert_close(got, want)


# ---- ConditionSampler ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampler_and_codes():
    rng = np.random.default_rng(0)
    rows = 600
    frame = pd.DataFrame(
        {
            "size": rng.choice(["s", "m", "l", "xl"], rows, p=[0.55, 0.3, 0.1, 0.05]).astype(object),
            "flag": pd.array(rng.random(rows) < 0.3, dtype="boolean"),
            "shade": rng.choice(["dark", "light"], rows, p=[0.8, 0.2]).astype(object),
        }
    )
    contract = Contract(
        dataset="conditions",
        columns=[
            Column(name="size", kind=ColumnKind.CATEGORICAL, values=["s", "m", "l", "xl"]),
            Column(name="flag", kind=ColumnKind.BOOLEAN),
            Column(name="shade", kind=ColumnKind.CATEGORICAL, values=["dark", "light"]),
        ],
    )
    encoding, _, codes = TableEncoding.fit_transform(
        frame, contract, max_modes=10, max_categories=1000, mode_fit_rows=10_000, spike_share=0.05, seed=0
    )
    return ConditionSampler.build(encoding, codes), codes


def test_condition_vectors_hold_one_one_in_the_chosen_slice(sampler_and_codes):
    sampler, _ = sampler_and_codes
    assert sampler.n_columns == 3 and sampler.dim == 4 + 2 + 2
    assert sampler.offsets.tolist() == [0, 4, 6]
    rng = np.random.default_rng(1)
    columns = rng.integers(sampler.n_columns, size=200)
    values = sampler.draw_values(columns, rng, log=True)
    assert (values < sampler.widths[columns]).all() and (values >= 0).all()
    vectors = sampler.vectors(columns, values)
    assert vectors.dtype == np.float32 and vectors.shape == (200, sampler.dim)
    assert (vectors.sum(axis=1) == 1).all()
    assert (vectors[np.arange(200), sampler.offsets[columns] + values] == 1).all()
    for j in range(sampler.n_columns):  # nothing outside the chosen column's slice
        start, stop = sampler.offsets[j], sampler.offsets[j] + sampler.widths[j]
        assert (vectors[columns != j, start:stop] == 0).all()


def test_training_rows_hold_the_asked_value(sampler_and_codes):
    sampler, codes = sampler_and_codes
    rng = np.random.default_rng(2)
    columns = rng.integers(sampler.n_columns, size=1000)
    values = sampler.draw_values(columns, rng, log=True)
    rows = sampler.training_rows(columns, values, rng)
    assert ((rows >= 0) & (rows < len(codes))).all()
    assert (codes[rows, columns] == values).all()
    assert (sampler.own_values(rows, columns) == values).all()
    # the rarest value (xl, the last slot of size) is still found
    rare = np.full(50, 3)
    assert (codes[sampler.training_rows(np.zeros(50, dtype=np.int64), rare, rng), 0] == 3).all()


@pytest.mark.parametrize("log", [False, True])
def test_drawn_values_follow_the_training_frequencies(sampler_and_codes, log):
    sampler, codes = sampler_and_codes
    rng = np.random.default_rng(3)
    draws = 40_000
    for j in range(sampler.n_columns):
        values = sampler.draw_values(np.full(draws, j), rng, log=log)
        got = np.bincount(values, minlength=sampler.widths[j]) / draws
        counts = np.bincount(codes[:, j], minlength=sampler.widths[j]).astype(float)
        weights = np.log1p(counts) if log else counts
        np.testing.assert_allclose(got, weights / weights.sum(), atol=0.015)


def test_a_sampler_built_without_codes_still_makes_vectors(sampler_and_codes):
    sampler, _ = sampler_and_codes
    bare = ConditionSampler(sampler.offsets, sampler.widths, sampler.cumulative, sampler.cumulative_log)
    assert bare.pool_rows is None
    columns, values = np.array([0, 1, 2]), np.array([3, 1, 0])
    np.testing.assert_array_equal(bare.vectors(columns, values), sampler.vectors(columns, values))


# ---- devices ---------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU (tests/generators: gpu)")
def test_explicit_cuda_without_a_gpu_is_a_clear_error():
    for asked in ["cuda", "cuda:0"]:
        with pytest.raises(ConfigError, match="CUDA") as info:
            resolve_device(asked)
        assert "auto" in info.value.hint


def test_auto_and_cpu_devices():
    assert resolve_device("cpu") == CPU
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("asked", ["nonsense", "", "mps", "meta"])
def test_unknown_or_unsupported_devices_are_config_errors(asked):
    with pytest.raises(ConfigError, match="device") as info:
        resolve_device(asked)
    assert "auto, cpu or cuda" in info.value.hint


# ---- the training clock and weights ------------------------------------------------------------------


def test_the_clock_reports_epochs_and_stops_at_its_budget():
    updates = []
    clock = TrainingClock(5, 0.0001, updates.append, "a test")  # 6 ms
    for epoch in clock:
        time.sleep(0.02)
        clock.record(epoch, {"loss": 1.0 / (epoch + 1)})
    assert clock.completed == 1 and clock.stopped_early
    summary = clock.summary(CPU)
    assert summary["epochs_requested"] == 5 and summary["epochs_completed"] == 1
    assert summary["stopped_early"] is True and summary["device"] == "cpu"
    assert summary["losses"] == [{"loss": 1.0}]
    assert [(u.done, u.total) for u in updates] == [(0, 5), (1, 5), (1, 5)]
    assert updates[1].metrics == {"loss": 1.0}
    assert "time budget" in updates[-1].message


def test_the_clock_without_a_budget_runs_every_epoch():
    updates = []
    clock = TrainingClock(3, None, updates.append, "a test")
    for epoch in clock:
        clock.record(epoch, {"loss": float(epoch)})
    assert clock.completed == 3 and not clock.stopped_early
    assert [u.done for u in updates] == [0, 1, 2, 3]


def test_weights_are_state_dicts_loadable_without_pickled_code(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    save_weights(tmp_path / "w.pt", {"net": module})
    raw = torch.load(tmp_path / "w.pt", weights_only=True)
    assert set(raw) == {"net"}
    loaded = load_weights(tmp_path / "w.pt", CPU)
    for key, tensor in module.state_dict().items():
        assert torch.equal(loaded["net"][key], tensor), key


# ---- the critic's losses ---------------------------------------------------------------------------


def _critic_inputs(pac: int = 4, groups: int = 3, width: int = 6):
    torch.manual_seed(0)
    critic = Discriminator(width, (16, 16), pac=pac)
    real = torch.randn(groups * pac, width)
    fake = torch.randn(groups * pac, width)
    return critic, real, fake


def test_gradient_penalty_matches_ctgans_with_the_same_seed():
    critic, real, fake = _critic_inputs()
    # dropout off: our single pass over fake, real and interpolated rows draws its dropout masks in another
    # order than ctgan's separate passes; alpha is drawn first in both, from the seeded generator
    critic.eval()
    torch.manual_seed(123)
    _, penalty = critic_backward(critic, real, fake, pac=4)
    torch.manual_seed(123)
    # in ctgan the fakes carry the generator's graph; a leaf that requires grad stands in for it
    reference = critic.calc_gradient_penalty(real, fake.clone().requires_grad_(True), device="cpu", pac=4)
    torch.testing.assert_close(penalty, reference.detach())
    assert penalty.item() > 0


def test_critic_loss_is_fake_minus_real_and_every_weight_gets_a_gradient():
    critic, real, fake = _critic_inputs()
    critic.eval()  # no dropout: the loss is a plain function of the inputs
    torch.manual_seed(5)
    loss, penalty = critic_backward(critic, real, fake, pac=4)
    with torch.no_grad():
        expected = critic(fake).mean() - critic(real).mean()
    torch.testing.assert_close(loss, expected)
    assert not loss.requires_grad and not penalty.requires_grad
    for name, parameter in critic.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def _reference_gradients(critic, real, fake, seed: int) -> dict[str, torch.Tensor]:
    """ctgan's formulation: separate passes, autograd all the way."""
    torch.manual_seed(seed)
    reference_penalty = critic.calc_gradient_penalty(real, fake.clone().requires_grad_(True), "cpu", pac=4)
    critic.zero_grad()
    (critic(fake).mean() - critic(real).mean() + reference_penalty).backward()
    return {name: p.grad.clone() for name, p in critic.named_parameters()}


def _assert_gradients_are_ctgans(critic, real, fake) -> None:
    """critic_backward's gradients on every weight equal ctgan's, dropout off, alpha from one seed."""
    critic.eval()
    torch.manual_seed(9)
    critic.zero_grad(set_to_none=True)
    critic_backward(critic, real, fake, pac=4)
    ours = {name: p.grad.clone() for name, p in critic.named_parameters()}
    reference = _reference_gradients(critic, real, fake, seed=9)
    for name, gradient in reference.items():
        torch.testing.assert_close(ours[name], gradient, msg=name)


def test_the_critic_weight_gradients_are_those_of_ctgans_losses():
    """The penalty's gradient is taken through the first layer by hand and the first layer's weight
    gradient is one product; every weight must still get exactly ctgan's gradient."""
    critic, real, fake = _critic_inputs()
    _assert_gradients_are_ctgans(critic, real, fake)


def test_the_interpolates_share_of_the_first_layer_gradient_goes_to_their_fake_and_real_rows():
    """With ctgan's LeakyReLU the penalty's gradient at the interpolates' hidden values is zero (the
    critic is piecewise linear there), so that share is only exercised by a smooth critic."""
    critic, real, fake = _critic_inputs()
    critic.seq = torch.nn.Sequential(
        *[torch.nn.Tanh() if isinstance(layer, torch.nn.LeakyReLU) else layer for layer in critic.seq]
    )
    _assert_gradients_are_ctgans(critic, real, fake)


def test_the_critic_gradients_accumulate_like_autograds():
    """Without zero_grad a second call adds to `.grad`, as backward() does, first layer included."""
    critic, real, fake = _critic_inputs()
    critic.eval()
    critic.zero_grad(set_to_none=True)
    for _ in range(2):
        torch.manual_seed(9)
        critic_backward(critic, real, fake, pac=4)
    twice = {name: p.grad.clone() for name, p in critic.named_parameters()}
    reference = _reference_gradients(critic, real, fake, seed=9)
    for name, gradient in reference.items():
        torch.testing.assert_close(twice[name], 2 * gradient, msg=name)


def test_a_critic_not_starting_with_a_linear_layer_is_refused():
    critic, real, fake = _critic_inputs()
    critic.seq = torch.nn.Sequential(torch.nn.Identity(), *critic.seq)
    with pytest.raises(GeneratorError, match="not Linear"):
        critic_backward(critic, real, fake, pac=4)


def test_gumbel_noise_never_makes_nan_even_when_the_uniform_draw_is_zero(monkeypatch):
    """torch.rand gives exactly 0 about once in 2^24 draws; a one-slot slice must not turn NaN."""
    activation = Activation(SPANS, WIDTH, torch.device("cpu"))
    monkeypatch.setattr(torch, "rand_like", lambda raw: torch.zeros_like(raw))
    out = activation(_raw(), gumbel_tau=0.2)
    assert torch.isfinite(out).all()
