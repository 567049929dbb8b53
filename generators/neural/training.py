"""What a torch generator's fit shares: the epoch clock, the learning-rate schedule, the encoding, Adam.

Kept out of the models so they train the same way: every torch generator runs its epochs on the same
clock (a time budget, progress updates, a clear error on divergence), the diffusion model and the llm
decay their learning rate on the same schedule, and CTGAN and TVAE encode with the same knobs and
optimise with the same Adam.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthwright.data_contracts.model import Contract
from synthwright.errors import GeneratorError
from synthwright.generators.base import Progress, ProgressUpdate
from synthwright.generators.neural.encoding import TableEncoding


class TrainingClock:
    """Epochs sized once to a wall-clock budget, reporting each epoch's losses as a progress update.

    With `max_minutes`, `epochs` is a ceiling and the clock plans, once, how many epochs fit: a bigger
    table gets fewer epochs (not a longer run) and a faster device more. A model that can time its
    step before training (`measure_step_seconds`, on throwaway copies) calls `plan` first, so its
    learning-rate schedule has its final length from the first step; training is then a function of
    the seed and the planned epochs alone, and pinning `epochs` to the recorded count (budget off)
    reproduces the same weights on any machine. Otherwise the plan is made after the first epoch. A
    machine that slows down badly mid-way still stops, after the epoch that crosses `OVERRUN` times
    the budget (the grace keeps timing noise from cutting a planned schedule short).
    """

    OVERRUN = 1.25

    def __init__(
        self,
        epochs: int,
        max_minutes: float | None,
        progress: Progress,
        what: str,
        diverged_hint: str = "lower the learning rate or change the seed",
    ):
        self.epochs, self.max_minutes, self.progress, self.what = epochs, max_minutes, progress, what
        self.diverged_hint = diverged_hint
        self.planned = epochs
        self.measured_epoch_seconds: float | None = None
        self.completed = 0
        self.losses: list[dict[str, float]] = []
        self.started = time.perf_counter()

    def plan(self, epoch_seconds: float) -> int:
        """Fix the epochs that fit the budget at `epoch_seconds` each (at least 1, at most `epochs`)."""
        self.measured_epoch_seconds = epoch_seconds
        if self.max_minutes is not None:
            fits = int(self.max_minutes * 60 / epoch_seconds + 1e-9) if epoch_seconds > 0 else self.epochs
            self.planned = max(1, min(self.epochs, fits))
        return self.planned

    def __iter__(self) -> Iterator[int]:
        self.started = time.perf_counter()
        self.progress(ProgressUpdate(0, self.planned, f"training {self.what}"))
        epoch = 0
        while epoch < self.planned:
            # at least one epoch, however small the budget: a model is never left untrained
            if epoch and self.max_minutes is not None and self.seconds > self.OVERRUN * self.max_minutes * 60:
                break
            yield epoch
            epoch += 1
        if self.stopped_early:
            self.progress(
                ProgressUpdate(
                    self.completed,
                    self.completed,
                    f"time budget of {self.max_minutes:g} min: trained {self.completed} of "
                    f"{self.epochs} epochs",
                )
            )

    @property
    def stopped_early(self) -> bool:
        """Whether the time budget ended the training before the epochs asked for."""
        return self.completed < self.epochs

    def planned_steps(self, per_epoch: int) -> int:
        """Optimiser steps in the whole run as planned (a learning-rate schedule's length)."""
        return self.planned * per_epoch

    def record(self, epoch: int, losses: dict[str, float]) -> None:
        """Keep an epoch's losses (planning after the first when no step was timed); a loss that is
        not finite ends the training with a clear error."""
        if not all(math.isfinite(v) for v in losses.values()):
            raise GeneratorError(
                f"training {self.what} diverged at epoch {epoch + 1} (losses {losses})",
                hint=self.diverged_hint,
            )
        self.completed = epoch + 1
        self.losses.append(losses)
        if self.measured_epoch_seconds is None and self.max_minutes is not None:
            self.plan(self.seconds)
        self.progress(ProgressUpdate(epoch + 1, self.planned, f"training {self.what}", losses))

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def summary(self, device: torch.device) -> dict[str, Any]:
        return {
            "epochs_requested": self.epochs,
            "epochs_planned": self.planned,
            "epochs_completed": self.completed,
            "budget_minutes": self.max_minutes,
            "stopped_early": self.stopped_early,
            "seconds": round(self.seconds, 3),
            "device": str(device),
            "losses": self.losses,
        }


def plan_from_a_timed_step(
    clock: TrainingClock,
    device: torch.device,
    *,
    seed: int,
    n_rows: int,
    batch: int,
    spare_step: Callable[[], Callable[[torch.Tensor], Any]],
) -> None:
    """Plan `clock`'s epochs (when it has a budget) from training steps timed on a throwaway copy.

    `spare_step()` builds the copy (called inside a forked random state) and returns its step, which
    takes a batch's row indices. The rows come from their own generator: nothing here moves the real
    training's random streams, so the training depends on the seed and the planned epochs alone."""
    if clock.max_minutes is None:
        return
    with throwaway_random_state(device):
        step = spare_step()
        draws = np.random.default_rng(seed + 1)
        seconds = measure_step_seconds(
            lambda: step(torch.from_numpy(draws.choice(n_rows, batch)).to(device)), device
        )
    clock.plan(seconds * math.ceil(n_rows / batch))


def throwaway_random_state(device: torch.device):
    """A context whose torch random draws (on the CPU and on `device`) leave the real stream as it was."""
    return torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])


def measure_step_seconds(step: Callable[[], None], device: torch.device, steps: int = 8) -> float:
    """Seconds one training step takes: the median of `steps` timed calls after two warm-up calls.

    `step` must work on throwaway copies (of the network, the optimiser, the random state), so that
    timing leaves the real training untouched."""
    cuda = device.type == "cuda"
    timings = []
    for index in range(steps + 2):
        if cuda:
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize(device)
        if index >= 2:
            timings.append(time.perf_counter() - started)
    return float(np.median(timings))


def cosine_schedule(peak: float, step: int, total: int, warm_share: float = 0.0) -> float:
    """A linear warm-up over `warm_share` of the steps, then a half cosine from `peak` to a tenth of it."""
    warm = int(warm_share * total)
    if step < warm:
        return peak * (step + 1) / warm
    progress = min((step - warm) / max(total - warm, 1), 1.0)
    return peak * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))


def fit_encoding(
    data: pd.DataFrame, contract: Contract, config: Any, seed: int, progress: Progress
) -> tuple[TableEncoding, np.ndarray, np.ndarray]:
    """The training matrix and discrete codes, encoded with the model config's encoding knobs."""
    progress(ProgressUpdate(0, None, f"encoding {len(data.columns)} columns of {len(data):,} rows"))
    return TableEncoding.fit_transform(
        data,
        contract,
        max_modes=config.max_modes,
        max_categories=config.max_categories,
        mode_fit_rows=config.mode_fit_rows,
        spike_share=config.spike_share,
        seed=seed,
    )


def adam(module: torch.nn.Module, lr: float, decay: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam with torch's fused kernel (one op per step instead of a dozen per parameter)."""
    return torch.optim.Adam(module.parameters(), lr=lr, betas=betas, weight_decay=decay, fused=True)
