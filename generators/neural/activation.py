"""The output activations of an encoded row, every slice at once, and the cross entropy of one slice.

CTGAN and TVAE decode the same encoded layout (tanh offsets, softmax one-hots) and the diffusion
model pads its categories' logits the same way; doing every slice in one padded tensor keeps that a
few ops, whichever model calls it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional

from synthwright.generators.neural.encoding import Span


class Activation:
    """Applies tanh to offsets and a softmax to every one-hot slice, all slices in one padded tensor.

    CTGAN applies them slice by slice (two dozen small ops per call on Adult); one gather, one masked
    softmax and one scatter do the same work in a few ops, which is most of a small step's cost.
    """

    def __init__(self, spans: list[Span], width: int, device: torch.device):
        self.width = width
        tanh = [s.start for s in spans if s.activation == "tanh"]
        soft = [s for s in spans if s.activation == "softmax"]
        self.tanh_index = torch.tensor(tanh, dtype=torch.long, device=device)
        longest = max((s.dim for s in soft), default=1)
        index = np.zeros((len(soft), longest), dtype=np.int64)
        valid = np.zeros((len(soft), longest), dtype=bool)
        for row, span in enumerate(soft):
            index[row, : span.dim] = np.arange(span.start, span.stop)
            valid[row, : span.dim] = True
        self.shape = (len(soft), longest)
        self.flat_index = torch.from_numpy(index.reshape(-1)).to(device)
        self.padding = torch.from_numpy(np.where(valid, 0.0, -np.inf).astype(np.float32)).to(device)
        self.valid_positions = torch.from_numpy(np.flatnonzero(valid.reshape(-1))).to(device)
        self.soft_targets = torch.from_numpy(index[valid]).to(device)
        self._slice_by_start = {span.start: row for row, span in enumerate(soft)}

    def slice_of(self, span: Span) -> int:
        """The row of `span` among the padded softmax slices."""
        return self._slice_by_start[span.start]

    def slice_logits(self, raw: torch.Tensor, slices: torch.Tensor) -> torch.Tensor:
        """Each row's logits of one chosen slice, as (rows, longest), padding at -inf."""
        index = self.flat_index.view(self.shape)[slices]
        return raw.gather(1, index) + self.padding[slices]

    def padded(self, raw: torch.Tensor) -> torch.Tensor:
        """Logits of every softmax slice as (rows, slices, longest), padding at -inf."""
        return raw.index_select(1, self.flat_index).view(raw.shape[0], *self.shape) + self.padding

    def __call__(self, raw: torch.Tensor, *, gumbel_tau: float | None = None) -> torch.Tensor:
        """Activated rows: tanh offsets, and softmax (Gumbel-softmax at `gumbel_tau`) one-hots."""
        logits = raw
        if gumbel_tau is not None:
            # Gumbel noise as -log(-log(U)): torch's exponential_() is several times slower on CPU.
            # U is kept above 0 (rand gives exactly 0 about once in 2^24 draws): -inf noise would make
            # a one-slot slice's softmax NaN and poison the training.
            uniform = torch.rand_like(raw).clamp_(min=torch.finfo(raw.dtype).tiny)
            gumbels = -torch.log(-torch.log(uniform))
            logits = (raw + gumbels) / gumbel_tau
        probs = torch.softmax(self.padded(logits), dim=-1)
        out = raw.new_zeros(raw.shape)
        out = out.index_copy(1, self.tanh_index, torch.tanh(raw.index_select(1, self.tanh_index)))
        chosen = probs.reshape(raw.shape[0], -1).index_select(1, self.valid_positions)
        return out.index_copy(1, self.soft_targets, chosen)


def cross_entropy_of(activation: Activation, raw: torch.Tensor, slices: torch.Tensor, targets: torch.Tensor):
    """Per-row cross entropy of the chosen softmax slice (an index into the padded slices)."""
    return functional.cross_entropy(activation.slice_logits(raw, slices), targets, reduction="none")
