"""A trained network ready to sample from, and its save folder: what CTGAN and TVAE share after fit.

Both sample the same way — noise, plus a condition vector drawn like the training rows (or the one
asked for), through the network in batches without gradients, decoded by the encoding — and both
save the same three files: `weights.pt` (state dicts only, loaded with `weights_only=True`),
`encoding.json` and `training.json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthwright.data_contracts.model import Contract
from synthwright.generators.neural.activation import Activation
from synthwright.generators.neural.condition_sampler import ConditionSampler
from synthwright.generators.neural.conditioning import Native, sample_conditioned
from synthwright.generators.neural.device import seeded_draws
from synthwright.generators.neural.encoding import TableEncoding
from synthwright.generators.neural.weights import restore_weights, save_weights

WEIGHTS_FILE = "weights.pt"
ENCODING_FILE = "encoding.json"
TRAINING_FILE = "training.json"
SAMPLE_BATCH = 8192


class TrainedNetwork:
    """The network that makes rows (CTGAN's generator, TVAE's decoder) with its encoding and device.

    `key` names it in weights.pt; `learned_sigma` marks TVAE's decoder, which returns (output, sigma)
    and whose sigma is added to the offsets as noise when decoding. Each category is drawn from its
    softmax by the Gumbel-max trick (the argmax of logits plus Gumbel noise), for both models.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        encoding: TableEncoding,
        device: torch.device,
        training: dict[str, Any],
        *,
        key: str,
        noise_dim: int,
        learned_sigma: bool = False,
    ):
        self.module = module.to(device).eval()
        self.encoding, self.device, self.training = encoding, device, training
        self.key, self.noise_dim, self.learned_sigma = key, noise_dim, learned_sigma
        self.conditions = ConditionSampler.build(encoding)
        self.activate = Activation(encoding.spans(), encoding.width, device)

    # ---- sampling ---------------------------------------------------------------------------------

    def draw(self, count: int, native: Native, rng: np.random.Generator) -> pd.DataFrame:
        """`count` decoded rows; `native` = (discrete column, slot) fixes the condition vector."""
        parts = []
        with torch.no_grad():
            for start in range(0, count, SAMPLE_BATCH):
                out = self.module(self._inputs(min(SAMPLE_BATCH, count - start), native, rng))
                raw = out[0] if self.learned_sigma else out
                parts.append(self.activate(raw, gumbel_tau=1.0).cpu().numpy())
        sigmas = self.module.sigma.detach().cpu().numpy() if self.learned_sigma else None
        return self.encoding.decode(np.concatenate(parts), rng, sigmas=sigmas)

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        return self.draw(n, None, seeded_draws(seed))

    def sample_conditioned(
        self, table: pd.DataFrame, seed: int, contract: Contract, generator: str
    ) -> pd.DataFrame:
        rng = seeded_draws(seed)
        draw = lambda count, native: self.draw(count, native, rng)  # noqa: E731
        return sample_conditioned(draw, table, self.encoding, contract, generator)

    def _inputs(self, size: int, native: Native, rng: np.random.Generator) -> torch.Tensor:
        noise = torch.randn(size, self.noise_dim, device=self.device)
        if not self.conditions.n_columns:
            return noise
        if native is None:
            columns = rng.integers(self.conditions.n_columns, size=size)
            values = self.conditions.draw_values(columns, rng, log=False)
        else:
            columns, values = np.full(size, native[0]), np.full(size, native[1])
        cond = torch.from_numpy(self.conditions.vectors(columns, values)).to(self.device)
        return torch.cat([noise, cond], dim=1)

    # ---- save and load ----------------------------------------------------------------------------

    def save(self, folder: Path) -> list[str]:
        save_weights(folder / WEIGHTS_FILE, {self.key: self.module})
        (folder / ENCODING_FILE).write_text(json.dumps(self.encoding.model_dump(mode="json")))
        (folder / TRAINING_FILE).write_text(json.dumps(self.training, indent=2))
        return [WEIGHTS_FILE, ENCODING_FILE, TRAINING_FILE]

    @classmethod
    def load(
        cls,
        folder: Path,
        build: Callable[[TableEncoding, int], torch.nn.Module],
        device: torch.device,
        *,
        key: str,
        noise_dim: int,
        learned_sigma: bool = False,
    ) -> TrainedNetwork:
        """Rebuild the network with `build(encoding, condition_dim)` and load its saved weights."""
        encoding = TableEncoding.model_validate_json((folder / ENCODING_FILE).read_text())
        dim = ConditionSampler.build(encoding).dim
        module = restore_weights(lambda: build(encoding, dim), folder / WEIGHTS_FILE, key, device)
        training = json.loads((folder / TRAINING_FILE).read_text())
        return cls(
            module, encoding, device, training, key=key, noise_dim=noise_dim, learned_sigma=learned_sigma
        )
