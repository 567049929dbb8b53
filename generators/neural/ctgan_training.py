"""CTGAN's training state and one training step, kept apart from the epoch loop in generators/ctgan.py.

A step is ctgan's: `discriminator_steps` critic updates (WGAN-GP on pac groups, real rows drawn to
match the fakes' condition vectors), then one generator update (critic score plus the cross entropy of
the conditioned column). It is a method of its own so that a benchmark
(benchmarks/ctgan_step_layouts.py) can alternate layouts of the same step in one process, block by
block, which whole fits on a noisy machine cannot compare.

The critic step and the generator pass are looked up at each step (`critic.critic_backward`,
`critic.critic_scores`) or at construction (`gathered.GatheredGenerator`): that benchmark swaps them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from ctgan.synthesizers.ctgan import Discriminator
from ctgan.synthesizers.ctgan import Generator as Network

from synthwright.generators.neural import critic, gathered
from synthwright.generators.neural.activation import Activation, cross_entropy_of
from synthwright.generators.neural.condition_sampler import ConditionSampler
from synthwright.generators.neural.encoding import TableEncoding
from synthwright.generators.neural.training import adam

if TYPE_CHECKING:
    from synthwright.generators.ctgan import CTGANConfig


class CTGANTraining:
    """The networks, optimisers, condition sampler and seeded draws of one CTGAN fit."""

    def __init__(
        self,
        cfg: CTGANConfig,
        encoding: TableEncoding,
        matrix: np.ndarray,
        codes: np.ndarray,
        device: torch.device,
        rng: np.random.Generator,
    ):
        self.cfg, self.device, self.rng = cfg, device, rng
        self.conditions = ConditionSampler.build(encoding, codes)
        self.activate = Activation(encoding.spans(), encoding.width, device)
        width, condition_dim = encoding.width, self.conditions.dim
        self.network = Network(cfg.embedding_dim + condition_dim, cfg.generator_dim, width).to(device)
        self.generate = gathered.GatheredGenerator(self.network, cfg.embedding_dim, condition_dim)
        self.critic = Discriminator(width + condition_dim, cfg.discriminator_dim, pac=cfg.pac).to(device)
        self.optimise_g = adam(self.network, cfg.generator_lr, cfg.generator_decay, betas=(0.5, 0.9))
        self.optimise_d = adam(self.critic, cfg.discriminator_lr, cfg.discriminator_decay, betas=(0.5, 0.9))
        self.real_rows = torch.from_numpy(matrix).to(device)
        self.slices = torch.tensor(
            [self.activate.slice_of(span) for _, span in encoding.discrete()], dtype=torch.long, device=device
        )
        self.n_rows = len(matrix)
        self.steps_per_epoch = max(self.n_rows // cfg.batch_size, 1)

    def _condition_batch(self) -> tuple[np.ndarray, np.ndarray, torch.Tensor, torch.Tensor]:
        """Drawn columns and values, their one-hot vectors (for the critic) and slots (for the generator)."""
        conditions, batch = self.conditions, self.cfg.batch_size
        columns = self.rng.integers(conditions.n_columns, size=batch)
        values = conditions.draw_values(columns, self.rng, log=self.cfg.log_frequency)
        cond = torch.from_numpy(conditions.vectors(columns, values)).to(self.device)
        return columns, values, cond, torch.from_numpy(conditions.slots(columns, values)).to(self.device)

    def step(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One training step; returns the last critic loss and the generator loss, detached."""
        cfg, device, rng, batch = self.cfg, self.device, self.rng, self.cfg.batch_size
        conditioned = bool(self.conditions.n_columns)
        for _ in range(cfg.discriminator_steps):
            noise = torch.randn(batch, cfg.embedding_dim, device=device)
            if conditioned:
                columns, values, cond, slots = self._condition_batch()
                order = rng.permutation(batch)
                rows = self.conditions.training_rows(columns[order], values[order], rng)
                real = torch.cat([self.real_rows[torch.from_numpy(rows).to(device)], cond[order]], dim=1)
            else:
                cond = slots = None
                real = self.real_rows[torch.from_numpy(rng.integers(self.n_rows, size=batch)).to(device)]
            with torch.no_grad():
                fake = self.activate(self.generate(noise, slots), gumbel_tau=0.2)
            if cond is not None:
                fake = torch.cat([fake, cond], dim=1)
            self.optimise_d.zero_grad(set_to_none=True)
            loss_d, _ = critic.critic_backward(self.critic, real, fake, cfg.pac)
            self.optimise_d.step()

        noise = torch.randn(batch, cfg.embedding_dim, device=device)
        slots = None
        if conditioned:
            columns, values, cond, slots = self._condition_batch()
        raw = self.generate(noise, slots)
        fake = self.activate(raw, gumbel_tau=0.2)
        self.critic.requires_grad_(False)
        if conditioned:
            judged = critic.critic_scores(self.critic, torch.cat([fake, cond], dim=1))
            chosen = torch.from_numpy(columns).to(device)
            targets = torch.from_numpy(values).to(device)
            cross_entropy = cross_entropy_of(self.activate, raw, self.slices[chosen], targets).mean()
        else:
            judged = critic.critic_scores(self.critic, fake)
            cross_entropy = torch.zeros((), device=device)
        loss_g = -judged.mean() + cross_entropy
        self.optimise_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimise_g.step()
        self.critic.requires_grad_(True)
        return loss_d.detach(), loss_g.detach()
