"""CTGAN (Xu et al., 2019): a conditional tabular GAN, on the `ctgan` package's networks.

The generator and discriminator are ctgan's own modules (`ctgan.synthesizers.ctgan.Generator`,
`Discriminator`, with its gradient penalty), trained with ctgan's losses and defaults. What is ours,
and why it is better than calling SDV's CTGANSynthesizer:
  - speed: a vectorised mode-specific encoding (generators.neural.encoding), vectorised activations,
    condition vectors and row sampling, and a discriminator step that does not backpropagate into
    the generator (ctgan computes those gradients and throws them away);
  - a seeded fit: the same seed gives the same weights and the same sample bytes on the same machine;
  - conditional sampling per row with the model's own condition vector, and clear errors instead of
    SDV's rejection loops (generators.neural.conditioning);
  - a save of weights (a torch state dict), config and the encoding as JSON, no pickled objects;
  - a time budget (`max_minutes`), progress with losses, and `device="auto"`.
Sampling runs the generator in eval mode (batch-norm running statistics), so a row does not depend
on the other rows of its batch; that is what makes per-row conditions and any batch size safe.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from data_contracts.model import Contract
from generators.base import Generator, Progress, ProgressUpdate
from synthwright.errors import ConfigError, GeneratorError


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
    config: CTGANConfig

    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        import torch
        from ctgan.synthesizers.ctgan import Discriminator
        from ctgan.synthesizers.ctgan import Generator as Network

        from generators.neural.encoding import TableEncoding
        from generators.neural.runtime import (
            Activation,
            ConditionSampler,
            TrainingClock,
            adam,
            critic_losses,
            cross_entropy_of,
            resolve_device,
        )

        cfg = self.config
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.seed)
        torch.manual_seed(self.seed)  # torch may have been imported only now, after the base seeded
        progress(ProgressUpdate(0, None, f"encoding {len(data.columns)} columns of {len(data):,} rows"))
        encoding, matrix, codes = TableEncoding.fit_transform(
            data,
            contract,
            max_modes=cfg.max_modes,
            max_categories=cfg.max_categories,
            mode_fit_rows=cfg.mode_fit_rows,
            seed=self.seed,
        )
        conditions = ConditionSampler.build(encoding, codes)
        activate = Activation(encoding.spans(), encoding.width, device)
        network = Network(cfg.embedding_dim + conditions.dim, cfg.generator_dim, encoding.width).to(device)
        critic = Discriminator(encoding.width + conditions.dim, cfg.discriminator_dim, pac=cfg.pac).to(device)
        optimise_g = adam(network, cfg.generator_lr, cfg.generator_decay, betas=(0.5, 0.9))
        optimise_d = adam(critic, cfg.discriminator_lr, cfg.discriminator_decay, betas=(0.5, 0.9))
        real_rows = torch.from_numpy(matrix).to(device)
        slices = torch.tensor(
            [activate.slice_of(span) for _, span in encoding.discrete()], dtype=torch.long, device=device
        )
        batch, n_rows = cfg.batch_size, len(matrix)
        steps = max(n_rows // batch, 1)

        def condition_batch() -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
            columns = rng.integers(conditions.n_columns, size=batch)
            values = conditions.draw_values(columns, rng, log=cfg.log_frequency)
            return columns, values, torch.from_numpy(conditions.vectors(columns, values)).to(device)

        clock = TrainingClock(cfg.epochs, cfg.max_minutes, progress, f"CTGAN on {n_rows:,} rows")
        for epoch in clock:
            for _ in range(steps):
                for _ in range(cfg.discriminator_steps):
                    noise = torch.randn(batch, cfg.embedding_dim, device=device)
                    if conditions.n_columns:
                        columns, values, cond = condition_batch()
                        order = rng.permutation(batch)
                        rows = conditions.training_rows(columns[order], values[order], rng)
                        real = torch.cat([real_rows[torch.from_numpy(rows).to(device)], cond[order]], dim=1)
                        noise = torch.cat([noise, cond], dim=1)
                    else:
                        cond = None
                        real = real_rows[torch.from_numpy(rng.integers(n_rows, size=batch)).to(device)]
                    with torch.no_grad():
                        fake = activate(network(noise), gumbel_tau=0.2)
                    if cond is not None:
                        fake = torch.cat([fake, cond], dim=1)
                    loss_d, penalty = critic_losses(critic, real, fake, cfg.pac)
                    optimise_d.zero_grad(set_to_none=True)
                    (penalty + loss_d).backward()
                    optimise_d.step()

                noise = torch.randn(batch, cfg.embedding_dim, device=device)
                if conditions.n_columns:
                    columns, values, cond = condition_batch()
                    noise = torch.cat([noise, cond], dim=1)
                raw = network(noise)
                fake = activate(raw, gumbel_tau=0.2)
                critic.requires_grad_(False)
                if conditions.n_columns:
                    judged = critic(torch.cat([fake, cond], dim=1))
                    chosen = torch.from_numpy(columns).to(device)
                    targets = torch.from_numpy(values).to(device)
                    cross_entropy = cross_entropy_of(activate, raw, slices[chosen], targets).mean()
                else:
                    judged, cross_entropy = critic(fake), torch.zeros((), device=device)
                loss_g = -judged.mean() + cross_entropy
                optimise_g.zero_grad(set_to_none=True)
                loss_g.backward()
                optimise_g.step()
                critic.requires_grad_(True)
            losses = {"loss_g": float(loss_g.detach().cpu()), "loss_d": float(loss_d.detach().cpu())}
            if not all(math.isfinite(v) for v in losses.values()):
                raise GeneratorError(
                    f"CTGAN training diverged at epoch {epoch + 1} (losses {losses})",
                    hint="lower generator_lr/discriminator_lr or change the seed",
                )
            clock.record(epoch, losses)
        self.encoding_, self.network_, self.device_ = encoding, network.eval(), device
        self.conditions_ = ConditionSampler.build(encoding)
        self.activate_ = activate
        self.training_ = clock.summary(device)

    # ---- sampling ---------------------------------------------------------------------------------

    def _draw(self, count: int, native, rng: np.random.Generator) -> pd.DataFrame:
        """`count` decoded rows; `native` = (discrete column, slot) fixes the condition vector."""
        import torch

        from generators.neural.runtime import SAMPLE_BATCH

        parts = []
        with torch.no_grad():
            for start in range(0, count, SAMPLE_BATCH):
                size = min(SAMPLE_BATCH, count - start)
                noise = torch.randn(size, self.config.embedding_dim, device=self.device_)
                if self.conditions_.n_columns:
                    if native is None:
                        columns = rng.integers(self.conditions_.n_columns, size=size)
                        values = self.conditions_.draw_values(columns, rng, log=False)
                    else:
                        columns, values = np.full(size, native[0]), np.full(size, native[1])
                    cond = torch.from_numpy(self.conditions_.vectors(columns, values)).to(self.device_)
                    noise = torch.cat([noise, cond], dim=1)
                fake = self.activate_(self.network_(noise), gumbel_tau=0.2)
                parts.append(fake.cpu().numpy())
        return self.encoding_.decode(np.concatenate(parts), rng)

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        from generators.neural.runtime import seeded_draws

        return self._draw(n, None, seeded_draws(seed))

    def _sample_conditioned(self, n: int, seed: int, conditions: pd.DataFrame) -> pd.DataFrame:
        from generators.neural.conditioning import sample_conditioned
        from generators.neural.runtime import seeded_draws

        rng = seeded_draws(seed)
        return sample_conditioned(
            lambda count, native: self._draw(count, native, rng),
            conditions,
            self.encoding_,
            self.plan_.model_contract,
            self.name,
        )

    # ---- save and load ----------------------------------------------------------------------------

    def _save(self, folder: Path) -> list[str]:
        from generators.neural.runtime import ENCODING_FILE, TRAINING_FILE, WEIGHTS_FILE, save_weights

        save_weights(folder / WEIGHTS_FILE, {"generator": self.network_})
        (folder / ENCODING_FILE).write_text(json.dumps(self.encoding_.model_dump(mode="json")))
        (folder / TRAINING_FILE).write_text(json.dumps(self.training_, indent=2))
        return [WEIGHTS_FILE, ENCODING_FILE, TRAINING_FILE]

    def _load(self, folder: Path, contract: Contract) -> None:
        from ctgan.synthesizers.ctgan import Generator as Network

        from generators.neural.encoding import TableEncoding
        from generators.neural.runtime import (
            ENCODING_FILE,
            TRAINING_FILE,
            WEIGHTS_FILE,
            Activation,
            ConditionSampler,
            load_weights,
            resolve_device,
        )

        device = resolve_device(self.device)
        encoding = TableEncoding.model_validate_json((folder / ENCODING_FILE).read_text())
        conditions = ConditionSampler.build(encoding)
        network = Network(
            self.config.embedding_dim + conditions.dim, self.config.generator_dim, encoding.width
        )
        try:
            network.load_state_dict(load_weights(folder / WEIGHTS_FILE, device)["generator"])
        except (KeyError, RuntimeError) as exc:
            raise ConfigError(f"{folder / WEIGHTS_FILE} does not fit this CTGAN's config: {exc}") from exc
        self.encoding_, self.network_, self.device_ = encoding, network.to(device).eval(), device
        self.conditions_ = conditions
        self.activate_ = Activation(encoding.spans(), encoding.width, device)
        self.training_ = json.loads((folder / TRAINING_FILE).read_text())
