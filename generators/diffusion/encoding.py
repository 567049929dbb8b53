"""Model columns ↔ what the diffusion model denoises (normal scores and class codes), and back.

  - A number (a datetime as seconds) goes through its empirical quantiles to a standard normal.
    Whole-number columns (integers, date-only datetimes) are first spread uniformly over their unit
    (dequantised), so a count with a few values, or a spike such as capital-gain's 92 % zeros, becomes
    a smooth density that a Gaussian diffusion can learn; rounding on the way back undoes it (exactly
    in float64; the model's float32 scores can move a value in the millions by one).
    A tie in a float column maps to the middle of its quantile range and back to the same value.
  - A category, boolean or text label is a class code (the slots are CTGAN/TVAE's: the rarest beyond
    `max_categories` pool into one slot, decoded by a draw among them).
  - A null is a signal of its own: a category of its own, or a present/null flag (a two-class
    variable) beside a number, whose score is then filled with noise, so it carries no spike.
Numbers are diffused with Gaussian noise, categories (and null flags) by masking: `encode` returns the
two apart, normal scores and class codes.
The fitted state is plain JSON; quantile maps are `numpy.interp` over at most `quantiles` points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy.special import ndtr, ndtri

from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.generators.neural.encoding import (
    DiscreteEncoding,
    as_seconds,
    codes_of,
    fit_discrete,
    is_discrete,
    labels_of,
)
from synthwright.generators.timestamps import datetimes_from_seconds

_TAIL = 1e-7  # quantile levels are kept in [_TAIL, 1 - _TAIL]: normal scores within about ±5.2
_DAY = 86_400.0


class QuantileEncoding(BaseModel):
    """A number or datetime column: its quantiles, its unit (0 for continuous), and whether nulls occur."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    datetime: bool
    unit: float
    quantiles: list[float]
    has_nulls: bool
    all_null: bool = False  # never present in training: never made

    @property
    def width(self) -> int:
        return 3 if self.has_nulls else 1

    def to_normal(self, x: np.ndarray) -> np.ndarray:
        """Values (no nulls) → normal scores. Ties land in the middle of their quantile range."""
        q = np.asarray(self.quantiles)
        levels = np.linspace(0.0, 1.0, len(q))
        u = 0.5 * (np.interp(x, q, levels) - np.interp(-x, -q[::-1], -levels[::-1]))
        return ndtri(np.clip(u, _TAIL, 1 - _TAIL))

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        q = np.asarray(self.quantiles)
        u = ndtr(z)
        # the clipped tails are the extremes themselves (else the minimum would come back a step up)
        edge = _TAIL * (1 + 1e-6)
        u = np.where(u <= edge, 0.0, np.where(u >= 1 - edge, 1.0, u))
        x = np.interp(u, np.linspace(0.0, 1.0, len(q)), q)
        if self.unit:
            x = np.round(x / self.unit) * self.unit
        return x


class DiffusionEncoding(BaseModel):
    """The fitted encoding of all model columns, in column order (saved as JSON with the weights)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[QuantileEncoding | DiscreteEncoding]

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def numeric(self) -> list[QuantileEncoding]:
        return [c for c in self.columns if isinstance(c, QuantileEncoding)]

    def variables(self) -> list[tuple[str, int]]:
        """The categorical variables, (column name, classes): every discrete column, then a
        present/null flag for every number that has nulls."""
        found = [(c.name, c.width) for c in self.columns if isinstance(c, DiscreteEncoding)]
        return found + [(c.name, 2) for c in self.numeric() if c.has_nulls]

    def cardinalities(self) -> list[int]:
        return [classes for _, classes in self.variables()]

    def variable_index(self) -> dict[str, int]:
        """Column name → its categorical variable (a discrete column's, or a number's null flag)."""
        return {name: j for j, (name, _) in enumerate(self.variables())}  # names are unique

    # ---- fit and encode -------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        data: pd.DataFrame,
        contract: Contract,
        *,
        quantiles: int,
        max_categories: int,
        rng: np.random.Generator,
    ) -> DiffusionEncoding:
        columns: list[QuantileEncoding | DiscreteEncoding] = []
        for column in contract.columns:
            values = data[column.name]
            if is_discrete(column):
                columns.append(fit_discrete(column, values, max_categories)[0])
                continue
            unit = _unit(column)
            x = as_seconds(values)
            present = x[~np.isnan(x)]
            all_null = present.size == 0
            if all_null:
                present = np.zeros(1)
            spread = _dequantise(present, unit, rng)
            levels = np.linspace(0.0, 1.0, max(2, min(quantiles, spread.size)))
            columns.append(
                QuantileEncoding(
                    name=column.name,
                    datetime=column.kind is ColumnKind.DATETIME,
                    unit=unit,
                    quantiles=np.quantile(spread, levels).tolist(),
                    has_nulls=bool(np.isnan(x).any()),
                    all_null=all_null,
                )
            )
        return cls(columns=columns)

    def encode(self, data: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Model columns → (normal scores, rows × numbers; class codes, rows × variables).

        Whole numbers are dequantised with `rng`; a null number's score is noise (its flag says null).
        """
        numbers, codes, flags = [], [], []
        for column in self.columns:
            values = data[column.name]
            if isinstance(column, DiscreteEncoding):
                code = codes_of(column, values)
                if (code < 0).any():
                    raise ValueError(f"column {column.name!r} holds values the encoding never saw")
                codes.append(code)
                continue
            x = as_seconds(values)
            missing = np.isnan(x)
            z = rng.standard_normal(len(x))
            if (~missing).any():
                z[~missing] = column.to_normal(_dequantise(x[~missing], column.unit, rng))
            numbers.append(z)
            if column.has_nulls:
                flags.append(missing.astype(np.int64))
        n = len(data)
        return (
            np.stack(numbers, axis=1).astype(np.float32) if numbers else np.zeros((n, 0), np.float32),
            np.stack(codes + flags, axis=1) if codes or flags else np.zeros((n, 0), np.int64),
        )

    # ---- decode ---------------------------------------------------------------------------------

    def decode(self, numbers: np.ndarray, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Normal scores and class codes → model columns."""
        out: dict[str, pd.Series] = {}
        variable = self.variable_index()
        number = 0
        for column in self.columns:
            if isinstance(column, DiscreteEncoding):
                out[column.name] = labels_of(column, codes[:, variable[column.name]], rng)
                continue
            x = column.from_normal(numbers[:, number].astype(np.float64))
            number += 1
            if column.all_null:
                x = np.full(len(x), np.nan)
            elif column.has_nulls:
                x = np.where(codes[:, variable[column.name]] == 1, np.nan, x)
            if column.datetime:
                out[column.name] = datetimes_from_seconds(x)
            else:
                out[column.name] = pd.Series(x, dtype="float64")
        return pd.DataFrame(out)


def _unit(column) -> float:
    if column.kind is ColumnKind.INTEGER:
        return 1.0
    if column.kind is ColumnKind.DATETIME and column.is_date_only:
        return _DAY
    return 0.0


def _dequantise(x: np.ndarray, unit: float, rng: np.random.Generator) -> np.ndarray:
    if not unit:
        return x
    return x + (rng.random(x.size) - 0.5) * unit
