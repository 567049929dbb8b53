"""Contract-typed frames to and from files: Parquet between pipeline steps, any format for users."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from synthwright.data_contracts.arrow import to_arrow
from synthwright.data_contracts.dtypes import parse_frame
from synthwright.data_contracts.io import format_datetime
from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.errors import ConfigError


def write_frame(frame: pd.DataFrame, contract: Contract, path: Path) -> Path:
    """Write by suffix: .parquet (the contract's Arrow schema), .csv, or .jsonl."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        pq.write_table(to_arrow(frame, contract), path, compression="zstd")
    elif suffix in (".csv", ".jsonl"):
        text = _formatted_dates(frame, contract, csv=suffix == ".csv")
        if suffix == ".csv":
            text.to_csv(path, index=False)
        else:
            text.to_json(path, orient="records", lines=True, date_format="iso", force_ascii=False)
    else:
        raise ConfigError(
            f"cannot write {path}: unknown file type {suffix!r}", hint="use .parquet, .csv or .jsonl"
        )
    return path


def read_frame(path: Path, contract: Contract) -> pd.DataFrame:
    """Read a Parquet file written by `write_frame` back into the contract's pandas dtypes."""
    return parse_frame(pq.read_table(path).to_pandas(), contract)[0]


def _formatted_dates(frame: pd.DataFrame, contract: Contract, csv: bool) -> pd.DataFrame:
    """Datetime columns as the text the contract reads back. Years below 1000 are zero-padded to four
    digits (strftime and pandas' CSV writer write year 500 as "500-03-01", which nothing reads back);
    every other value is written exactly as before. JSON's ISO dates are padded already."""
    out = frame.copy()
    for column in contract.columns:
        if column.kind is not ColumnKind.DATETIME:
            continue
        values = out[column.name]
        early = _before_year_1000(values)
        if column.format:
            text = values.dt.strftime(column.format).where(values.notna(), None)
            if early.any():
                text[early] = [format_datetime(v.to_pydatetime(), column.format) for v in values[early]]
            out[column.name] = text
        elif csv and early.any():
            text = values.astype(str).str.replace(r"^(\d{1,3})-", lambda m: f"{int(m[1]):04d}-", regex=True)
            out[column.name] = text.where(values.notna(), None)
    return out


def _before_year_1000(values: pd.Series) -> pd.Series:
    if not pd.api.types.is_datetime64_any_dtype(values) or values.dtype == "datetime64[ns]":  # ns: 1677 on
        return pd.Series(np.zeros(len(values), dtype=bool), index=values.index)
    return (values.dt.year < 1000).fillna(False).astype(bool)
