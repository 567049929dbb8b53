"""Rare values: what no generator may publish verbatim, enforced once in the base class.

Row-level privacy metrics (distance to the closest record, exact matches, membership attacks) cannot
see a value-level leak: a name held by one person, copied into otherwise new rows, passes all of them.
So every generator's model columns go through this protection (`ColumnPlan.fit` builds it):

- **labels** (categorical and text columns): a value held by fewer than `k` training rows is pooled
  into one token before fitting, so no model learns it; on the way out the token becomes a frequent
  value of the column (drawn by its training frequency) or the column's placeholder. A guard then
  replaces anything a model still emits that equals a rare training value (a text model can
  memorise one): the plan keeps salted hashes of the rare values, never the values themselves.
- **codes** (integer columns with at most `CODE_VALUES` distinct training values: a region, a
  status): a rare code is replaced by a frequent one (drawn by training frequency) before fitting, and
  the same guard replaces any rare code a model emits.
- **ranges** (other integer and float columns): values are clipped to the k-th smallest and k-th
  largest training value before fitting and after sampling, so no single extreme is published.

Booleans, datetimes, identifiers and personal data (made by rule) are left alone. `k` comes from the
column's `rare` entry in the contract, else the run's default (`RareValues`); `min_rows: 1` is off.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from synthwright.data_contracts.model import (
    LABEL_KINDS,
    NUMERIC_KINDS,
    Column,
    RareValues,
    is_code,
)
from synthwright.errors import ConfigError

POOL = "__synthwright_rare__"
"""The token rare labels share while a model learns; never published."""


class ProtectedColumn(BaseModel):
    """One model column's protection, fitted on the training rows (saved with the model)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: Literal["labels", "codes", "range"]
    min_rows: int
    rare_values: int = 0
    """How many distinct training values were rare (their rows were pooled)."""
    rare_rows: int = 0
    salt: str = ""
    rare_hashes: list[str] = []
    replace_with: Literal["frequent", "placeholder"] = "frequent"
    placeholder: str = "(rare)"
    frequent: list[str] = []
    frequent_counts: list[int] = []
    low: float | None = None
    high: float | None = None
    clipped_rows: int = 0

    @cached_property
    def hash_set(self) -> frozenset[str]:
        return frozenset(self.rare_hashes)

    def is_rare(self, values: pd.Series) -> pd.Series:
        """True where a (non-null) value is one of the rare training values. A code's float output
        (3.0) is read as the integer it was hashed as."""
        present = values.notna().to_numpy()
        rare = np.zeros(len(values), dtype=bool)
        if self.hash_set and present.any():
            kept = values[present]
            text = (
                pd.to_numeric(kept, errors="coerce").round().astype("Int64").astype(str)
                if self.kind == "codes"
                else kept.astype(str)
            )
            rare[present] = text.map(lambda v: _digest(self.salt, v) in self.hash_set).to_numpy(dtype=bool)
        return pd.Series(rare, index=values.index)


def protect_columns(
    data: pd.DataFrame, columns: list[Column], default: RareValues, *, seed: int
) -> list[ProtectedColumn]:
    """The protection of each model column that has one (see the module docstring)."""
    rng = np.random.default_rng(seed)
    protected = []
    for column in columns:
        policy = column.rare or default
        if policy.off:
            continue
        values = data[column.name]
        entry: ProtectedColumn | None = None
        if column.kind in LABEL_KINDS:
            entry = _labels(column, values, policy, f"{rng.integers(2**63):x}")
        elif is_code(column, values):
            codes = _labels(column, values, policy, f"{rng.integers(2**63):x}")
            if codes.rare_values and codes.frequent:  # every code rare: clipping is all there is
                entry = codes.model_copy(update={"kind": "codes", "replace_with": "frequent"})
        if entry is None and column.kind in NUMERIC_KINDS and policy.clip_extremes:
            entry = _range(column, values, policy)
        if entry is not None:
            protected.append(entry)
    return protected


def _labels(column: Column, values: pd.Series, policy: RareValues, salt: str) -> ProtectedColumn:
    counts = values.dropna().astype(str).value_counts()
    rare = counts[counts < policy.min_rows]
    frequent = counts[counts >= policy.min_rows].sort_index()
    if (
        policy.replace_with == "placeholder"
        and column.values is not None
        and policy.placeholder not in column.values
        and len(rare)
    ):
        raise ConfigError(
            f"column {column.name!r}: rare values are to be replaced by {policy.placeholder!r}, "
            "which is not one of its categories",
            hint=f"add {policy.placeholder!r} to the column's values, "
            "or use rare: {replace_with: frequent}",
        )
    weights = frequent
    if len(rare) and frequent.empty and policy.replace_with == "frequent" and column.values is not None:
        # nothing frequent to draw: a declared category no training row holds is public by the contract
        unseen = [v for v in column.values if v not in counts.index]
        if not unseen:
            raise ConfigError(
                f"column {column.name!r}: every value is held by fewer than {policy.min_rows} training "
                "rows, so none of them may be published and the contract lists no other",
                hint=f"allow them in the contract (column {column.name!r}: rare: {{min_rows: 1}}), "
                "drop the column, or train on more rows",
            )
        weights = pd.Series(1, index=sorted(unseen))
    return ProtectedColumn(
        name=column.name,
        kind="labels",
        min_rows=policy.min_rows,
        rare_values=len(rare),
        rare_rows=int(rare.sum()),
        salt=salt,
        rare_hashes=sorted(_digest(salt, v) for v in rare.index),
        replace_with=policy.replace_with,
        placeholder=policy.placeholder,
        frequent=[str(v) for v in weights.index],
        frequent_counts=[int(c) for c in weights],
    )


def _range(column: Column, values: pd.Series, policy: RareValues) -> ProtectedColumn | None:
    numbers = np.sort(pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype="float64"))
    k = policy.min_rows
    if not len(numbers):
        return None
    if len(numbers) < 2 * k:  # too few rows: every value is an extreme; keep one real middle value
        low = high = float(numbers[len(numbers) // 2])
    else:
        low, high = float(numbers[k - 1]), float(numbers[-k])
    clipped = int(((numbers < low) | (numbers > high)).sum())
    return ProtectedColumn(
        name=column.name, kind="range", min_rows=k, low=low, high=high, clipped_rows=clipped
    )


def every_value(name: str, values: pd.Series, *, seed: int) -> ProtectedColumn:
    """Salted hashes of every distinct real value of a column (personal data's guard)."""
    salt = f"{np.random.default_rng(seed).integers(2**63):x}"
    distinct = values.dropna().astype(str).unique()
    return ProtectedColumn(
        name=name,
        kind="labels",
        min_rows=1,
        salt=salt,
        rare_hashes=sorted({_digest(salt, v) for v in distinct}),
    )


def encode(frame: pd.DataFrame, protected: list[ProtectedColumn], text: set[str]) -> pd.DataFrame:
    """Training rows → what a model may learn: rare labels pooled, numbers clipped. Columns in `text`
    (free text a text model writes) keep their values: the guard in `decode` protects them."""
    frame = frame.copy()
    for entry in protected:
        values = frame[entry.name]
        if entry.kind == "range":
            frame[entry.name] = _clip(values, entry)
        elif entry.kind == "codes":
            rng = np.random.default_rng(int(entry.salt[:12], 16))
            frame[entry.name] = _replaced(values, entry.is_rare(values), entry, rng)
        elif entry.name not in text:
            frame[entry.name] = _replaced(values, entry.is_rare(values), entry, None)
    return frame


def decode(
    frame: pd.DataFrame,
    protected: list[ProtectedColumn],
    seed: int,
    conditions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Model output → rows with no rare value: the pool token and any rare value replaced, numbers
    clipped to the protected range except in cells the caller's `conditions` fixed."""
    rng = np.random.default_rng([seed, 1])  # a stream of its own: the fakes draw from `seed`
    frame = frame.copy()
    for entry in protected:
        values = frame[entry.name]
        if entry.kind == "range":
            clipped = _clip(values, entry)
            if conditions is not None and entry.name in conditions:
                fixed = conditions[entry.name].notna().to_numpy()
                clipped = clipped.where(~fixed, values)
            frame[entry.name] = clipped
            continue
        rare = entry.is_rare(values)
        if entry.kind == "labels":
            rare |= values.notna() & (values.astype(object) == POOL)
        frame[entry.name] = _replaced(values, rare, entry, rng)
    return frame


def refuse_rare_conditions(conditions: pd.DataFrame, plan: Any) -> None:
    """A condition on a rare label could only be met by publishing it: refuse. (A number is the
    caller's own value, not a person's: conditioned cells are exempt from clipping instead.)"""
    for column in conditions.columns:
        entry = plan.protection(column)
        values = conditions[column].dropna()
        if entry is None or values.empty or entry.kind == "range":
            continue
        rare = values[entry.is_rare(values)]
        if len(rare):
            raise ConfigError(
                f"condition {column}={str(rare.iloc[0])!r}: the value is held by fewer than "
                f"{entry.min_rows} training rows, so it is never published",
                hint=f"condition on a more frequent value, or allow it in the contract "
                f"(column {column!r}: rare: {{min_rows: 1}})",
            )


def model_column(column: Column, entry: ProtectedColumn | None, text: set[str]) -> Column:
    """The column a model sees: a declared category set loses its rare values and gains the pool."""
    if entry is None or entry.kind != "labels" or column.name in text or column.values is None:
        return column
    if not entry.rare_values:
        return column
    rare = entry.is_rare(pd.Series(column.values, dtype=object)).to_numpy()
    kept = [v for v, is_rare in zip(column.values, rare, strict=True) if not is_rare]
    return column.model_copy(update={"values": [*kept, POOL]})


def _replaced(
    values: pd.Series, rare: pd.Series, entry: ProtectedColumn, rng: np.random.Generator | None
) -> pd.Series:
    """`values` with the `rare` cells replaced: by a frequent value drawn by `rng` (a code: as an
    integer), the placeholder, or (no `rng`: a label being pooled for fitting) the pool token."""
    mask = rare.to_numpy(dtype=bool)
    if not mask.any():
        return values
    n = int(mask.sum())
    if rng is None:
        replacements: np.ndarray = np.full(n, POOL, dtype=object)
    elif entry.replace_with == "placeholder" or not entry.frequent:
        replacements = np.full(n, entry.placeholder, dtype=object)
    else:
        weights = np.asarray(entry.frequent_counts, dtype="float64")
        picks = rng.choice(len(weights), size=n, p=weights / weights.sum())
        replacements = np.asarray(entry.frequent, dtype=object)[picks]
    if entry.kind == "codes":
        out = values.copy()
        out[mask] = replacements.astype("int64")
        return out
    labels = values.astype(object).to_numpy(copy=True)
    labels[mask] = replacements
    return pd.Series(labels, index=values.index, dtype=object)


def _clip(values: pd.Series, entry: ProtectedColumn) -> pd.Series:
    if pd.api.types.is_integer_dtype(values):
        low = None if entry.low is None else int(np.ceil(entry.low))
        high = None if entry.high is None else int(np.floor(entry.high))
        return values.clip(lower=low, upper=high)
    return values.clip(lower=entry.low, upper=entry.high)


def _digest(salt: str, value: Any) -> str:
    return hashlib.sha256(f"{salt}\x00{value}".encode()).hexdigest()[:16]
