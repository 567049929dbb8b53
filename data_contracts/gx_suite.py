"""The contract translated into Great Expectations 1.x expectations (built, not run: see validators).

Every expectation carries `meta = {"column": ..., "rule": ...}` so a result can be traced back to the
contract line that produced it. great_expectations is imported here, lazily, because it costs seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from synthwright.data_contracts.model import ColumnKind, Contract

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation


def build_expectations(contract: Contract) -> list[Expectation]:
    """One expectation per promise the contract makes, in contract order."""
    import great_expectations.expectations as gxe

    out: list[Expectation] = [gxe.ExpectTableColumnsToMatchOrderedList(column_list=contract.names)]
    if contract.rows.min is not None or contract.rows.max is not None:
        out.append(
            gxe.ExpectTableRowCountToBeBetween(min_value=contract.rows.min, max_value=contract.rows.max)
        )
    for column in contract.columns:
        meta = {"column": column.name}
        if not column.nullable:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=column.name, meta=meta))
        if column.min is not None or column.max is not None:
            out.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column.name, min_value=column.min, max_value=column.max, meta=meta
                )
            )
        if column.kind is ColumnKind.CATEGORICAL and column.values is not None:
            out.append(
                gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=column.values, meta=meta)
            )
        if contract.is_unique(column):
            out.append(gxe.ExpectColumnValuesToBeUnique(column=column.name, meta=meta))
    for rule in contract.rules:
        out.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=rule.right,
                column_B=rule.left,
                or_equal=rule.op == "<=",
                ignore_row_if="either_value_is_missing",
                meta={"rule": str(rule)},
            )
        )
    return out
