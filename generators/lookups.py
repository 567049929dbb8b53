"""Columns that another column determines: learned as a look-up table, not by the model.

Adult's `education-num` is a function of `education` (each education level has one number). A model
that learns both columns must learn that mapping too, and never quite does: a neural generator's
sampled rows pair them wrongly often enough that this one pair is the worst of the 105 in the trend
error. When the training data shows a column to be a function of a category, the plan drops it from
the model and fills it from the category by table look-up, so every row keeps the mapping.

The test is strict, so that a chance regularity is not taken for a rule: the source is a category (or
boolean) whose every value, null included, holds at least `MIN_ROWS` training rows; the target takes at
least two values and takes exactly one within each source value. A target with rows of its minority
value spread among the source's values fails it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from data_contracts.dtypes import parse_column
from data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError

MIN_ROWS = 20  # training rows each source value must hold: a mapping from a handful of rows is a coincidence
SOURCE_KINDS = (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)
TARGET_KINDS = (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.INTEGER, ColumnKind.FLOAT)


class Lookup(BaseModel):
    """`target` is determined by `source`: `values[i]` of the source gives `targets[i]` (None: null)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    target: str
    values: list[Any]
    targets: list[Any]
    counts: list[int]  # training rows per source value: conditions on the target draw sources by them

    def fill(self, source: pd.Series) -> pd.Series:
        """The target of each source value; a value the training data never had gets the target of
        the most frequent one (a generator only makes seen values, so this is a safety net)."""
        table = dict(zip(self.values, self.targets, strict=True))
        fallback = self.targets[int(np.argmax(self.counts))]
        keys = _plain_values(source)
        return pd.Series([table.get(key, fallback) for key in keys], index=source.index, dtype=object)


def find_lookups(contract: Contract, data: pd.DataFrame, learned: list[str]) -> list[Lookup]:
    """The columns among `learned` that a learned category determines, with their tables.

    Sources are taken in contract order; a column that is filled by look-up is never a source, and a
    source is never filled, so look-ups do not chain (A → B and B → C is found as A → B and A → C).
    """
    found: list[Lookup] = []
    sources: set[str] = set()
    targets: set[str] = set()
    kinds = SOURCE_KINDS + TARGET_KINDS
    codes = {name: _codes(data[name]) for name in learned if contract.column(name).kind in kinds}
    for source in learned:
        if source in targets or contract.column(source).kind not in SOURCE_KINDS:
            continue
        groups, labels = codes[source]
        counts = np.bincount(groups)
        if counts.size < 2 or counts.min() < MIN_ROWS:
            continue
        for target in learned:
            if target == source or target in targets or target in sources:
                continue
            if not _can_be_filled(contract.column(target)):
                continue
            values, target_labels = codes[target]
            if target_labels.size < 2:
                continue
            first = np.empty(counts.size, dtype=np.int64)
            first[groups] = values  # any one target value per source value...
            if (first[groups] != values).any():  # ...must be the value of every row
                continue
            found.append(
                Lookup(
                    source=source,
                    target=target,
                    values=[_plain(v) for v in labels],
                    targets=[_plain(target_labels[first[i]]) for i in range(counts.size)],
                    counts=[int(c) for c in counts],
                )
            )
            sources.add(source)
            targets.add(target)
    return found


def _can_be_filled(column: Column) -> bool:
    return column.kind in TARGET_KINDS and column.pii is None


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's value as a code (null its own), and the value of each code."""
    codes, labels = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64), np.asarray(labels, dtype=object)


def _plain(value: Any) -> Any:
    """A JSON-safe scalar: numpy scalars become Python ones, nulls None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _plain_values(values: pd.Series) -> list[Any]:
    return [_plain(v) for v in values.astype(object)]


def translate_conditions(
    table: pd.DataFrame, lookups: list[Lookup], contract: Contract, rng: np.random.Generator
) -> pd.DataFrame:
    """Conditions on looked-up columns as conditions on their sources, which the model learns.

    A row asking for target value `t` gets a source value that gives `t`, drawn by training frequency
    among those that do (so "education-num = 13" becomes "education = Bachelors"); a row that also
    fixes the source must fix one that gives `t`. The target's column leaves the table.
    """
    table = table.copy()
    for lookup in lookups:
        if lookup.target not in table.columns:
            continue
        asked = _plain_values(table.pop(lookup.target))
        given = lookup.source in table.columns
        chosen = _plain_values(table[lookup.source]) if given else [None] * len(table)
        for value in dict.fromkeys(v for v in asked if v is not None):
            giving = [i for i, t in enumerate(lookup.targets) if t == value and lookup.values[i] is not None]
            if not giving:
                raise ConfigError(
                    f"condition {lookup.target}={value!r}: {lookup.target} is determined by {lookup.source} "
                    f"in the training data, and no value of {lookup.source} gives {value!r}",
                    hint=f"ask for a value it takes: {_listed(lookup.targets)}",
                )
            allowed = {lookup.values[i] for i in giving}
            rows = [r for r, v in enumerate(asked) if v is not None and v == value]
            clash = [chosen[r] for r in rows if chosen[r] is not None and chosen[r] not in allowed]
            if clash:
                raise ConfigError(
                    f"conditions {lookup.source}={clash[0]!r} and {lookup.target}={value!r} contradict: "
                    f"{lookup.target} is determined by {lookup.source}, and {clash[0]!r} gives "
                    f"{lookup.targets[lookup.values.index(clash[0])]!r}",
                    hint=f"fix only one of {lookup.source} and {lookup.target}",
                )
            free = [r for r in rows if chosen[r] is None]
            weights = np.asarray([lookup.counts[i] for i in giving], dtype=np.float64)
            picks = rng.choice(len(giving), size=len(free), p=weights / weights.sum())
            for r, pick in zip(free, picks, strict=True):
                chosen[r] = lookup.values[giving[pick]]
        raw = pd.Series(chosen, index=table.index, dtype=object)
        table[lookup.source] = parse_column(raw, contract.column(lookup.source)).values
    return table


def _listed(values: list[Any], most: int = 20) -> str:
    seen = sorted({v for v in values if v is not None}, key=str)
    return ", ".join(map(str, seen[:most])) + (" …" if len(seen) > most else "")
