"""validate_contract: the contract's GX suite run on a frame, and reports people and CI can read.

Great Expectations costs seconds to import and ~0.5 s per run, so runs are shared where a test only
reads the report: one clean run, one run with every defect at once, and one run per single defect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.model import Contract
from synthwright.validators.contract import CheckResult, ContractReport, ParseFailure, validate_contract


def bounded_contract() -> Contract:
    """The mixed contract plus a date range on start_date and a minimum row count."""
    data = mixed_contract().model_dump()
    start = next(c for c in data["columns"] if c["name"] == "start_date")
    start.update(min=dt.datetime(2024, 1, 1), max=dt.datetime(2024, 12, 31))
    data["rows"] = {"min": 100}
    return Contract.model_validate(data)


def _unknown_category(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[[3, 17], "colour"] = "purple"
    return frame


def _out_of_range_number(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[5, "age"] = 120
    return frame


def _out_of_range_date(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[7, "start_date"] = pd.Timestamp("2023-06-01")  # before its min, still before end_date
    return frame


def _null_in_non_nullable(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[9, "email"] = np.nan
    return frame


def _duplicated_key(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[11, "customer_id"] = frame.loc[10, "customer_id"]
    return frame


def _broken_rule(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[13, "end_date"] = frame.loc[13, "start_date"] - pd.Timedelta(days=3)
    return frame


def _too_few_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.head(60)


# defect, what it breaks, the failing check, the column (None: table or rule), count, message pieces
DEFECTS: list[tuple[Callable[[pd.DataFrame], pd.DataFrame], str, str | None, int, list[str]]] = [
    (
        _unknown_category,
        "column_values_to_be_in_set",
        "colour",
        2,
        [
            "column 'colour'",
            "2 value(s) not among the allowed categories",
            "['blue', 'green', 'red']",
            "'purple'",
        ],
    ),
    (
        _out_of_range_number,
        "column_values_to_be_between",
        "age",
        1,
        ["column 'age'", "1 value(s) outside [18, 79]", "e.g. 120"],
    ),
    (
        _out_of_range_date,
        "column_values_to_be_between",
        "start_date",
        1,
        ["column 'start_date'", "1 value(s) outside [2024-01-01, 2024-12-31]", "e.g. 2023-06-01"],
    ),
    (
        _null_in_non_nullable,
        "column_values_to_not_be_null",
        "email",
        1,
        ["column 'email'", "1 null value(s)", "not nullable"],
    ),
    (
        _duplicated_key,
        "column_values_to_be_unique",
        "customer_id",
        2,
        ["column 'customer_id'", "2 value(s) are duplicated", "e.g. 1010, 1010"],
    ),
    (
        _broken_rule,
        "column_pair_values_a_to_be_greater_than_b",
        None,
        1,
        ["rule 'start_date <= end_date'", "1 row(s) break it", "e.g. ("],
    ),
    (
        _too_few_rows,
        "table_row_count_to_be_between",
        None,
        None,
        ["table has 60 rows", "the contract allows at least 100"],
    ),
]


@pytest.fixture(scope="module")
def clean_report() -> ContractReport:
    return validate_contract(make_mixed_frame(), bounded_contract(), source="clean.csv")


@pytest.fixture(scope="module")
def broken_report() -> ContractReport:
    """Every column-level defect at once (not the row count), plus parse failures found by ingest."""
    frame = make_mixed_frame()
    for defect, *_ in DEFECTS[:-1]:
        frame = defect(frame)
    failures = [
        ParseFailure("income", "float", 3, ["abc", "1,5", "n/a", "x", "y", "z"]),
        ParseFailure("member", "boolean", 1, ["maybe"]),
    ]
    return validate_contract(frame, bounded_contract(), source="broken.csv", parse_failures=failures)


# --- a clean frame -------------------------------------------------------------------------------------


def test_clean_frame_passes(clean_report: ContractReport) -> None:
    assert clean_report.passed, clean_report.summary()
    assert clean_report.violations == []
    assert clean_report.rows == 120 and clean_report.source == "clean.csv"
    assert (
        clean_report.summary() == f"clean.csv: 120 rows pass all {len(clean_report.results)} contract checks"
    )


def test_one_check_per_contract_promise(clean_report: ContractReport) -> None:
    checks = [(r.check, r.column) for r in clean_report.results]
    contract = bounded_contract()
    assert checks[: len(contract.columns)] == [(f"parse_as_{c.kind}", c.name) for c in contract.columns]
    expected = {
        ("table_columns_to_match_ordered_list", None),
        ("table_row_count_to_be_between", None),
        ("column_values_to_be_unique", "customer_id"),
        ("column_values_to_be_between", "age"),
        ("column_values_to_be_between", "income"),
        ("column_values_to_be_between", "start_date"),
        ("column_values_to_be_in_set", "colour"),
        ("column_pair_values_a_to_be_greater_than_b", None),
    }
    assert expected <= set(checks)
    not_null = {c for check, c in checks if check == "column_values_to_not_be_null"}
    assert not_null == {c.name for c in contract.columns if not c.nullable}
    assert len(checks) == len(set(checks))


# --- one defect, one violation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("defect", "check", "column", "count", "pieces"), DEFECTS, ids=[d[0].__name__.strip("_") for d in DEFECTS]
)
def test_each_defect_gives_one_violation(
    defect: Callable[[pd.DataFrame], pd.DataFrame],
    check: str,
    column: str | None,
    count: int | None,
    pieces: list[str],
) -> None:
    report = validate_contract(defect(make_mixed_frame()), bounded_contract(), source="one.csv")
    assert not report.passed
    assert len(report.violations) == 1, report.summary()
    violation = report.violations[0]
    assert (violation.check, violation.column, violation.unexpected_count) == (check, column, count)
    for piece in pieces:
        assert piece in violation.message
    assert f"one.csv: 1 of {len(report.results)} contract checks failed:" in report.summary()
    assert violation.message in report.summary()


def test_broken_rule_shows_left_then_right(broken_report: ContractReport) -> None:
    (rule,) = [v for v in broken_report.violations if v.check.startswith("column_pair")]
    start = make_mixed_frame().loc[13, "start_date"]
    end = start - pd.Timedelta(days=3)  # what _broken_rule wrote
    shown = f"({start.date().isoformat()}, {end.date().isoformat()})"
    assert rule.message.endswith(f"e.g. {shown}")
    assert rule.examples == [[str(start), str(end)]]


def test_all_defects_are_reported_together(broken_report: ContractReport) -> None:
    got = sorted((v.check, v.column or "") for v in broken_report.violations)
    expected = sorted(
        [(check, column or "") for _, check, column, _, _ in DEFECTS[:-1]]
        + [("parse_as_float", "income"), ("parse_as_boolean", "member")]
    )
    assert got == expected
    assert broken_report.summary().startswith(f"broken.csv: {len(expected)} of {len(broken_report.results)}")


def test_parse_failures_become_failed_parse_checks(broken_report: ContractReport) -> None:
    by_column = {r.column: r for r in broken_report.results if r.check.startswith("parse_as_")}
    income = by_column["income"]
    assert (income.check, income.passed, income.unexpected_count) == ("parse_as_float", False, 3)
    assert (
        income.message
        == "column 'income': 3 value(s) cannot be read as float, e.g. 'abc', '1,5', 'n/a', 'x', 'y'"
    )
    assert income.examples == ["abc", "1,5", "n/a", "x", "y"]  # at most five
    assert by_column["member"].check == "parse_as_boolean" and not by_column["member"].passed
    assert (
        by_column["age"].passed and by_column["age"].message == "column 'age': every value reads as integer"
    )


# --- reports for machines ------------------------------------------------------------------------------


def test_to_dict_is_json_serialisable(broken_report: ContractReport) -> None:
    data = broken_report.to_dict()
    again = json.loads(json.dumps(data, allow_nan=False))
    assert again == data
    assert (data["source"], data["rows"], data["passed"]) == ("broken.csv", 120, False)
    assert data["checks"] == len(broken_report.results)
    assert len(data["violations"]) == len(broken_report.violations)
    first: dict[str, Any] = data["violations"][0]
    assert set(first) == {"check", "column", "passed", "message", "unexpected_count", "examples"}


def test_to_dict_of_a_clean_report(clean_report: ContractReport) -> None:
    data = json.loads(json.dumps(clean_report.to_dict()))
    assert data["passed"] is True and data["violations"] == []


def test_to_junit_is_valid_xml(broken_report: ContractReport) -> None:
    text = broken_report.to_junit()
    assert text.startswith("<?xml")
    suite = ElementTree.fromstring(text.encode())
    assert suite.tag == "testsuite"
    assert suite.get("name") == "contract:broken.csv"
    cases = suite.findall("testcase")
    assert len(cases) == len(broken_report.results) == int(suite.get("tests"))
    failures = suite.findall("testcase/failure")
    assert len(failures) == len(broken_report.violations) == int(suite.get("failures"))
    assert suite.get("errors") == "0"
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert ("contract.colour", "column_values_to_be_in_set") in failed
    assert ("contract.table", "column_pair_values_a_to_be_greater_than_b") in failed
    assert ("contract.income", "parse_as_float") in failed
    messages = {f.get("message") for f in failures}
    assert messages == {v.message for v in broken_report.violations}
    assert all(f.text == f.get("message") for f in failures)


def test_to_junit_of_a_clean_report(clean_report: ContractReport) -> None:
    suite = ElementTree.fromstring(clean_report.to_junit().encode())
    assert suite.get("failures") == "0"
    assert suite.findall("testcase/failure") == []
    assert len(suite.findall("testcase")) == len(clean_report.results)


def test_report_without_violations_built_by_hand() -> None:
    """The report's own logic, without GX: passed is all-passed, summary counts the failures."""
    results = [
        CheckResult("a", "x", True, "fine"),
        CheckResult(
            "b", "y", False, "column 'y': broken <here> & \"there\"", 2, [np.int64(1), np.float64(np.nan)]
        ),
    ]
    report = ContractReport(source="hand", rows=3, results=results)
    assert not report.passed and report.violations == [results[1]]
    assert (
        report.summary() == "hand: 1 of 2 contract checks failed:\n  - column 'y': broken <here> & \"there\""
    )
    assert json.loads(json.dumps(report.to_dict()))["violations"][0]["examples"] == [1, None]
    failure = ElementTree.fromstring(report.to_junit().encode()).find("testcase/failure")
    assert failure is not None and failure.get("message") == results[1].message
