"""Check a table against its contract with Great Expectations, and say exactly what failed.

The same suite (built from the contract by `synthwright.data_contracts.gx_suite`) checks real input before
fitting and synthetic output before publishing. Values that could not even be parsed as their column's kind
(found by ingest) join the report as failed `parse` checks, so one run lists every problem at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from synthwright.data_contracts.gx_suite import build_expectations
from synthwright.data_contracts.model import Contract
from synthwright.errors import SynthwrightError, UserInputError
from synthwright.text import EXCERPT_CHARS, excerpt, excerpt_list, shorten

MAX_EXAMPLES = 5
EXAMPLE_CHARS = 40
"""Characters of each example value shown in a message (the JSON report keeps the values whole)."""


@dataclass(frozen=True)
class ParseFailure:
    """Values of one column that could not be read as the column's kind."""

    column: str
    kind: str
    count: int
    examples: list[Any]


@dataclass(frozen=True)
class CheckResult:
    """One expectation's verdict: what was checked, where, and what broke it."""

    check: str
    column: str | None
    passed: bool
    message: str
    unexpected_count: int | None = None
    examples: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class ContractReport:
    source: str
    rows: int
    results: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def violations(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        """A few lines for a terminal or a log."""
        if self.passed:
            return f"{self.source}: {self.rows} rows pass all {len(self.results)} contract checks"
        lines = [f"{self.source}: {len(self.violations)} of {len(self.results)} contract checks failed:"]
        lines += [f"  - {v.message}" for v in self.violations]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": self.rows,
            "passed": self.passed,
            "checks": len(self.results),
            "violations": [_json_safe(asdict(v)) for v in self.violations],
        }

    def to_junit(self) -> str:
        """JUnit XML: one test case per check, so CI systems list each failure by name."""
        suite = ElementTree.Element(
            "testsuite",
            name=f"contract:{self.source}",
            tests=str(len(self.results)),
            failures=str(len(self.violations)),
            errors="0",
        )
        for result in self.results:
            case = ElementTree.SubElement(
                suite, "testcase", classname=f"contract.{result.column or 'table'}", name=result.check
            )
            if not result.passed:
                failure = ElementTree.SubElement(case, "failure", message=result.message)
                failure.text = result.message
        ElementTree.indent(suite)
        return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def validate_contract(
    frame: pd.DataFrame,
    contract: Contract,
    *,
    source: str,
    parse_failures: Sequence[ParseFailure] = (),
) -> ContractReport:
    """Run the contract's GX suite on `frame` (already parsed to the contract's dtypes)."""
    missing = [name for name in contract.names if name not in frame.columns]
    if missing:
        raise UserInputError(
            f"{source} lacks the contract's column(s) {excerpt_list(missing)}",
            hint="read it with `ingest`, which says why",
        )
    failures = {f.column: f for f in parse_failures}
    results = [
        _parse_result(column.name, column.kind.value, failures.get(column.name))
        for column in contract.columns
    ]
    results += [_interpret(r) for r in _run_suite(frame, build_expectations(contract))]
    return ContractReport(source=source, rows=len(frame), results=results)


def _parse_result(column: str, kind: str, failure: ParseFailure | None) -> CheckResult:
    check = f"parse_as_{kind}"
    if failure is None:
        return CheckResult(check, column, True, f"column {excerpt(column)}: every value reads as {kind}")
    return CheckResult(
        check,
        column,
        False,
        f"column {excerpt(column)}: {failure.count} value(s) cannot be read as {kind}, "
        f"e.g. {_examples(failure.examples)}",
        failure.count,
        failure.examples[:MAX_EXAMPLES],
    )


def _run_suite(frame: pd.DataFrame, expectations: list[Any]) -> list[Any]:
    """Every expectation through GX, on column chunks of the frame rather than the whole of it.

    GX's pandas engine filters the whole frame and searches its column list for every metric, so one
    run over a wide table costs columns × expectations (about a minute at 1,000 columns). A chunk holds only
    the columns its expectations name; table-level expectations see the whole frame. The BASIC result
    format gives counts and examples without GX's per-expectation index lists and queries, and the
    batch is validated directly (nothing is stored in the throwaway context).
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins this logger at INFO and announces a temporary docs folder for every context.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    for order, expectation in enumerate(expectations):  # GX returns results in its own order
        expectation.meta = {**(expectation.meta or {}), "order": order}
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    name = f"synthwright-{uuid.uuid4().hex[:8]}"
    definition = (
        context.data_sources.add_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe(name)
    )
    result_format = {"result_format": "BASIC", "partial_unexpected_count": MAX_EXAMPLES}
    results: list[Any] = []
    for number, (columns, group) in enumerate(_chunks(expectations)):
        part = frame if columns is None else frame[columns]
        batch = definition.get_batch(batch_parameters={"dataframe": part})
        suite = gx.ExpectationSuite(name=f"{name}-{number}", expectations=group)
        results += batch.validate(suite, result_format=result_format).results
    return sorted(results, key=lambda r: (r.expectation_config.meta or {}).get("order", 0))


CHUNK_COLUMNS = 50
"""Columns per GX run. Wide enough that the per-run set-up is a small share, narrow enough that GX's
per-metric work on the frame stays cheap: that work grows with the frame's width, so one run over all
columns costs columns × expectations (about a quarter of GX's time at 1,000 columns, and growing)."""


def _chunks(expectations: list[Any]) -> list[tuple[list[str] | None, list[Any]]]:
    """Expectations grouped with the columns they read; None: table-level, run on the whole frame."""
    table: list[Any] = []
    chunks: list[tuple[list[str], list[Any]]] = []
    for expectation in expectations:
        names = _columns_of(expectation)
        if not names:
            table.append(expectation)
            continue
        if not chunks or len({*chunks[-1][0], *names}) > max(CHUNK_COLUMNS, len(names)):
            chunks.append(([], []))
        columns, group = chunks[-1]
        columns += [n for n in names if n not in columns]
        group.append(expectation)
    return ([(None, table)] if table else []) + list(chunks)


def _columns_of(expectation: Any) -> list[str]:
    """The columns a column or column-pair expectation reads; [] for a table-level one."""
    names = [getattr(expectation, key, None) for key in ("column", "column_A", "column_B")]
    return list(dict.fromkeys(n for n in names if n is not None))


def _interpret(result: Any) -> CheckResult:
    config = result.expectation_config
    kind, kwargs, meta = config.type, config.kwargs, config.meta or {}
    info = result.exception_info or {}
    if info.get("raised_exception"):
        raise SynthwrightError(
            f"the contract check {kind} on {excerpt(kwargs.get('column', 'the table'))} could not run: "
            f"{shorten(str(info.get('exception_message')))}",
            hint="this is a bug in synthwright's contract translation; please report it with the contract",
        )
    column = meta.get("column")
    count = result.result.get("unexpected_count")
    examples = list(result.result.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":  # GX lists (A=right, B=left)
        examples = [tuple(reversed(pair)) for pair in examples]
    check = kind.removeprefix("expect_")
    message = _describe(kind, kwargs, meta, result.result, count, examples, result.success)
    return CheckResult(check, column, bool(result.success), message, count, _json_safe(examples))


def _describe(
    kind: str,
    kwargs: Mapping[str, Any],
    meta: Mapping[str, Any],
    outcome: Mapping[str, Any],
    count: int | None,
    examples: list[Any],
    success: bool,
) -> str:
    where = f"column {excerpt(meta.get('column'))}"
    rule = f"rule {excerpt(meta.get('rule'), 2 * EXCERPT_CHARS)}"
    e_g = f", e.g. {_examples(examples)}" if examples else ""
    if kind == "expect_table_columns_to_match_ordered_list":
        return _column_list_message(list(outcome.get("observed_value") or []), list(kwargs["column_list"]))
    if kind == "expect_table_row_count_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return f"table has {outcome.get('observed_value')} rows; the contract allows {_interval(low, high)}"
    if success:
        return f"{rule if meta.get('rule') else where}: {kind.removeprefix('expect_')}"
    if kind == "expect_column_values_to_not_be_null":
        return f"{where}: {count} null value(s), but the column is not nullable"
    if kind == "expect_column_values_to_be_between":
        interval = _interval(kwargs.get("min_value"), kwargs.get("max_value"))
        return f"{where}: {count} value(s) outside {interval}{e_g}"
    if kind == "expect_column_values_to_be_in_set":
        allowed = kwargs["value_set"]
        return f"{where}: {count} value(s) not among the allowed categories {excerpt_list(allowed)}{e_g}"
    if kind == "expect_column_values_to_be_unique":
        return f"{where}: {count} value(s) are duplicated, but the column must be unique{e_g}"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        return f"{rule}: {count} row(s) break it{e_g}"
    return f"{where}: {kind} failed ({count} unexpected){e_g}"


def _column_list_message(observed: list[Any], expected: list[Any]) -> str:
    """What differs between the table's columns and the contract's list, not both lists whole (a wide
    table's would be thousands of names on one line)."""
    if observed == expected:
        return f"the table's {len(observed)} columns are the contract's, in its order"
    known, present = set(expected), set(observed)
    extra = [name for name in observed if name not in known]
    missing = [name for name in expected if name not in present]
    if extra or missing:
        parts = [f"not in the contract: {excerpt_list(extra)}"] if extra else []
        parts += [f"missing: {excerpt_list(missing)}"] if missing else []
        return f"columns differ from the contract's list ({'; '.join(parts)})"
    pairs = enumerate(zip(observed, expected, strict=False))
    position = next((i for i, (got, wanted) in pairs if got != wanted), None)
    if position is None:  # the same names, some of them twice
        return f"the table has {len(observed)} columns, the contract lists {len(expected)} (a name repeats)"
    return (
        f"columns are in another order than the contract's: column {position + 1} is "
        f"{excerpt(observed[position])}, the contract lists {excerpt(expected[position])} there"
    )


def _interval(low: Any, high: Any) -> str:
    if low is None:
        return f"at most {_show(high)}"
    if high is None:
        return f"at least {_show(low)}"
    return f"[{_show(low)}, {_show(high)}]"


def _examples(values: Sequence[Any]) -> str:
    """Up to MAX_EXAMPLES values, each cut to EXAMPLE_CHARS, so five 1 MB cells still make a short line."""
    return ", ".join(_show(v, EXAMPLE_CHARS) for v in values[:MAX_EXAMPLES])


def _show(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """Strings quoted, numbers and dates bare (whole floats as integers, midnight a date), cut at `limit`."""
    if isinstance(value, list | tuple):
        return "(" + ", ".join(_show(v, limit) for v in value) + ")"
    if isinstance(value, np.datetime64 | dt.datetime):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):  # e.g. a date outside the range pandas can hold
            return str(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat(sep=" ")
    value = _json_safe(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return excerpt(value, limit) if isinstance(value, str) else shorten(str(value), limit)


def _json_safe(value: Any) -> Any:
    """Numpy/pandas scalars, timestamps and tuples as plain JSON values."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value
