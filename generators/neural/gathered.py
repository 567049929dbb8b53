"""ctgan's Generator in training, fed its condition as a slot number instead of a one-hot vector.

ctgan's generator is residual: each layer returns cat([its output, its input]), so every layer sees the
noise and the one-hot condition again (104 of a layer's inputs on Adult). The dense form does three
kinds of work for nothing, on every training step:
  - each layer multiplies the one-hot columns by its weight: the condition's row of that weight,
    gathered, is the same number;
  - each layer multiplies the same noise by its own slice of weight: one product with the slices side
    by side does every layer's at once;
  - backward takes the gradient at every input column of every layer, the noise and the condition
    included, where only the hidden layers' outputs need one.
This computes the same function with the module's own parameters (and batch norm, with its running
statistics), so the trained module, its state dict and sampling (which calls it directly) are
ctgan's. Measured by benchmarks/ctgan_vs_sdv.py; tests hold it equal to the module, values and
gradients.
"""

from __future__ import annotations

import torch
from torch.nn import functional

from synthwright.errors import GeneratorError


class GatheredGenerator:
    """`network(cat([noise, one_hot(slots)]))`, computed without the one-hot; see the module's docstring."""

    def __init__(self, network: torch.nn.Module, noise_dim: int, condition_dim: int):
        *residuals, last = network.seq
        layers = [getattr(residual, "fc", None) for residual in residuals] + [last]
        if not all(isinstance(layer, torch.nn.Linear) for layer in layers) or not all(
            isinstance(getattr(residual, "bn", None), torch.nn.BatchNorm1d) for residual in residuals
        ):
            raise GeneratorError(
                "ctgan's Generator is not a stack of Residual(fc, bn) layers and a Linear: this ctgan is "
                "not the one the training loop was written for",
                hint="install the ctgan that sdv 2.0 depends on (ctgan 0.12, pyproject.toml pins sdv)",
            )
        self.layers, self.norms = layers, [residual.bn for residual in residuals]
        self.noise_dim, self.condition_dim = noise_dim, condition_dim
        self.widths = [layer.out_features for layer in layers]

    def __call__(self, noise: torch.Tensor, slots: torch.Tensor | None) -> torch.Tensor:
        """Raw output for `noise` (rows × noise_dim) and each row's condition slot (None: no condition)."""
        # split, not slices: a split's gradient is one cat, a slice's a zero-filled copy of the whole
        given = self.noise_dim + self.condition_dim  # a layer's last inputs: noise, then condition
        parts = [
            layer.weight.split([layer.in_features - given, self.noise_dim, self.condition_dim], dim=1)
            for layer in self.layers
        ]
        biases = torch.cat([layer.bias for layer in self.layers])
        if slots is None:
            start = biases
        else:  # a row's condition term is one row of the weights: gathered, with the biases folded in
            table = torch.cat([part[2] for part in parts]).t() + biases
            start = functional.embedding(slots, table)
        noise_weights = torch.cat([part[1] for part in parts])
        *blocks, last_block = torch.addmm(start, noise, noise_weights.t()).split(self.widths, dim=1)
        hidden = None  # the residual outputs so far, newest first, as ctgan concatenates them
        for out, part, norm in zip(blocks, parts, self.norms, strict=False):  # parts: one more, the last
            # a column block is strided; batch norm is several times slower on one
            out = out.contiguous() if hidden is None else torch.addmm(out, hidden, part[0].t())
            out = torch.relu(norm(out))
            hidden = out if hidden is None else torch.cat([out, hidden], dim=1)
        return last_block if hidden is None else torch.addmm(last_block, hidden, parts[-1][0].t())
