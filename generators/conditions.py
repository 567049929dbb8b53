"""Conditions for sampling, checked against the contract before any model runs.

`sample(n, conditions={"income": ">50K"})` fixes a column to a value in every row; a DataFrame of
conditions fixes values row by row (one output row per condition row; an empty cell leaves that
column free in that row). Values are parsed as the contract says, and a value the contract cannot
hold (an unknown category, a number outside the declared range, a null where none is allowed) is an
error here, before sampling, instead of an empty result or a loop that never ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from synthwright.data_contracts.dtypes import parse_column
from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.data_contracts.sdv_metadata import modelled
from synthwright.errors import ConfigError, UserInputError


def condition_table(conditions: Any, n: int, contract: Contract, derived: set[str]) -> pd.DataFrame:
    """Conditions as an `n`-row frame of contract-typed values (null = free) over the conditioned columns.

    `derived` names model-contract columns that the model does not learn as they are (a rule's right
    side learned as a gap): they cannot be conditioned on.
    """
    if isinstance(conditions, Mapping):
        if not conditions:
            raise ConfigError("conditions are empty", hint="give at least one COLUMN=VALUE, or none at all")
        for name, value in conditions.items():
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                raise ConfigError(
                    f"condition {name}=null: conditions must be values; asking for missing values "
                    "is not supported",
                    hint="leave the column out to let the model decide where it is missing",
                )
        raw = pd.DataFrame({name: [value] * n for name, value in conditions.items()}, index=pd.RangeIndex(n))
    elif isinstance(conditions, pd.DataFrame):
        if len(conditions) != n:
            raise UserInputError(
                f"the conditions table has {len(conditions):,} rows but {n:,} rows were asked for",
                hint="one output row is made per condition row: ask for as many rows as the table has",
            )
        raw = conditions.reset_index(drop=True)
    else:
        raise ConfigError(
            f"conditions must be a mapping of column → value or a DataFrame, got {type(conditions).__name__}"
        )
    table = {}
    for name in raw.columns:
        table[str(name)] = _column_values(raw[name], str(name), contract, derived)
    return pd.DataFrame(table, index=pd.RangeIndex(n))


def _column_values(raw: pd.Series, name: str, contract: Contract, derived: set[str]) -> pd.Series:
    if name not in contract.names:
        raise ConfigError(
            f"condition on unknown column {name!r}",
            hint=f"columns of the contract: {', '.join(contract.names)}",
        )
    column = contract.column(name)
    if not modelled(column):
        what = "an identifier" if column.kind is ColumnKind.IDENTIFIER else f"personal data ({column.pii})"
        raise ConfigError(
            f"cannot condition on column {name!r}: it is {what}, made by rule "
            "(fresh keys or fakes), not learned",
            hint="condition on the columns the model learns",
        )
    if name in derived:
        raise ConfigError(
            f"cannot condition on column {name!r}: the model learns it as a gap to another column "
            "(a rule of the contract), not as a value",
            hint="condition on the rule's other column instead",
        )
    parsed = parse_column(raw, column)
    if parsed.bad_count:
        examples = raw[parsed.bad].unique()[:3].tolist()
        raise ConfigError(
            f"condition on {name!r}: {examples} cannot be read as {column.kind}",
            hint=f"give {name} a value of its contract kind ({column.kind})",
        )
    values = parsed.values
    present = values.dropna()
    if column.kind is ColumnKind.CATEGORICAL and column.values is not None:
        unknown = sorted(set(present) - set(column.values), key=str)
        if unknown:
            allowed = ", ".join(map(repr, column.values[:30])) + (" …" if len(column.values) > 30 else "")
            raise ConfigError(
                f"condition on {name!r}: {unknown[:5]} is not one of the contract's categories",
                hint=f"allowed: {allowed}",
            )
    low, high = _bound(column.min, column.kind), _bound(column.max, column.kind)
    too_low = present < low if low is not None else False
    too_high = present > high if high is not None else False
    outside = present[too_low | too_high] if low is not None or high is not None else present.iloc[:0]
    if len(outside):
        raise ConfigError(
            f"condition on {name!r}: {outside.unique()[:3].tolist()} is outside the contract's range "
            f"[{'…' if column.min is None else column.min}, {'…' if column.max is None else column.max}]",
            hint="ask for a value inside the range, or widen the contract",
        )
    return values


def _bound(value: Any, kind: ColumnKind) -> Any:
    if value is None:
        return None
    return pd.Timestamp(value) if kind is ColumnKind.DATETIME else value


def with_given_values(rows: pd.DataFrame, conditions: pd.DataFrame) -> pd.DataFrame:
    """`rows` with every conditioned cell set to exactly the value asked for (a generator that writes
    numbers on a grid or through a quantile map may land a hair away from it)."""
    for name in conditions.columns:
        fixed = conditions[name].notna().to_numpy()
        rows[name] = rows[name].mask(fixed, conditions[name].astype(rows[name].dtype))
    return rows


def broken_conditions(frame: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Conditioned cells whose output differs from what was asked (a generator bug if any)."""
    problems = []
    for name in table.columns:
        asked = table[name]
        fixed = asked.notna()
        got = frame[name].reset_index(drop=True)
        differs = fixed & (got.astype(object) != asked.astype(object))
        if differs.any():
            problems.append(f"column {name!r}: {int(differs.sum())} row(s) differ from the condition")
    return problems
