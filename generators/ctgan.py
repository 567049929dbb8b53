"""CTGAN (Xu et al., 2019): a conditional tabular GAN, on the `ctgan` package's networks.

The generator and discriminator are ctgan's own modules (`ctgan.synthesizers.ctgan.Generator`,
`Discriminator`, with its gradient penalty), trained with ctgan's losses and defaults. What is ours,
and why it is better than calling SDV's CTGANSynthesizer:
  - speed: a vectorised mode-specific encoding (synthwright.generators.neural.encoding), vectorised
    activations, condition vectors and row sampling, a discriminator step that does not backpropagate into the
    generator (ctgan computes those gradients and throws them away) and skips the interpolates'
    first-layer product, and a generator pass fed condition slots (synthwright.generators.neural.gathered);
    the step itself is synthwright.generators.neural.ctgan_training;
  - a seeded fit: the same seed gives the same weights and the same sample bytes on the same machine;
  - conditional sampling per row with the model's own condition vector, and clear errors instead of
    SDV's rejection loops (synthwright.generators.neural.conditioning);
  - a save of weights (a torch state dict), config and the encoding as JSON, no pickled objects;
  - a time budget (`max_minutes`), progress with losses, and `device="auto"`.
Sampling runs the generator in eval mode (batch-norm running statistics), so a row does not depend
on the other rows of its batch; that is what makes per-row conditions and any batch size safe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from synthwright.data_contracts.model import Contract
from synthwright.generators.base import Generator, Progress


class CTGANConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: PositiveInt = Field(300, description="passes over the training rows (SDV's default)")
    batch_size: PositiveInt = Field(500, description="rows per step; a multiple of pac")
    pac: PositiveInt = Field(10, description="rows the discriminator judges together (PacGAN)")
    embedding_dim: PositiveInt = Field(128, description="size of the generator's noise input")
    generator_dim: tuple[PositiveInt, ...] = Field((256, 256), description="residual layer widths")
    discriminator_dim: tuple[PositiveInt, ...] = Field((256, 256), description="hidden layer widths")
    generator_lr: float = Field(2e-4, gt=0)
    generator_decay: float = Field(1e-6, ge=0, description="Adam weight decay")
    discriminator_lr: float = Field(2e-4, gt=0)
    discriminator_decay: float = Field(1e-6, ge=0)
    discriminator_steps: PositiveInt = Field(1, description="discriminator updates per generator update")
    log_frequency: bool = Field(True, description="draw training conditions by log-frequency")
    max_modes: PositiveInt = Field(10, description="mixture modes per numeric column")
    spike_share: float = Field(
        0.05, gt=0, le=1, description="a number's value held by this share of rows is decoded exactly"
    )
    mode_fit_rows: int = Field(10_000, ge=100, description="rows the mixture of each number is fitted on")
    max_categories: int = Field(1000, ge=2, description="one-hot slots per column; rarer values pool")
    max_minutes: float | None = Field(None, gt=0, description="stop training after this wall time")

    @model_validator(mode="after")
    def _batch_fits_pac(self) -> CTGANConfig:
        if self.batch_size % self.pac:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of pac ({self.pac})")
        return self


class CTGANGenerator(Generator):
    name = "ctgan"
    Config = CTGANConfig
    summary = "CTGAN conditional tabular GAN on ctgan's networks: minutes to hours to fit; conditions"
    builds_on = "ctgan's Generator and Discriminator networks; our encoding, training and sampling"
    libraries = ("ctgan", "torch", "scikit-learn")
    supports_conditions = True
    benefits_from_gpu = True
    config: CTGANConfig

    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        import torch

        from synthwright.generators.neural.ctgan_training import CTGANTraining
        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.network import TrainedNetwork
        from synthwright.generators.neural.training import TrainingClock, fit_encoding

        cfg = self.config
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.seed)
        torch.manual_seed(self.seed)  # torch may have been imported only now, after the base seeded
        encoding, matrix, codes = fit_encoding(data, contract, cfg, self.seed, progress)
        training = CTGANTraining(cfg, encoding, matrix, codes, device, rng)
        clock = TrainingClock(
            cfg.epochs,
            cfg.max_minutes,
            progress,
            f"CTGAN on {training.n_rows:,} rows",
            diverged_hint="lower generator_lr/discriminator_lr or change the seed",
        )
        for epoch in clock:
            for _ in range(training.steps_per_epoch):
                loss_d, loss_g = training.step()
            clock.record(epoch, {"loss_g": float(loss_g), "loss_d": float(loss_d)})
        network = TrainedNetwork(training.network, encoding, device, clock.summary(device), **self._role())
        self._keep(network)

    def _role(self) -> dict:
        """How the saved network is named, fed and decoded (synthwright.generators.neural.network)."""
        return {"key": "generator", "noise_dim": self.config.embedding_dim}

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
        from ctgan.synthesizers.ctgan import Generator as Network

        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.network import TrainedNetwork

        cfg = self.config

        def build(encoding, condition_dim):
            return Network(cfg.embedding_dim + condition_dim, cfg.generator_dim, encoding.width)

        device = resolve_device(self.device)
        self._keep(TrainedNetwork.load(folder, build, device, **self._role()))
