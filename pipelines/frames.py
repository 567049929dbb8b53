"""Contract-typed frames to and from files: Parquet between pipeline steps, any format for users."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from synthwright.data_contracts.arrow import to_arrow
from synthwright.data_contracts.dtypes import parse_frame
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
        text = _formatted_dates(frame, contract)
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


def _formatted_dates(frame: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    out = frame.copy()
    for column in contract.columns:
        if column.kind is ColumnKind.DATETIME and column.format:
            values = out[column.name]
            out[column.name] = values.dt.strftime(column.format).where(values.notna(), None)
    return out
