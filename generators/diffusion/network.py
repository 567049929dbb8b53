"""The denoiser: an MLP that sees the noisy numbers, the partly masked categories, the time, and the
numbers fixed by conditions; it returns the numbers' denoising output and every category's logits.

TabDDPM's and TabSyn's denoisers are plain MLPs with a sinusoidal time embedding added to the first
hidden layer; so is ours. Categories enter as embeddings (one table row per class, plus one per
variable for "masked"), summed into the first hidden layer by an EmbeddingBag: a gather-and-add, with
no product over a one-hot and no rows × variables × width intermediate.
Numeric conditions enter as a second input, the fixed scores (zero where free) and one bit per
number saying it is fixed. With none, that input is all zeros and its layer reduces to its bias:
sampling then skips the product. When sampling, all rows share one time, so its embedding is
computed once per batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Denoiser(nn.Module):
    def __init__(self, n_numbers: int, classes: list[int], hidden: int, depth: int, embedding: int = 128):
        super().__init__()
        self.n_numbers, self.classes, self.embedding = n_numbers, list(classes), embedding
        offsets = torch.tensor([0, *classes[:-1]], dtype=torch.long).cumsum(0) + torch.arange(len(classes))
        self.register_buffer("offsets", offsets, persistent=False)  # each variable's first row; +K = masked
        self.time_mlp = nn.Sequential(nn.Linear(embedding, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.numbers_in = nn.Linear(n_numbers, hidden) if n_numbers else None
        self.condition_in = nn.Linear(2 * n_numbers, hidden) if n_numbers else None
        self.categories_in = (
            nn.EmbeddingBag(sum(classes) + len(classes), hidden, mode="sum") if classes else None
        )
        layers: list[nn.Module] = []
        for _ in range(depth - 1):
            layers += [nn.SiLU(), nn.Linear(hidden, hidden)]
        layers += [nn.SiLU(), nn.Linear(hidden, n_numbers + sum(classes))]
        self.body = nn.Sequential(*layers)

    def time_features(self, time: torch.Tensor) -> torch.Tensor:
        """Sinusoidal features of t in [0, 1]: periods from 2π down to 2π/1000."""
        half = self.embedding // 2
        frequencies = torch.exp(torch.linspace(0.0, math.log(1000.0), half, device=time.device))
        angles = time.reshape(-1, 1) * frequencies
        return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)

    def forward(
        self,
        numbers: torch.Tensor,
        codes: torch.Tensor,
        time: torch.Tensor,
        condition: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`codes` hold a class per variable, or the variable's class count for "masked".
        `time`: one per row (training) or one for all (sampling). Returns (numbers, logits)."""
        hidden = self.time_mlp(self.time_features(time))
        if self.numbers_in is not None:
            hidden = hidden + self.numbers_in(numbers)
            if condition is None:
                hidden = hidden + self.condition_in.bias
            else:
                hidden = hidden + self.condition_in(condition)
        if self.categories_in is not None:
            hidden = hidden + self.categories_in(codes + self.offsets)
        out = self.body(hidden)
        return out[:, : self.n_numbers], out[:, self.n_numbers :]
