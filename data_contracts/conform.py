"""Bring a generator's output into its contract: order, dtypes, rounding, ranges — and report the rest.

What can be repaired without changing the data's meaning is repaired (a float where an integer belongs
is rounded, a value a hair outside a declared range is clipped, a date-only column loses its time of
day). What cannot — a category the contract never allowed, a null in a non-nullable column, a missing
column — is returned as a problem, because it means the generator is broken.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthwright.data_contracts.dtypes import pandas_dtype, parse_column
from synthwright.data_contracts.model import Column, ColumnKind, Contract


def conform(frame: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, list[str]]:
    """Return the frame in contract order and dtypes, and what could not be made to conform."""
    problems: list[str] = []
    missing = [n for n in contract.names if n not in frame.columns]
    if missing:
        return frame, [f"missing column(s) {missing}"]
    out = {}
    for column in contract.columns:
        values, issue = _conform_column(frame[column.name].reset_index(drop=True), column)
        out[column.name] = values
        if issue:
            problems.append(f"column {column.name!r}: {issue}")
    result = pd.DataFrame(out, index=pd.RangeIndex(len(frame)))
    return result, problems


def _conform_column(values: pd.Series, column: Column) -> tuple[pd.Series, str | None]:
    if column.kind in (ColumnKind.INTEGER, ColumnKind.FLOAT) and pd.api.types.is_numeric_dtype(values):
        values = values.astype("float64")
        if column.integer_valued:
            values = values.round()
        values = values.clip(lower=column.min, upper=column.max)
    parsed = parse_column(values, column)
    if parsed.bad_count:
        examples = values[parsed.bad].unique()[:3].tolist()
        return parsed.values, f"{parsed.bad_count} value(s) are not {column.kind}, e.g. {examples}"
    values = parsed.values
    if column.kind is ColumnKind.DATETIME:
        if column.is_date_only:
            values = values.dt.round("D")
        lower = pd.Timestamp(column.min) if column.min is not None else None
        upper = pd.Timestamp(column.max) if column.max is not None else None
        values = values.clip(lower=lower, upper=upper)
    if column.kind is ColumnKind.CATEGORICAL and column.values is not None:
        unknown = values.notna() & ~values.isin(column.values)
        if unknown.any():
            return (
                values,
                f"{int(unknown.sum())} value(s) outside the categories, "
                f"e.g. {values[unknown].unique()[:3].tolist()}",
            )
    if not column.nullable and values.isna().any():
        return values, f"{int(values.isna().sum())} null(s) in a non-nullable column"
    return values, None


def empty_frame(contract: Contract) -> pd.DataFrame:
    """Zero rows with the contract's columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series([], dtype=pandas_dtype(c)) for c in contract.columns})


def rows_inside(frame: pd.DataFrame, contract: Contract) -> np.ndarray:
    """Per row, whether every value is inside its column as it stands, with nothing repaired: a known
    category, a number or date within min/max (whole for integers), a null only where nullable.

    What `conform` would round or clip counts as outside: this is how a generator's own output is
    shown to keep the contract by construction."""
    ok = np.ones(len(frame), dtype=bool)
    for column in contract.columns:
        values = frame[column.name]
        present = values.notna().to_numpy()
        inside = np.ones(len(frame), dtype=bool)
        if column.kind is ColumnKind.CATEGORICAL and column.values is not None:
            inside = values.isin(column.values).to_numpy()
        elif column.kind in (ColumnKind.INTEGER, ColumnKind.FLOAT, ColumnKind.DATETIME):
            if column.kind is ColumnKind.DATETIME:
                x = pd.to_datetime(values, errors="coerce")
                low = pd.Timestamp(column.min) if column.min is not None else None
                high = pd.Timestamp(column.max) if column.max is not None else None
            else:
                x = pd.to_numeric(values, errors="coerce").astype("float64")
                low, high = column.min, column.max
            if low is not None:
                inside &= (x >= low).fillna(False).to_numpy(dtype=bool)
            if high is not None:
                inside &= (x <= high).fillna(False).to_numpy(dtype=bool)
            if column.kind is ColumnKind.INTEGER:
                inside &= (x == x.round()).fillna(False).to_numpy(dtype=bool)
        ok &= np.where(present, inside, column.nullable)
    return ok
