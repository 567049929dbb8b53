"""Contract-typed frames as numbers, for the validators' own models: classifiers and nearest neighbours.

Two encodings, both driven by the contract (never by guessing from dtypes):

- `tree_matrices`: one float column per scored column for gradient-boosted trees. Numbers and datetimes
  (as seconds) stay numbers, categories and booleans become integer codes shared by every frame; a null
  is a code of its own, or a number below the column's values (never NaN: see the function).
- `DistanceSpace`: a space where Euclidean distance weighs every column equally. Numbers and datetimes
  are min–max scaled to the reference data's range (one full-range difference = 1); categories are
  one-hot over the reference's most frequent values plus "other", scaled by 1/√2 so a mismatch also
  costs exactly 1; a null is its own category, or, in a numeric column, a separate 0/1 indicator.

Scored columns are the ones generators learn: identifiers and personal data are made by rule, not
learned, so they are left out (the PII check looks at them separately).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.data_contracts.sdv_metadata import modelled

CATEGORY_KINDS = frozenset({ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.TEXT})
MAX_ONE_HOT = 50
"""Categories beyond the 50 most frequent share one "other" slot in the distance space."""
MAX_TREE_CATEGORIES = 255


SMALL_FIT_ROWS = 20_000


@contextlib.contextmanager
def model_threads(rows: int) -> Iterator[None]:
    """One OpenMP thread for small fits: the validators' gradient boosting on a few thousand rows is
    fastest single-threaded, and multi-threaded it slows 20–90× when other processes hold the cores
    (measured: 100 rounds on 86 rows took 2.5 s on 2 busy cores, 0.09 s on one thread)."""
    if rows >= SMALL_FIT_ROWS:
        yield
        return
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def scored_columns(contract: Contract, exclude: tuple[str, ...] = ()) -> list[Column]:
    return [c for c in contract.columns if modelled(c) and c.name not in exclude]


def is_categorical(column: Column) -> bool:
    return column.kind in CATEGORY_KINDS


def as_float(series: pd.Series, column: Column) -> np.ndarray:
    if column.kind is ColumnKind.DATETIME:
        values = pd.to_datetime(series)
        # through microseconds: the same seconds whether a frame holds nanoseconds or (years beyond
        # 1677-2262) microseconds
        seconds = values.to_numpy(dtype="datetime64[us]").view("int64").astype("float64") / 1e6
        return np.where(values.isna().to_numpy(), np.nan, seconds)
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def as_labels(series: pd.Series) -> pd.Series:
    """Category labels as strings (booleans too), nulls as None: one vocabulary across frames."""
    return series.astype(object).map(lambda v: None if pd.isna(v) else str(v))


def tree_matrices(frames: list[pd.DataFrame], columns: list[Column]) -> tuple[list[np.ndarray], list[bool]]:
    """Each frame as a float matrix over `columns`, and which matrix columns hold category codes.

    A category column with too many values for the trees' categorical support is passed as its codes
    in alphabetical order, as a number. Nulls are not left as NaN: sklearn's gradient boosting cannot
    bin a feature with no value in a training fold (a ValueError), which a mostly-null column meets
    on small tables. A null category gets a code of its own, a null number a value below every value
    of its column across the frames (the trees separate it just as they would a missing value).
    """
    outputs = [np.empty((len(f), len(columns)), dtype="float64") for f in frames]
    categorical = []
    for j, column in enumerate(columns):
        if is_categorical(column):
            labels = [as_labels(f[column.name]) for f in frames]
            vocabulary = pd.Index(sorted(set().union(*(set(s.dropna()) for s in labels))))
            nulls = False
            for out, series in zip(outputs, labels, strict=True):
                codes = vocabulary.get_indexer(series.fillna("\x00<null>"))
                null = series.isna().to_numpy() | (codes < 0)
                nulls |= bool(null.any())
                out[:, j] = np.where(null, len(vocabulary), codes)
            categorical.append(len(vocabulary) + nulls <= MAX_TREE_CATEGORIES)
        else:
            for out, frame in zip(outputs, frames, strict=True):
                out[:, j] = as_float(frame[column.name], column)
            present = [out[:, j][~np.isnan(out[:, j])] for out in outputs]
            lowest = min((float(p.min()) for p in present if len(p)), default=1.0)
            null_value = lowest - max(1.0, abs(lowest))
            for out in outputs:
                out[np.isnan(out[:, j]), j] = null_value
            categorical.append(False)
    return outputs, categorical


@dataclass(frozen=True)
class _NumericAxis:
    name: str
    column: Column
    low: float
    span: float
    nullable: bool


@dataclass(frozen=True)
class _CategoryAxis:
    name: str
    levels: pd.Index  # the kept categories; anything else (and null) gets its own slot


class DistanceSpace:
    """Mixed-type rows as points where every column counts the same; fitted on the reference rows."""

    def __init__(self, reference: pd.DataFrame, columns: list[Column]) -> None:
        self.axes: list[_NumericAxis | _CategoryAxis] = []
        for column in columns:
            series = reference[column.name]
            if is_categorical(column):
                counts = as_labels(series).value_counts(dropna=True)
                self.axes.append(_CategoryAxis(column.name, pd.Index(counts.index[:MAX_ONE_HOT])))
            else:
                values = as_float(series, column)
                finite = values[np.isfinite(values)]
                low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
                nullable = bool(np.isnan(values).any()) or column.nullable
                self.axes.append(_NumericAxis(column.name, column, low, high - low or 1.0, nullable))

    @property
    def dimensions(self) -> int:
        return sum((1 + a.nullable) if isinstance(a, _NumericAxis) else len(a.levels) + 2 for a in self.axes)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """float32 points; one row per frame row."""
        blocks = []
        for axis in self.axes:
            if isinstance(axis, _NumericAxis):
                values = as_float(frame[axis.name], axis.column)
                missing = np.isnan(values)
                scaled = np.clip((values - axis.low) / axis.span, 0.0, 1.0)
                blocks.append(np.where(missing, 0.0, scaled)[:, None])
                if axis.nullable:
                    blocks.append(missing.astype("float64")[:, None])
            else:
                labels = as_labels(frame[axis.name])
                codes = axis.levels.get_indexer(labels.fillna("\x00<null>"))
                other, null = len(axis.levels), len(axis.levels) + 1
                slot = np.where(labels.isna().to_numpy(), null, np.where(codes < 0, other, codes))
                one_hot = np.zeros((len(frame), len(axis.levels) + 2))
                one_hot[np.arange(len(frame)), slot] = np.sqrt(0.5)
                blocks.append(one_hot)
        return np.hstack(blocks).astype("float32") if blocks else np.zeros((len(frame), 0), "float32")


def row_keys(frame: pd.DataFrame, columns: list[Column]) -> np.ndarray:
    """One 64-bit hash per row over `columns`, by value as the contract reads it: an integer 35 and
    a float 35.0 are the same value, and nulls equal nulls."""
    normalised = pd.DataFrame(
        {
            c.name: as_labels(frame[c.name]) if is_categorical(c) else as_float(frame[c.name], c)
            for c in columns
        }
    )
    return pd.util.hash_pandas_object(normalised, index=False).to_numpy()


def nearest_distances(
    queries: np.ndarray, reference: np.ndarray, k: int = 1, chunk_rows: int = 256
) -> np.ndarray:
    """Euclidean distance from each query to its k (1 or 2) nearest reference points, shape (n, k).

    Brute force in chunks of queries, so memory stays at chunk_rows × len(reference) floats whatever
    the sizes. The search ranks by ‖r‖² − 2 q·r in float32 (one matrix product per chunk; ‖q‖² is
    constant along a row); the distances to the neighbours found are then computed exactly in float64,
    so equal rows are at distance 0 however wide the table.
    """
    if k not in (1, 2):
        raise ValueError("k must be 1 or 2")
    k = min(k, len(reference))
    neighbours = np.empty((len(queries), k), dtype="int64")
    reference_sq = np.einsum("ij,ij->i", reference, reference)
    for start in range(0, len(queries), chunk_rows):
        block = queries[start : start + chunk_rows]
        partial = block @ reference.T
        partial *= -2.0
        partial += reference_sq[None, :]
        rows = np.arange(len(block))
        nearest = partial.argmin(axis=1)
        neighbours[start : start + len(block), 0] = nearest
        if k == 2:
            partial[rows, nearest] = np.inf
            neighbours[start : start + len(block), 1] = partial.argmin(axis=1)
    exact = np.empty((len(queries), k), dtype="float64")
    for j in range(k):
        difference = queries.astype("float64") - reference[neighbours[:, j]].astype("float64")
        exact[:, j] = np.sqrt(np.einsum("ij,ij->i", difference, difference))
    return np.sort(exact, axis=1)
