"""Condition vectors over the discrete columns, and training rows that hold them ("training by sampling").

Shared by CTGAN (real rows drawn to hold a drawn condition), TVAE (each row conditioned on one of its
own values) and both models' unconditioned sampling (a condition drawn by training frequency). The
conditions a user asks for at sampling are met in conditioning.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthwright.generators.neural.encoding import TableEncoding


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
