"""Mode-specific normalisation: model columns ↔ the float matrix a neural generator learns.

CTGAN's and TVAE's representation (Xu et al., 2019), written for speed and for saving as plain JSON:
  - a number (or a datetime, as seconds) is fitted with a Bayesian Gaussian mixture; a value becomes
    a one-hot "mode" plus its offset inside that mode, `(x - mean) / (4 std)` in [-1, 1];
  - a value that holds at least `spike_share` of a number's rows (Adult's capital-gain is 92 % zeros)
    is an exact mode of its own, decoded to that value: a mixture mode would give it a width, and
    half the rows drawn from that mode would come out just above it (ctgan's output there put a
    third of the zeros elsewhere). CTAB-GAN's "mixed" columns make the same point;
  - a category, boolean or text label becomes a one-hot over the values seen in training (the rarest
    beyond `max_categories` share an "other" slot, decoded by drawing among them);
  - a null is a signal of its own: a category of its own, or a present/null pair beside a number.
Why our own and not ctgan's `DataTransformer`: its mode assignment loops over rows in Python and starts
worker processes (about 24 s of a one-epoch fit on Adult, against about 3 s here), and its fitted
state is only picklable. Here the fitted state is a JSON document and the transform is vectorised.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.generators.timestamps import datetimes_from_seconds, seconds_since_epoch, within_years

OTHER = "__synthwright_other__"
_SCALE = 4.0  # offsets are measured in units of 4 standard deviations of their mode (CTGAN's choice)


@dataclass(frozen=True)
class Span:
    """A slice of the matrix with one activation: `tanh` for an offset, `softmax` for a one-hot."""

    start: int
    dim: int
    activation: Literal["tanh", "softmax"]

    @property
    def stop(self) -> int:
        return self.start + self.dim


class NumericEncoding(BaseModel):
    """A number or datetime column: mixture modes in standardised units, and whether nulls occur."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    datetime: bool
    centre: float
    scale: float
    means: list[float]
    stds: list[float]
    has_nulls: bool
    exact: list[float] = []  # raw values of the first len(exact) modes, decoded as they are (std 0)

    @property
    def width(self) -> int:
        return 1 + len(self.means) + (2 if self.has_nulls else 0)


class DiscreteEncoding(BaseModel):
    """A category, boolean or text column: the values seen, their counts, and the pooled rare ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    boolean: bool
    values: list[Any]  # None is the null category; OTHER the pooled slot
    counts: list[int]
    rare_values: list[Any] = []
    rare_counts: list[int] = []

    @property
    def width(self) -> int:
        return len(self.values)


class TableEncoding(BaseModel):
    """The fitted encoding of all model columns, in column order; saved as JSON with the weights."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: list[NumericEncoding | DiscreteEncoding]

    # ---- layout ---------------------------------------------------------------------------------

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def spans(self) -> list[Span]:
        """Every activation slice, left to right."""
        spans, start = [], 0
        for column in self.columns:
            if isinstance(column, NumericEncoding):
                spans.append(Span(start, 1, "tanh"))
                spans.append(Span(start + 1, len(column.means), "softmax"))
                if column.has_nulls:
                    spans.append(Span(start + 1 + len(column.means), 2, "softmax"))
            else:
                spans.append(Span(start, column.width, "softmax"))
            start += column.width
        return spans

    def discrete(self) -> list[tuple[DiscreteEncoding, Span]]:
        """The discrete columns with their one-hot slice: what a condition vector is made of."""
        found, start = [], 0
        for column in self.columns:
            if isinstance(column, DiscreteEncoding):
                found.append((column, Span(start, column.width, "softmax")))
            start += column.width
        return found

    def column(self, name: str) -> NumericEncoding | DiscreteEncoding:
        return next(c for c in self.columns if c.name == name)

    # ---- fit and transform (training only) ------------------------------------------------------

    @classmethod
    def fit_transform(
        cls,
        data: pd.DataFrame,
        contract: Contract,
        *,
        max_modes: int,
        max_categories: int,
        mode_fit_rows: int,
        seed: int,
        spike_share: float,
    ) -> tuple[TableEncoding, np.ndarray, np.ndarray]:
        """Fit; return the encoding, the float32 training matrix and the discrete codes (rows × columns).

        A number's value held by at least `spike_share` of its present rows becomes an exact mode (at
        1.0 only a constant column's value does).
        """
        rng = np.random.default_rng(seed)
        columns, blocks, codes = [], [], []
        for column in contract.columns:
            values = data[column.name]
            if is_discrete(column):
                encoding, code = fit_discrete(column, values, max_categories)
                columns.append(encoding)
                blocks.append(np.eye(encoding.width, dtype=np.float32)[code])
                codes.append(code)
            else:
                encoding, block = _fit_numeric(column, values, max_modes, mode_fit_rows, spike_share, rng)
                columns.append(encoding)
                blocks.append(block)
        matrix = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(data), 0), np.float32)
        code_matrix = np.stack(codes, axis=1) if codes else np.zeros((len(data), 0), np.int64)
        return cls(columns=columns), matrix, code_matrix

    # ---- decode ---------------------------------------------------------------------------------

    def decode(
        self, matrix: np.ndarray, rng: np.random.Generator, sigmas: np.ndarray | None = None
    ) -> pd.DataFrame:
        """Generator output (activated) → model columns. `sigmas` adds TVAE's output noise to offsets."""
        out: dict[str, pd.Series] = {}
        start = 0
        for column in self.columns:
            block = matrix[:, start : start + column.width]
            noise = None if sigmas is None else sigmas[start]
            if isinstance(column, NumericEncoding):
                out[column.name] = _decode_numeric(column, block, rng, noise)
            else:
                out[column.name] = labels_of(column, block.argmax(axis=1), rng)
            start += column.width
        return pd.DataFrame(out)


def is_discrete(column: Column) -> bool:
    return column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.TEXT)


def fit_discrete(
    column: Column, values: pd.Series, max_categories: int
) -> tuple[DiscreteEncoding, np.ndarray]:
    labels = values.astype(object).where(values.notna(), None)
    counts = labels.value_counts(dropna=False, sort=False)
    order = sorted(counts.index, key=lambda v: (-counts[v], str(v)))  # frequent first, then by name
    kept, rare = order, []
    if len(order) > max_categories:
        kept, rare = order[: max_categories - 1], order[max_categories - 1 :]
    slots = {value: i for i, value in enumerate(kept)}
    if rare:
        slots.update({value: len(kept) for value in rare})
    code = labels.map(lambda v: slots[v]).to_numpy(dtype=np.int64)
    boolean = column.kind is ColumnKind.BOOLEAN
    encoding = DiscreteEncoding(
        name=column.name,
        boolean=boolean,
        values=[_plain(v) for v in kept] + ([OTHER] if rare else []),
        counts=[int(counts[v]) for v in kept] + ([int(sum(counts[v] for v in rare))] if rare else []),
        rare_values=[_plain(v) for v in rare],
        rare_counts=[int(counts[v]) for v in rare],
    )
    return encoding, code


def _plain(value: Any) -> Any:
    """A JSON-safe label: numpy scalars become Python ones."""
    return value.item() if isinstance(value, np.generic) else value


def as_seconds(values: pd.Series) -> np.ndarray:
    """Numbers as float64; datetimes as seconds since the epoch; nulls as NaN."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return seconds_since_epoch(values)
    return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()


def _fit_numeric(
    column: Column,
    values: pd.Series,
    max_modes: int,
    fit_rows: int,
    spike_share: float,
    rng: np.random.Generator,
) -> tuple[NumericEncoding, np.ndarray]:
    x = as_seconds(values)
    present = ~np.isnan(x)
    seen = x[present]
    centre = float(seen.mean()) if seen.size else 0.0
    scale = float(seen.std()) if seen.size and seen.std() > 0 else 1.0
    z = (x - centre) / scale
    exact = _spikes(seen, spike_share)
    spread = present & ~np.isin(x, exact)  # present values the mixture models
    distinct = np.unique(z[spread]).size
    responsibility = None
    if not seen.size:
        means, stds = np.array([0.0]), np.array([1.0])  # no values: one placeholder mode
    elif distinct == 0:
        means, stds = np.empty(0), np.empty(0)
    elif distinct == 1:
        exact = np.append(exact, x[spread][0])  # a single other value is exact too
        spread[:] = False
        means, stds = np.empty(0), np.empty(0)
    else:
        # exact modes count towards max_modes; a mixture mode must still hold 0.5 % of all rows
        components = min(max(max_modes - exact.size, 1), distinct)
        share = spread.sum() / seen.size
        means, stds, responsibility = _fit_modes(z[spread], components, share, fit_rows, rng)
    n_exact = exact.size
    means = np.concatenate([(exact - centre) / scale, means])
    stds = np.concatenate([np.zeros(n_exact), stds])
    encoding = NumericEncoding(
        name=column.name,
        datetime=column.kind is ColumnKind.DATETIME,
        centre=centre,
        scale=scale,
        means=means.tolist(),
        stds=stds.tolist(),
        has_nulls=bool((~present).any()),
        exact=exact.tolist(),
    )
    block = np.zeros((len(x), encoding.width), dtype=np.float32)
    k = len(means)
    mode = np.zeros(len(x), dtype=np.int64)
    offset = np.zeros(len(x))
    if n_exact:  # an exact value's mode is its own; its offset stays 0
        spiked, order = present & ~spread, np.argsort(exact)
        mode[spiked] = order[np.searchsorted(exact, x[spiked], sorter=order)]
    if responsibility is not None:
        mode[spread] = n_exact + _draw_rows(responsibility(z[spread]), rng)
        offset[spread] = (z[spread] - means[mode[spread]]) / (_SCALE * stds[mode[spread]])
    block[:, 0] = np.clip(offset, -0.99, 0.99)
    block[np.arange(len(x)), 1 + mode] = 1.0
    if encoding.has_nulls:
        block[:, 1 + k] = present
        block[:, 2 + k] = ~present
        # a null row's mode is drawn like a real value's, so the modes keep their training mix
        if (~present).any() and k > 1:
            block[~present, 1 : 1 + k] = 0.0
            weights = np.bincount(mode[present], minlength=k) + 1e-9
            filler = rng.choice(k, size=int((~present).sum()), p=weights / weights.sum())
            block[np.flatnonzero(~present), 1 + filler] = 1.0
    return encoding, block


def _spikes(seen: np.ndarray, share: float) -> np.ndarray:
    """Values held by at least `share` of the present rows, most frequent first (ties by value)."""
    if not seen.size:
        return np.empty(0)
    values, counts = np.unique(seen, return_counts=True)
    frequent = counts >= share * seen.size
    order = np.lexsort((values[frequent], -counts[frequent]))
    return values[frequent][order]


def _fit_modes(z: np.ndarray, components: int, share: float, fit_rows: int, rng: np.random.Generator):
    """Bayesian Gaussian mixture on (a sample of) the standardised values; keep the modes that hold at
    least 0.5 % of the column's rows (`share`: the part of them the mixture models), as ctgan does."""
    from sklearn.mixture import BayesianGaussianMixture

    sample = z if z.size <= fit_rows else rng.choice(z, size=fit_rows, replace=False)
    mixture = BayesianGaussianMixture(
        n_components=components,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001,
        max_iter=100,
        n_init=1,
        random_state=int(rng.integers(2**31)),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence advice on spiky columns; the modes are still usable
        mixture.fit(sample.reshape(-1, 1))
    keep = mixture.weights_ * share > 0.005
    if not keep.any():
        keep = mixture.weights_ == mixture.weights_.max()
    means = mixture.means_.reshape(-1)[keep]
    stds = np.sqrt(mixture.covariances_.reshape(-1))[keep]
    stds = np.maximum(stds, 1e-6)

    def responsibility(values: np.ndarray) -> np.ndarray:
        probs = mixture.predict_proba(values.reshape(-1, 1))[:, keep] + 1e-12
        return probs / probs.sum(axis=1, keepdims=True)

    return means, stds, responsibility


def _draw_rows(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row from row-wise probabilities, vectorised (inverse CDF of one uniform)."""
    cumulative = probs.cumsum(axis=1)
    u = rng.random(len(probs)) * cumulative[:, -1]
    return np.minimum((cumulative < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _decode_numeric(
    column: NumericEncoding, block: np.ndarray, rng: np.random.Generator, noise: float | None
) -> pd.Series:
    k = len(column.means)
    offset = block[:, 0].astype(np.float64)
    if noise is not None:
        offset = offset + rng.normal(0.0, noise, size=len(offset))
    offset = np.clip(offset, -1.0, 1.0)
    mode = block[:, 1 : 1 + k].argmax(axis=1)
    means, stds = np.asarray(column.means), np.asarray(column.stds)
    z = offset * _SCALE * stds[mode] + means[mode]
    x = z * column.scale + column.centre
    if column.exact:  # exact modes give their value to the bit, not centre + z × scale
        n_exact = len(column.exact)
        x = np.where(mode < n_exact, np.asarray(column.exact)[np.minimum(mode, n_exact - 1)], x)
    if column.has_nulls:
        x = np.where(block[:, 2 + k] > block[:, 1 + k], np.nan, x)
    if column.datetime:
        return datetimes_from_seconds(within_years(np.round(x)))
    return pd.Series(x, dtype="float64")


def codes_of(column: DiscreteEncoding, values: pd.Series) -> np.ndarray:
    """The slot of each value (the pooled slot for a rare one, the null slot for a null); a value never
    seen in training is -1."""
    slots: dict[Any, int] = {v: i for i, v in enumerate(column.values)}  # None: the null slot
    other = len(column.values) - 1
    slots.update({v: other for v in column.rare_values})  # a null may be pooled among rare values
    return np.array(
        [slots.get(None if _is_null(v) else v, -1) for v in values.astype(object)], dtype=np.int64
    )


def _is_null(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def labels_of(column: DiscreteEncoding, chosen: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """The value of each chosen slot; the pooled slot draws among the rare values by their counts."""
    labels = np.empty(column.width, dtype=object)
    labels[:] = column.values
    values = labels[chosen]
    if column.rare_values:
        pooled = np.flatnonzero(values == OTHER)
        if pooled.size:
            weights = np.asarray(column.rare_counts, dtype=np.float64)
            picks = rng.choice(len(column.rare_values), size=pooled.size, p=weights / weights.sum())
            values[pooled] = np.asarray(column.rare_values, dtype=object)[picks]
    series = pd.Series(values, dtype=object)
    if column.boolean:
        return series.astype("boolean")
    return series
