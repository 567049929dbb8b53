"""The store's test table (importable as `store_support`): a frame and contract that child
interpreters build too, their source sent to the child verbatim (`child_source`), and a value check."""

from __future__ import annotations

import inspect
import textwrap

import pandas as pd

from synthwright.data_contracts.model import ColumnKind


def build_frame(rows, seed):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    day = np.datetime64("2024-01-01") + rng.integers(0, 300, rows).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            "id": pd.array(np.arange(rows, dtype=np.int64), dtype="Int64"),
            "x": rng.normal(size=rows),
            "label": rng.choice(np.array(["alpha", "beta", "gamma"], dtype=object), rows),
            "note": rng.integers(0, 10**12, rows).astype(str).astype(object),
            "day": pd.to_datetime(day).astype("datetime64[ns]"),
        }
    )


def build_contract(day_format="%Y-%m-%d"):
    from synthwright.data_contracts.model import Column, ColumnKind, Contract

    return Contract(
        dataset="big",
        primary_key="id",
        columns=[
            Column(name="id", kind=ColumnKind.IDENTIFIER, id_type="integer", unique=True),
            Column(name="x", kind=ColumnKind.FLOAT),
            Column(name="label", kind=ColumnKind.CATEGORICAL, values=["alpha", "beta", "gamma"]),
            Column(name="note", kind=ColumnKind.TEXT),
            Column(name="day", kind=ColumnKind.DATETIME, format=day_format),
        ],
    )


def child_source(main: str) -> str:
    """`build_frame` and `build_contract`, then `main`: the program a child interpreter runs."""
    functions = (textwrap.dedent(inspect.getsource(f)) for f in (build_frame, build_contract))
    return "\n\n".join(functions) + textwrap.dedent(main)


def assert_same_values(back: pd.DataFrame, frame: pd.DataFrame, contract) -> None:
    """The rows read back equal the rows published, column by column (Arrow's pandas types aside)."""
    assert list(back.columns) == contract.names
    assert len(back) == len(frame)
    for column in contract.columns:
        got, want = back[column.name], frame[column.name]
        if column.kind is ColumnKind.DATETIME:
            got = pd.to_datetime(got)
            want = pd.to_datetime(want)
            assert (got.isna() == want.isna()).all(), column.name
            assert (got[got.notna()] == want[want.notna()]).all(), column.name
            continue
        got_list = [None if pd.isna(v) else v for v in got.tolist()]
        want_list = [None if pd.isna(v) else v for v in want.astype(object).tolist()]
        assert got_list == want_list, column.name
