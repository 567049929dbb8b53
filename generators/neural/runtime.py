"""What every torch generator needs: a device, vectorised activations, condition vectors, a clock.

Kept out of the models so CTGAN and TVAE stay short and train the same way: the same device rule, the
same seeded sampling of condition vectors and training rows, the same epoch loop with a time budget
and progress updates.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional

from data_contracts.model import Contract
from generators.base import Progress, ProgressUpdate
from generators.neural.encoding import Span, TableEncoding
from synthwright.errors import ConfigError, GeneratorError


def resolve_device(device: str) -> torch.device:
    """`auto` → CUDA when torch sees a GPU, else CPU; an explicit `cuda` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {device!r}", hint="use auto, cpu or cuda") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} was asked for, but torch {torch.__version__} sees no CUDA GPU",
            hint="use --device auto or cpu, or install a CUDA build of torch on a GPU machine",
        )
    if chosen.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r} is not supported", hint="use auto, cpu or cuda")
    return chosen


def seeded_draws(seed: int) -> np.random.Generator:
    """NumPy's generator for one sampling call, with torch's global generator seeded alike.

    The base class seeds torch only if it is already imported; a model loaded in a new process may
    import it later, so the models seed it here too.
    """
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


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


@dataclass
class ConditionSampler:
    """Condition vectors over the discrete columns (CTGAN's "training by sampling"), vectorised.

    A condition is one discrete column set to one of its values; the vector is the one-hot of all
    discrete columns with only that column's slice filled. Every (column, value) has a global slot
    (its position in the vector); value draws and row draws are table look-ups by slot, no loops.
    """

    offsets: np.ndarray  # start of each discrete column's slice in the condition vector
    widths: np.ndarray
    cumulative: np.ndarray  # columns × longest: cumulative training frequency (padding 2.0)
    cumulative_log: np.ndarray  # the same for log-frequency
    codes: np.ndarray | None = None  # training rows × discrete columns (fit time only)
    pool_rows: np.ndarray | None = None  # training row ids, grouped by slot
    pool_start: np.ndarray | None = None  # per slot: where its rows start in pool_rows
    pool_count: np.ndarray | None = None  # per slot: how many rows hold it

    @classmethod
    def build(cls, encoding: TableEncoding, codes: np.ndarray | None = None) -> ConditionSampler:
        discrete = encoding.discrete()
        widths = np.array([column.width for column, _ in discrete], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64) if len(widths) else widths
        longest = int(widths.max()) if len(widths) else 1
        cumulative = np.full((len(widths), longest), 2.0)
        cumulative_log = np.full((len(widths), longest), 2.0)
        for j, (column, _) in enumerate(discrete):
            counts = np.asarray(column.counts, dtype=np.float64)
            cumulative[j, : len(counts)] = np.cumsum(counts / counts.sum())
            cumulative_log[j, : len(counts)] = np.cumsum(np.log1p(counts) / np.log1p(counts).sum())
        sampler = cls(offsets, widths, cumulative, cumulative_log, codes)
        if codes is not None and len(widths):
            n_rows = len(codes)
            sampler.pool_rows = np.concatenate(
                [np.argsort(codes[:, j], kind="stable") for j in range(len(widths))]
            )
            counts = [np.bincount(codes[:, j], minlength=int(widths[j])) for j in range(len(widths))]
            sampler.pool_count = np.concatenate(counts)
            sampler.pool_start = np.concatenate(
                [j * n_rows + np.concatenate([[0], np.cumsum(c)[:-1]]) for j, c in enumerate(counts)]
            ).astype(np.int64)
        return sampler

    @property
    def dim(self) -> int:
        return int(self.widths.sum())

    @property
    def n_columns(self) -> int:
        return len(self.widths)

    def slots(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Each (column, value)'s position in the condition vector."""
        return self.offsets[columns] + values

    def vectors(self, columns: np.ndarray, values: np.ndarray) -> np.ndarray:
        cond = np.zeros((len(columns), self.dim), dtype=np.float32)
        cond[np.arange(len(columns)), self.slots(columns, values)] = 1.0
        return cond

    def draw_values(self, columns: np.ndarray, rng: np.random.Generator, *, log: bool) -> np.ndarray:
        """A value per row of its column, by training frequency (or log-frequency when `log`)."""
        table = self.cumulative_log if log else self.cumulative
        u = rng.random(len(columns))
        values = (table[columns] <= u[:, None]).sum(axis=1)
        return np.minimum(values, self.widths[columns] - 1)

    def training_rows(self, columns: np.ndarray, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random training row holding each (column, value)."""
        assert self.pool_rows is not None and self.pool_start is not None and self.pool_count is not None
        slots = self.slots(columns, values)
        chosen = (rng.random(len(columns)) * self.pool_count[slots]).astype(np.int64)
        return self.pool_rows[self.pool_start[slots] + chosen]

    def own_values(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """The value each training row holds in the given discrete column."""
        assert self.codes is not None
        return self.codes[rows, columns]


class TrainingClock:
    """Epochs with a wall-clock budget, reporting each epoch's losses as a progress update."""

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
        self.completed = 0
        self.stopped_early = False
        self.losses: list[dict[str, float]] = []
        self.started = time.perf_counter()

    def __iter__(self) -> Iterator[int]:
        self.progress(ProgressUpdate(0, self.epochs, f"training {self.what}"))
        for epoch in range(self.epochs):
            # at least one epoch, however small the budget: a model is never left untrained
            if epoch and self.max_minutes is not None and self.seconds > self.max_minutes * 60:
                self.stopped_early = True
                self.progress(
                    ProgressUpdate(
                        epoch,
                        self.epochs,
                        f"time budget of {self.max_minutes:g} min reached after {epoch} epoch(s); stopping",
                    )
                )
                return
            yield epoch

    def record(self, epoch: int, losses: dict[str, float]) -> None:
        """Keep an epoch's losses; a loss that is not finite ends the training with a clear error."""
        if not all(math.isfinite(v) for v in losses.values()):
            raise GeneratorError(
                f"training {self.what} diverged at epoch {epoch + 1} (losses {losses})",
                hint=self.diverged_hint,
            )
        self.completed = epoch + 1
        self.losses.append(losses)
        self.progress(ProgressUpdate(epoch + 1, self.epochs, f"training {self.what}", losses))

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def summary(self, device: torch.device) -> dict[str, Any]:
        return {
            "epochs_requested": self.epochs,
            "epochs_completed": self.completed,
            "stopped_early": self.stopped_early,
            "seconds": round(self.seconds, 3),
            "device": str(device),
            "losses": self.losses,
        }


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


def save_weights(path: Path, modules: dict[str, torch.nn.Module]) -> None:
    """State dicts only (tensors, loadable with weights_only=True): no pickled code."""
    torch.save({name: module.state_dict() for name, module in modules.items()}, path)


def load_weights(path: Path, device: torch.device) -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(path, map_location=device, weights_only=True)


def restore_weights(
    build: Callable[[], torch.nn.Module], path: Path, key: str, device: torch.device
) -> torch.nn.Module:
    """Build a network as the saved config says and load its weights; a mismatch is a ConfigError."""
    try:
        module = build()
        module.load_state_dict(load_weights(path, device)[key])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"{path} does not fit the model's config: {exc}",
            hint="load the folder with the config it was saved with (generator.json)",
        ) from exc
    return module


def critic_backward(
    critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, pac: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """WGAN-GP's critic loss and gradient penalty (lambda 10, on pac-grouped interpolates), as ctgan;
    their gradients are added to the critic's `.grad`. Returns both losses, detached.

    The critic's first layer is `pac` × row width wide (2,620 inputs on Adult) and was most of an epoch,
    so it is worked as little as the maths allows:
      - forward: fake and real rows go through it in one matrix product (the critic has no batch
        statistics, so rows do not interact). An interpolate is a per-group mix of a fake and a real
        group, and the layer is linear, so its output is the same mix of theirs: no product at all;
      - the penalty needs the critic's gradient at the interpolates; through a linear first layer that
        is (gradient at its output) @ its weight, taken for the interpolates' rows only, where autograd
        would build a gradient for every input row;
      - backward: its weight's gradient has three parts, (gradient at its output)ᵀ @ inputs for the
        fake and the real rows, the interpolates' share of that folded into them by the same mix, and
        slopesᵀ @ (gradient at the penalty's input). One product over the three row sets writes it once.
    The fakes carry no generator graph: ctgan's `calc_gradient_penalty` needs that graph and
    backpropagates into the generator for nothing.
    """
    first, rest = _critic_layers(critic)
    width, groups = real.size(1), real.size(0) // pac
    alpha = torch.rand(groups, 1, 1, device=real.device)  # one per group, drawn as ctgan draws it
    share = alpha.view(groups, 1)
    # rows 0..2g-1 of `rows`: fake and real groups; rows 2g..3g-1 later take the gradient at the
    # penalty's input, so the weight gradient is one product over all 3g rows
    rows = real.new_empty(3 * groups, pac * width)
    torch.cat([fake, real], dim=0, out=rows.view(-1, width)[: 2 * real.size(0)])
    weight = first.weight.detach()
    first_out = torch.addmm(first.bias.detach(), rows[: 2 * groups], weight.t())
    between = torch.lerp(first_out[:groups], first_out[groups:], share)  # = first(interpolates)
    hidden = torch.cat([first_out, between], dim=0).requires_grad_()
    judged = _after_first(rest, hidden)
    (slopes,) = torch.autograd.grad(judged[2 * groups :].sum(), hidden, create_graph=True)
    slopes = slopes[2 * groups :]
    gradients = slopes @ weight  # the critic's gradient at each interpolated group
    gradients.retain_grad()
    penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * 10
    loss = judged[:groups].mean() - judged[groups : 2 * groups].mean()
    (loss + penalty).backward()  # the layers after the first; `hidden` and `gradients` keep theirs
    rows[2 * groups :] = gradients.grad
    at_fake, at_real, at_between = hidden.grad.split(groups)
    # an interpolate is share × real + (1 - share) × fake, so its rows' part of the weight gradient
    # goes to the fake and real rows it was made of
    at_output = torch.cat(
        [at_fake + (1 - share) * at_between, at_real + share * at_between, slopes.detach()], dim=0
    )
    _add_grad(first.weight, at_output.t() @ rows)
    _add_grad(first.bias, hidden.grad.sum(dim=0))
    return loss.detach(), penalty.detach()


def critic_scores(critic: torch.nn.Module, rows: torch.Tensor) -> torch.Tensor:
    """`critic(rows)`, with the faster dropout of `_after_first`."""
    first, rest = _critic_layers(critic)
    return _after_first(rest, first(rows.view(-1, first.in_features)))


def _critic_layers(critic: torch.nn.Module) -> tuple[torch.nn.Linear, torch.nn.Sequential]:
    first, rest = critic.seq[0], critic.seq[1:]  # ctgan's Discriminator: Linear, then the other layers
    if not isinstance(first, torch.nn.Linear):
        raise GeneratorError(
            f"ctgan's Discriminator starts with {type(first).__name__}, not Linear: this ctgan is not the "
            "one the training loop was written for",
            hint="install the ctgan that sdv 2.0 depends on (ctgan 0.12, pyproject.toml pins sdv)",
        )
    return first, rest


def _after_first(rest: torch.nn.Sequential, hidden: torch.Tensor) -> torch.Tensor:
    """The critic's layers after the first. A training-mode dropout keeps each value where a uniform
    draw is at least p, and scales it by 1 / (1 - p): the same law and gradient as torch's dropout,
    whose `bernoulli_` is about 2.5 times slower on CPU (0.56 ms against 0.22 ms for 150 × 256 values).
    """
    for layer in rest:
        if isinstance(layer, torch.nn.Dropout) and layer.training and 0 < layer.p < 1:
            keep = torch.rand_like(hidden).ge_(layer.p).mul_(1 / (1 - layer.p))
            hidden = hidden * keep
        else:
            hidden = layer(hidden)
    return hidden


def _add_grad(parameter: torch.nn.Parameter, gradient: torch.Tensor) -> None:
    """Accumulate as autograd would: the first gradient is stored, later ones are added."""
    if parameter.grad is None:
        parameter.grad = gradient
    else:
        parameter.grad += gradient


def cross_entropy_of(activation: Activation, raw: torch.Tensor, slices: torch.Tensor, targets: torch.Tensor):
    """Per-row cross entropy of the chosen softmax slice (an index into the padded slices)."""
    return functional.cross_entropy(activation.slice_logits(raw, slices), targets, reduction="none")
