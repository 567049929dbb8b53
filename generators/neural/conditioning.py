"""Per-row conditions met with the model's own conditioning, and a bounded search for the rest.

Our CTGAN and TVAE take a condition vector: one discrete column set to one value. For each distinct
set of conditions, the rarest discrete value is given to the model as that vector (and written into
the rows); any further conditions are met by keeping the generated rows that match them, within a
fixed draw budget. When the budget runs out the error says how many rows matched and why, so a
request can never hang or come back short.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.generators.neural.encoding import OTHER, DiscreteEncoding, TableEncoding

Native = tuple[int, int] | None
"""(discrete column index, value slot) given to the model, or None for an unconditioned draw."""

Draw = Callable[[int, Native], pd.DataFrame]

MIN_BUDGET = 20_000
BUDGET_PER_ROW = 200
MAX_CHUNK = 65_536  # rows decoded at once while searching: bounds memory for large requests


def sample_conditioned(
    draw: Draw, table: pd.DataFrame, encoding: TableEncoding, contract: Contract, generator: str
) -> pd.DataFrame:
    """`len(table)` rows of model columns; row i keeps the non-null cells of `table` row i."""
    _refuse_unconditionable(table, contract, generator)
    keys = [
        tuple((name, value) for name, value in zip(table.columns, row, strict=True) if not pd.isna(value))
        for row in table.astype(object).itertuples(index=False, name=None)
    ]
    groups: dict[tuple, list[int]] = {}
    for position, key in enumerate(keys):
        groups.setdefault(key, []).append(position)
    pieces = []
    for key, positions in groups.items():
        rows = _rows_meeting(draw, dict(key), len(positions), encoding, generator)
        rows.index = positions
        pieces.append(rows)
    return pd.concat(pieces).sort_index().reset_index(drop=True)


def _refuse_unconditionable(table: pd.DataFrame, contract: Contract, generator: str) -> None:
    for name in table.columns:
        kind = contract.column(name).kind
        if kind in (ColumnKind.FLOAT, ColumnKind.DATETIME) and table[name].notna().any():
            raise ConfigError(
                f"the {generator} generator cannot condition on {kind} column {name!r}: a generated "
                "value almost never equals a given one exactly",
                hint="condition on categorical, boolean, text or integer columns",
            )


def _rows_meeting(
    draw: Draw, conditions: dict, m: int, encoding: TableEncoding, generator: str
) -> pd.DataFrame:
    if not conditions:
        return draw(m, None)
    native_name, native = _native_condition(conditions, encoding)
    rest = {k: v for k, v in conditions.items() if k != native_name}

    def drawn(count: int) -> pd.DataFrame:
        rows = draw(count, native)
        if native_name is not None:
            rows[native_name] = pd.Series([conditions[native_name]] * count, dtype=rows[native_name].dtype)
        return rows

    if not rest:
        return drawn(m)
    budget = max(MIN_BUDGET, BUDGET_PER_ROW * m)
    kept, have, tried = [], 0, 0
    while have < m and tried < budget:
        # a first probe, then as many as the observed match rate says are missing, in bounded chunks
        wanted = 2 * (m - have) if not tried else int((m - have) * tried / max(have, 1) * 1.2)
        size = min(budget - tried, MAX_CHUNK, max(1024, wanted))
        rows = drawn(size)
        tried += size
        match = np.ones(size, dtype=bool)
        for name, value in rest.items():
            match &= _equals(rows[name], value)
        kept.append(rows[match])
        have += int(match.sum())
    if have < m:
        raise ConfigError(
            f"the {generator} generator made only {have:,} of {m:,} rows with {_describe(conditions)} "
            f"in {tried:,} draws ({f'1 in {tried // have:,}' if have else 'none'} matched): the model "
            "rarely makes this combination",
            hint="condition on fewer columns, ask for fewer rows, or train the model longer",
        )
    return pd.concat(kept).head(m).reset_index(drop=True)


def _native_condition(conditions: dict, encoding: TableEncoding) -> tuple[str | None, Native]:
    """The rarest discrete condition, as (column name, (discrete index, slot)); unseen values refused."""
    best: tuple[float, str, tuple[int, int]] | None = None
    for index, (column, _) in enumerate(encoding.discrete()):
        if column.name not in conditions:
            continue
        slot, count = _slot(column, conditions[column.name])
        if best is None or count < best[0]:
            best = (count, column.name, (index, slot))
    return (None, None) if best is None else (best[1], best[2])


def _slot(column: DiscreteEncoding, value) -> tuple[int, float]:
    for slot, seen in enumerate(column.values):
        if seen is not None and seen != OTHER and seen == value:
            return slot, column.counts[slot]
    for rare, count in zip(column.rare_values, column.rare_counts, strict=True):
        if rare == value:
            return column.values.index(OTHER), count
    raise ConfigError(
        f"condition {column.name}={value!r}: the contract allows this value but it never occurs in the "
        "training data, so the model cannot make it",
        hint="ask for a value seen in training, or fit on data that holds it",
    )


def _equals(values: pd.Series, wanted) -> np.ndarray:
    if pd.api.types.is_float_dtype(values):  # integer columns decode as floats; conform rounds them
        return (values.round() == wanted).fillna(False).to_numpy(dtype=bool)
    return (values.astype(object) == wanted).to_numpy(dtype=bool)


def _describe(conditions: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in conditions.items())
