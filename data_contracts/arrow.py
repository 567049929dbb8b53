"""The contract translated into an Arrow schema, and a contract-typed frame into an Arrow table.

Published Parquet carries exactly these types (integers as int64, date-only columns as date32,
timestamps in microseconds, categories and text as strings) with nullability from the contract,
and the contract itself in the schema metadata under `synthwright.contract`.
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa

from synthwright.data_contracts.io import contract_to_dict
from synthwright.data_contracts.model import Column, ColumnKind, Contract

CONTRACT_METADATA_KEY = b"synthwright.contract"


def arrow_type(column: Column) -> pa.DataType:
    if column.integer_valued:
        return pa.int64()
    if column.kind is ColumnKind.FLOAT:
        return pa.float64()
    if column.kind is ColumnKind.BOOLEAN:
        return pa.bool_()
    if column.kind is ColumnKind.DATETIME:
        return pa.date32() if column.is_date_only else pa.timestamp("us")
    return pa.string()


def arrow_schema(contract: Contract) -> pa.Schema:
    fields = [pa.field(c.name, arrow_type(c), nullable=c.nullable) for c in contract.columns]
    metadata = {CONTRACT_METADATA_KEY: json.dumps(contract_to_dict(contract), sort_keys=True).encode()}
    return pa.schema(fields, metadata=metadata)


def to_arrow(frame: pd.DataFrame, contract: Contract) -> pa.Table:
    """A frame in the contract's pandas dtypes as an Arrow table with the contract's schema."""
    schema = arrow_schema(contract)
    arrays = []
    for column, field in zip(contract.columns, schema, strict=True):
        values = frame[column.name]
        if column.kind is ColumnKind.DATETIME:
            if not column.is_date_only:
                values = values.dt.round("us")  # Parquet keeps microseconds; drop finer digits explicitly
            # held in ns or, beyond 1677-2262, in us (data_contracts.dtypes): us holds both exactly
            values = values.astype("datetime64[us]")
            array = pa.array(values, type=pa.timestamp("us"), from_pandas=True).cast(field.type)
        else:
            array = pa.array(values, type=field.type, from_pandas=True)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)
