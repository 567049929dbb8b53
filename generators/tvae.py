"""TVAE (Xu et al., 2019): a tabular variational autoencoder, on the `ctgan` package's networks.

The encoder and decoder are ctgan's modules (`ctgan.synthesizers.tvae.Encoder`, `Decoder`) with
ctgan's loss (Gaussian offsets with a learned sigma, cross entropy per one-hot, KL) and defaults.
What is ours:
  - conditioning: the networks also see a condition vector (one discrete column set to the row's own
    value, the column drawn at random per row), a conditional VAE. Sampling draws the condition like
    the training rows do, or takes the one asked for, so `sample(conditions=...)` is answered by the
    model itself; SDV's TVAE can only reject rows, and may return none;
  - the vectorised encoding, loss and activations, a seeded fit, a state-dict save, `max_minutes`,
    progress and `device="auto"`, as for CTGAN (synthwright.generators.ctgan).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from synthwright.data_contracts.model import Contract
from synthwright.generators.base import Generator, Progress


class TVAEConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: PositiveInt = Field(300, description="passes over the training rows (SDV's default)")
    batch_size: PositiveInt = Field(500, description="rows per step")
    embedding_dim: PositiveInt = Field(128, description="size of the latent space")
    compress_dims: tuple[PositiveInt, ...] = Field((128, 128), description="encoder layer widths")
    decompress_dims: tuple[PositiveInt, ...] = Field((128, 128), description="decoder layer widths")
    learning_rate: float = Field(1e-3, gt=0)
    l2scale: float = Field(1e-5, ge=0, description="Adam weight decay")
    loss_factor: float = Field(2.0, gt=0, description="weight of reconstruction against KL")
    max_modes: PositiveInt = Field(10, description="mixture modes per numeric column")
    spike_share: float = Field(
        0.05, gt=0, le=1, description="a number's value held by this share of rows is decoded exactly"
    )
    mode_fit_rows: int = Field(10_000, ge=100, description="rows the mixture of each number is fitted on")
    max_categories: int = Field(1000, ge=2, description="one-hot slots per column; rarer values pool")
    max_minutes: float | None = Field(None, gt=0, description="stop training after this wall time")


class TVAEGenerator(Generator):
    name = "tvae"
    Config = TVAEConfig
    summary = "TVAE (conditional) on ctgan's networks: faster to fit than CTGAN; conditions"
    builds_on = "ctgan's Encoder and Decoder networks; our encoding, conditioning, training and sampling"
    libraries = ("ctgan", "torch", "scikit-learn")
    supports_conditions = True
    benefits_from_gpu = True
    config: TVAEConfig

    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        import torch
        from ctgan.synthesizers.tvae import Decoder, Encoder

        from synthwright.generators.neural.condition_sampler import ConditionSampler
        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.network import TrainedNetwork
        from synthwright.generators.neural.training import TrainingClock, adam, fit_encoding

        cfg = self.config
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.seed)
        torch.manual_seed(self.seed)  # torch may have been imported only now, after the base seeded
        encoding, matrix, codes = fit_encoding(data, contract, cfg, self.seed, progress)
        conditions = ConditionSampler.build(encoding, codes)
        loss = ReconstructionLoss(encoding, device)
        encoder = Encoder(encoding.width + conditions.dim, cfg.compress_dims, cfg.embedding_dim).to(device)
        decoder = Decoder(cfg.embedding_dim + conditions.dim, cfg.decompress_dims, encoding.width).to(device)
        optimiser = adam(
            torch.nn.ModuleList([encoder, decoder]), cfg.learning_rate, cfg.l2scale, betas=(0.9, 0.999)
        )
        rows = torch.from_numpy(matrix).to(device)
        n_rows = len(matrix)
        clock = TrainingClock(
            cfg.epochs,
            cfg.max_minutes,
            progress,
            f"TVAE on {n_rows:,} rows",
            diverged_hint="lower learning_rate or change the seed",
        )
        for epoch in clock:
            order = rng.permutation(n_rows)
            for start in range(0, n_rows, cfg.batch_size):
                picked = order[start : start + cfg.batch_size]
                real = rows[torch.from_numpy(picked).to(device)]
                if conditions.n_columns:
                    columns = rng.integers(conditions.n_columns, size=len(picked))
                    own = conditions.own_values(picked, columns)
                    cond = torch.from_numpy(conditions.vectors(columns, own)).to(device)
                    mu, std, logvar = encoder(torch.cat([real, cond], dim=1))
                    latent = torch.randn_like(std) * std + mu
                    rebuilt, sigmas = decoder(torch.cat([latent, cond], dim=1))
                else:
                    mu, std, logvar = encoder(real)
                    rebuilt, sigmas = decoder(torch.randn_like(std) * std + mu)
                reconstruction = loss(rebuilt, real, sigmas) * cfg.loss_factor / len(picked)
                divergence = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp()) / len(picked)
                total = reconstruction + divergence
                optimiser.zero_grad(set_to_none=True)
                total.backward()
                optimiser.step()
                decoder.sigma.data.clamp_(0.01, 1.0)
            clock.record(epoch, {"loss": float(total.detach())})
        self._keep(TrainedNetwork(decoder, encoding, device, clock.summary(device), **self._role()))

    def _role(self) -> dict:
        """How the saved network is named, fed and decoded (synthwright.generators.neural.network)."""
        return {"key": "decoder", "noise_dim": self.config.embedding_dim, "learned_sigma": True}

    def _keep(self, network) -> None:
        self.network_, self.encoding_, self.training_ = network, network.encoding, network.training

    # ---- sampling ---------------------------------------------------------------------------------

    def _draw(self, count: int, native, rng: np.random.Generator) -> pd.DataFrame:
        return self.network_.draw(count, native, rng)

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        return self.network_.sample(n, seed)

    def _sample_conditioned(self, n: int, seed: int, conditions: pd.DataFrame) -> pd.DataFrame:
        return self.network_.sample_conditioned(conditions, seed, self.plan_.model_contract, self.name)

    # ---- save and load ----------------------------------------------------------------------------

    def _save(self, folder: Path) -> list[str]:
        return self.network_.save(folder)

    def _load(self, folder: Path, contract: Contract) -> None:
        from ctgan.synthesizers.tvae import Decoder

        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.network import TrainedNetwork

        cfg = self.config

        def build(encoding, condition_dim):
            return Decoder(cfg.embedding_dim + condition_dim, cfg.decompress_dims, encoding.width)

        device = resolve_device(self.device)
        self._keep(TrainedNetwork.load(folder, build, device, **self._role()))


class ReconstructionLoss:
    """ctgan's TVAE reconstruction loss, summed over the batch, with all slices at once.

    Offsets: squared error against tanh(output), scaled by a learned sigma, plus log sigma. One-hots:
    cross entropy. ctgan loops over the slices; here they are padded into one tensor.
    """

    def __init__(self, encoding, device):
        from synthwright.generators.neural.activation import Activation

        self.activation = Activation(encoding.spans(), encoding.width, device)

    def __call__(self, rebuilt, real, sigmas):
        import torch

        offsets = self.activation.tanh_index
        sigma = sigmas.index_select(0, offsets)
        error = real.index_select(1, offsets) - torch.tanh(rebuilt.index_select(1, offsets))
        gaussian = (error**2 / 2 / sigma**2).sum() + torch.log(sigma).sum() * real.shape[0]
        logits = self.activation.padded(rebuilt)  # rows × slices × longest, padding at -inf
        truth = self.activation.padded(real).argmax(dim=-1)
        categorical = torch.nn.functional.cross_entropy(logits.transpose(1, 2), truth, reduction="sum")
        return gaussian + categorical
