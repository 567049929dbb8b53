"""The vectorised activations: all slices at once, as ctgan's one by one, and one slice's cross entropy."""

from __future__ import annotations

import torch

from synthwright.generators.neural.activation import Activation, cross_entropy_of
from synthwright.generators.neural.encoding import Span

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


def test_gumbel_noise_never_makes_nan_even_when_the_uniform_draw_is_zero(monkeypatch):
    """torch.rand gives exactly 0 about once in 2^24 draws; a one-slot slice must not turn NaN."""
    activation = Activation(SPANS, WIDTH, torch.device("cpu"))
    monkeypatch.setattr(torch, "rand_like", lambda raw: torch.zeros_like(raw))
    out = activation(_raw(), gumbel_tau=0.2)
    assert torch.isfinite(out).all()
