"""The contract translated into SDV/SDMetrics column metadata, so neither library guesses.

SDV's own detection turns state codes into fake PII and `id` columns into keys (STACK-NOTES); here the
contract decides. Identifiers and personal-data columns are never given to SDV models or metrics: the
generators make them by rule, so there is nothing to learn or to score.
"""

from __future__ import annotations

from typing import Any

from synthwright.data_contracts.model import Column, ColumnKind, Contract

TABLE = "table"

_SDTYPES = {
    ColumnKind.INTEGER: {"sdtype": "numerical", "computer_representation": "Int64"},
    ColumnKind.FLOAT: {"sdtype": "numerical", "computer_representation": "Float"},
    ColumnKind.CATEGORICAL: {"sdtype": "categorical"},
    ColumnKind.TEXT: {"sdtype": "categorical"},  # copula-family models and metrics treat free text as labels
    ColumnKind.BOOLEAN: {"sdtype": "boolean"},
    ColumnKind.DATETIME: {"sdtype": "datetime"},
}


def modelled(column: Column) -> bool:
    """Columns a model learns and a metric scores: not identifiers, not personal data."""
    return column.kind is not ColumnKind.IDENTIFIER and column.pii is None


def sdv_columns(contract: Contract) -> dict[str, dict[str, Any]]:
    """`{"column": {"sdtype": ...}}` for the modelled columns, the dict form SDV and SDMetrics share."""
    return {c.name: dict(_SDTYPES[c.kind]) for c in contract.columns if modelled(c)}


def sdv_metadata(contract: Contract) -> Any:
    """An `sdv.metadata.Metadata` for a single table named TABLE."""
    from sdv.metadata import Metadata

    return Metadata.load_from_dict(
        {"tables": {TABLE: {"columns": sdv_columns(contract)}}, "METADATA_SPEC_VERSION": "V1"}
    )
