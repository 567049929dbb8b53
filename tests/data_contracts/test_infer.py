"""Contract inference: each decision from small frames built here, and the Adult file end to end."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.dtypes import parse_column
from synthwright.data_contracts.infer import MAX_CATEGORIES, infer_contract, pii_by_name
from synthwright.data_contracts.model import Column, ColumnKind, Contract, PiiKind
from synthwright.pipelines.ingest import DEFAULT_NA_VALUES, ReadOptions, ingest


def infer_one(values: object, name: str = "col") -> Column:
    return infer_contract(pd.DataFrame({name: values})).column(name)


def _luhn_complete(prefix: str) -> str:
    """`prefix` plus the check digit that makes it pass the Luhn test."""
    for check in "0123456789":
        digits = [int(ch) for ch in prefix + check]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return prefix + check
    raise AssertionError("unreachable")


def _grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


# --- numbers -------------------------------------------------------------------------------------------


def test_whole_number_strings_are_integer_with_range() -> None:
    column = infer_one(["3", "-7", "12", "3"])
    assert (column.kind, column.min, column.max, column.nullable) == (ColumnKind.INTEGER, -7, 12, False)
    assert isinstance(column.min, int)


def test_fractional_strings_are_float_with_range() -> None:
    column = infer_one(["1.5", "2", "-0.25"])
    assert (column.kind, column.min, column.max) == (ColumnKind.FLOAT, -0.25, 2.0)


def test_integral_floats_become_integer() -> None:
    assert infer_one(["1.0", "2.0", "40.0"]).kind is ColumnKind.INTEGER
    typed = infer_one(np.array([1.0, 2.0, np.nan, 7.0]))
    assert (typed.kind, typed.min, typed.max, typed.nullable) == (ColumnKind.INTEGER, 1, 7, True)


def test_typed_numbers() -> None:
    assert infer_one(np.array([5, 1, 9], dtype="int64")).kind is ColumnKind.INTEGER
    column = infer_one(np.array([0.5, 1.25, 3.0]))
    assert (column.kind, column.min, column.max) == (ColumnKind.FLOAT, 0.5, 3.0)
    assert infer_one(pd.array([1, None, 3], dtype="Int64")).nullable


def test_leading_zero_codes_stay_strings() -> None:
    column = infer_one(["01234", "02134", "01234", "90210"] * 5, name="branch")
    assert column.kind is ColumnKind.CATEGORICAL
    assert column.values == ["01234", "02134", "90210"]


def test_zero_and_decimals_below_one_are_still_numbers() -> None:
    column = infer_one(["0", "0.5", "10"])
    assert column.kind is ColumnKind.FLOAT


def test_non_finite_strings_are_not_numbers() -> None:
    assert infer_one(["1", "inf", "2"]).kind is ColumnKind.CATEGORICAL


# --- booleans ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        ["true", "false", "true"],
        ["True", "FALSE", "true"],
        ["true", "no", "yes", "false"],  # other tokens ride along with true/false
        [True, False, True],
        np.array([True, False]),
        pd.array([True, None, False], dtype="boolean"),
        [True, None, False],  # object dtype with a gap
    ],
)
def test_booleans(values: object) -> None:
    assert infer_one(values).kind is ColumnKind.BOOLEAN


def test_yes_no_alone_is_categorical() -> None:
    column = infer_one(["yes", "no", "yes"] * 5)
    assert (column.kind, column.values) == (ColumnKind.CATEGORICAL, ["no", "yes"])


def test_typed_booleans_are_not_pii_even_with_a_pii_name() -> None:
    assert infer_one([True, False], name="email").kind is ColumnKind.BOOLEAN


# --- datetimes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fmt", "low", "high"),
    [
        (
            ["2024-03-05", "2023-12-31", "2024-01-15"],
            "%Y-%m-%d",
            dt.datetime(2023, 12, 31),
            dt.datetime(2024, 3, 5),
        ),
        (
            ["2024-03-05 10:00:00", "2024-03-05 09:30:15"],
            "%Y-%m-%d %H:%M:%S",
            dt.datetime(2024, 3, 5, 9, 30, 15),
            dt.datetime(2024, 3, 5, 10),
        ),
        (["2024-03-05T10:00:00", "2024-03-06T00:00:01"], "%Y-%m-%dT%H:%M:%S", None, None),
        (["2024/03/05", "2024/01/31"], "%Y/%m/%d", dt.datetime(2024, 1, 31), dt.datetime(2024, 3, 5)),
        (["03/05/2024", "12/31/2023"], "%m/%d/%Y", dt.datetime(2023, 12, 31), dt.datetime(2024, 3, 5)),
        (["31/12/2023", "05/03/2024"], "%d/%m/%Y", dt.datetime(2023, 12, 31), dt.datetime(2024, 3, 5)),
        (["31.12.2023", "05.03.2024"], "%d.%m.%Y", dt.datetime(2023, 12, 31), dt.datetime(2024, 3, 5)),
    ],
)
def test_datetime_strings_record_format_and_range(
    values: list[str], fmt: str, low: dt.datetime | None, high: dt.datetime | None
) -> None:
    column = infer_one(values, name="when")
    assert column.kind is ColumnKind.DATETIME
    assert column.format == fmt
    if low is not None:
        assert (column.min, column.max) == (low, high)
    assert parse_column(pd.Series(values), column).bad_count == 0


def test_datetime_with_gaps_is_nullable() -> None:
    column = infer_one(["2024-01-01", None, "2024-02-01"])
    assert (column.kind, column.nullable) == (ColumnKind.DATETIME, True)


def test_typed_datetimes() -> None:
    dates = infer_one(pd.to_datetime(pd.Series(["2024-01-02", "2024-05-06"])))
    assert (dates.kind, dates.format, dates.min) == (ColumnKind.DATETIME, "%Y-%m-%d", dt.datetime(2024, 1, 2))
    assert dates.is_date_only
    stamps = infer_one(pd.to_datetime(pd.Series(["2024-01-02 10:30:00", "2024-05-06 00:00:00"])))
    assert (stamps.kind, stamps.format) == (ColumnKind.DATETIME, None)
    assert stamps.max == dt.datetime(2024, 5, 6)


def test_mixed_date_formats_are_not_datetime() -> None:
    assert infer_one(["2024-01-05", "05/01/2024 10:00"]).kind is not ColumnKind.DATETIME


# --- categories and text -------------------------------------------------------------------------------


def test_categorical_lists_its_sorted_value_set() -> None:
    rng = np.random.default_rng(3)
    values = rng.choice(["red", "green", "blue"], 50).tolist()
    values[4] = None
    column = infer_one(values, name="colour")
    assert column.kind is ColumnKind.CATEGORICAL
    assert column.values == ["blue", "green", "red"]
    assert column.nullable


def test_more_than_max_categories_leaves_the_set_open() -> None:
    assert MAX_CATEGORIES == 100
    at_limit = [f"L{i % 100}" for i in range(500)]
    assert len(infer_one(at_limit, name="label").values or []) == 100
    over = [f"L{i % 101}" for i in range(300)]
    column = infer_one(over, name="label")
    assert column.kind is ColumnKind.CATEGORICAL
    assert column.values is None


def test_a_category_set_holding_a_rare_value_is_left_open_and_says_why() -> None:
    column = infer_one(["web"] * 10 + ["shop"] * 6 + ["Jane Q. Customer"], name="channel")
    assert column.kind is ColumnKind.CATEGORICAL and column.values is None
    assert "1 value(s) are held by fewer than 5 rows" in column.description


def test_long_wordy_strings_are_text() -> None:
    rng = random.Random(5)
    words = ["the", "parcel", "arrived", "late", "but", "intact", "and", "well", "packed"]
    comments = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(12)]
    comments[3] = comments[2]  # repeats do not make it categorical
    column = infer_one(comments, name="comment")
    assert (column.kind, column.values, column.pii) == (ColumnKind.TEXT, None, None)


def test_all_null_column_is_nullable_text() -> None:
    column = infer_one([None, None, None], name="empty")
    assert (column.kind, column.nullable) == (ColumnKind.TEXT, True)
    assert column.description and "null" in column.description


# --- identifiers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["id", "customer_id", "StudentId", "order_no", "OrderNumber", "invoice_key"])
def test_unique_whole_numbers_under_an_id_name_are_integer_identifiers(name: str) -> None:
    column = infer_one([str(i) for i in range(101, 131)], name=name)
    assert (column.kind, column.id_type, column.unique) == (ColumnKind.IDENTIFIER, "integer", True)
    assert column.min is None and column.max is None


def test_typed_unique_integers_with_an_id_name_are_identifiers() -> None:
    column = infer_one(np.arange(5, 25), name="RowId")
    assert (column.kind, column.id_type) == (ColumnKind.IDENTIFIER, "integer")


def test_unique_numbers_without_an_id_name_stay_integer() -> None:
    column = infer_one([str(i) for i in range(30)], name="age")
    assert (column.kind, column.min, column.max) == (ColumnKind.INTEGER, 0, 29)


def test_string_identifier_by_name() -> None:
    column = infer_one([f"A{i:03d}" for i in range(8)], name="ticket_code")
    assert (column.kind, column.id_type, column.unique) == (ColumnKind.IDENTIFIER, "string", True)


def test_uuid_column_is_an_identifier_whatever_its_name() -> None:
    rng = random.Random(7)
    values = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(10)]
    column = infer_one(values, name="token")
    assert (column.kind, column.id_type, column.unique) == (ColumnKind.IDENTIFIER, "string", True)


def test_repeated_values_under_an_id_name_are_not_identifiers() -> None:
    column = infer_one(["1", "2", "2", "3"], name="store_id")
    assert column.kind is ColumnKind.INTEGER


def test_many_unique_short_labels_are_identifiers() -> None:
    column = infer_one([f"x{i}" for i in range(25)], name="label")
    assert (column.kind, column.id_type) == (ColumnKind.IDENTIFIER, "string")


def test_primary_key_is_the_first_unique_non_null_identifier() -> None:
    rng = random.Random(2)
    frame = pd.DataFrame(
        {
            "name_of_pet": [rng.choice(["rex", "tom"]) for _ in range(6)],
            "batch_id": ["1", "2", None, "4", "5", "6"],  # nullable: cannot be the key
            "StudentId": ["10", "11", "12", "13", "14", "15"],
            "order_code": ["a", "b", "c", "d", "e", "f"],
        }
    )
    contract = infer_contract(frame, dataset="pets")
    assert contract.dataset == "pets"
    assert contract.primary_key == "StudentId"
    assert contract.column("order_code").kind is ColumnKind.IDENTIFIER


def test_no_identifier_no_primary_key() -> None:
    contract = infer_contract(pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"]}))
    assert contract.primary_key is None


# --- personal data -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("email", PiiKind.EMAIL),
        ("Email", PiiKind.EMAIL),
        ("customer_email", PiiKind.EMAIL),
        ("email_address", PiiKind.EMAIL),
        ("phone", PiiKind.PHONE),
        ("mobile_number", PiiKind.PHONE),
        ("PhoneNumber", PiiKind.PHONE),
        ("first_name", PiiKind.NAME),
        ("FirstName", PiiKind.NAME),
        ("surname", PiiKind.NAME),
        ("zip", PiiKind.POSTAL_CODE),
        ("postal_code", PiiKind.POSTAL_CODE),
        ("ip_address", PiiKind.IP_ADDRESS),
        ("IPAddress", PiiKind.IP_ADDRESS),
        ("ssn", PiiKind.SSN),
        ("street_address", PiiKind.ADDRESS),
        ("home_address", PiiKind.ADDRESS),
        ("card_number", PiiKind.CREDIT_CARD),
        ("username", None),
        ("company_name", None),
        ("emailed", None),
        ("zipper", None),
    ],
)
def test_pii_by_name(name: str, kind: PiiKind | None) -> None:
    assert pii_by_name(name) is kind


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("email", ["a@example.com", "b@example.com"], PiiKind.EMAIL),
        ("phone", ["555-0100", "555-0101"], PiiKind.PHONE),
        ("first_name", ["Ann", "Bob", "Ann"], PiiKind.NAME),
        ("zip", ["90210", "10001", "90210"], PiiKind.POSTAL_CODE),  # digits, but still personal
        ("ip_address", ["10.0.0.1", "10.0.0.2"], PiiKind.IP_ADDRESS),
        ("ssn", ["123-45-6789", "987-65-4321"], PiiKind.SSN),
        ("street_address", ["1 Main St", "2 High Rd"], PiiKind.ADDRESS),
    ],
)
def test_pii_by_name_makes_text(name: str, values: list[str], kind: PiiKind) -> None:
    column = infer_one(values, name=name)
    assert (column.kind, column.pii, column.values) == (ColumnKind.TEXT, kind, None)


def _pii_frame(rows: int = 20, seed: int = 11) -> pd.DataFrame:
    rng = random.Random(seed)
    cards = [_luhn_complete("4" + "".join(rng.choice("0123456789") for _ in range(14))) for _ in range(rows)]
    return pd.DataFrame(
        {
            "contact": [f"user{i}@mail.example.org" for i in range(rows)],
            "tax_ref": [
                f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
                for _ in range(rows)
            ],
            "host": [f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(rows)],
            "pan": [_grouped(c) for c in cards],
            "not_pan": [_grouped(c[:-1] + str((int(c[-1]) + 2 + i % 8) % 10)) for i, c in enumerate(cards)],
        }
    )


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("contact", PiiKind.EMAIL),
        ("tax_ref", PiiKind.SSN),
        ("host", PiiKind.IP_ADDRESS),
        ("pan", PiiKind.CREDIT_CARD),
    ],
)
def test_pii_by_value_pattern(column: str, kind: PiiKind) -> None:
    inferred = infer_contract(_pii_frame()).column(column)
    assert (inferred.kind, inferred.pii) == (ColumnKind.TEXT, kind)


def test_card_numbers_that_fail_luhn_are_not_pii() -> None:
    assert infer_contract(_pii_frame()).column("not_pan").pii is None


def test_pattern_needs_most_values_to_match() -> None:
    emails = [f"user{i}@example.com" for i in range(9)]
    assert infer_one([*emails[:8], "nobody", "n/a"], name="contact").pii is None  # 80%
    assert infer_one([*emails, "nobody"], name="contact").pii is PiiKind.EMAIL  # 90% is enough


# --- nullability and rules -----------------------------------------------------------------------------


def test_nullable_flags_follow_the_data() -> None:
    frame = pd.DataFrame({"full": ["a", "b", "a"], "gappy": ["a", np.nan, "b"], "n": [1.0, np.nan, 2.0]})
    contract = infer_contract(frame)
    assert [c.nullable for c in contract.columns] == [False, True, True]


def test_ordered_datetime_pair_becomes_a_rule() -> None:
    rng = np.random.default_rng(4)
    start = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 100, 40), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 30, 40), unit="D")
    frame = pd.DataFrame(
        {
            "finished": end.strftime("%Y-%m-%d"),
            "started": start.strftime("%Y-%m-%d"),
            "noise": (start + pd.to_timedelta(rng.integers(-50, 50, 40), unit="D")).strftime("%Y-%m-%d"),
        }
    )
    frame.loc[3, "finished"] = None  # rows with a gap do not count against the rule
    contract = infer_contract(frame)
    assert [str(r) for r in contract.rules] == ["started <= finished"]


def test_unordered_datetime_pair_gives_no_rule() -> None:
    frame = pd.DataFrame({"a": ["2024-01-01", "2024-03-01"], "b": ["2024-02-01", "2024-02-01"]})
    assert infer_contract(frame).rules == []


def test_rules_are_transitively_reduced() -> None:
    frame = pd.DataFrame(
        {
            "a": ["2024-01-01", "2024-02-01"],
            "b": ["2024-01-05", "2024-02-05"],
            "c": ["2024-01-09", "2024-02-09"],
        }
    )
    assert [str(r) for r in infer_contract(frame).rules] == ["a <= b", "b <= c"]


def test_numeric_pairs_get_no_rule() -> None:
    frame = pd.DataFrame({"low": ["1", "2", "3"], "high": ["4", "5", "6"]})
    assert infer_contract(frame).rules == []


# --- the inferred contract describes its own data ------------------------------------------------------


def _typed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = 30
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "score": rng.normal(50, 10, rows).round(3),
            "count": rng.integers(0, 9, rows).astype(float),
            "flag": rng.random(rows) < 0.5,
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, rows), unit="D"),
            "grade": rng.choice(["A", "B", "C"], rows),
        }
    )


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(_typed_frame(), id="typed"),
        pytest.param(_typed_frame().astype(str), id="strings"),
        pytest.param(_pii_frame(), id="pii"),
        pytest.param(
            pd.DataFrame({"tweet_id": ["1234567890123456789", "1234567890123456790", "1234567890123456791"]}),
            id="ids-beyond-2**53",
        ),
    ],
)
def test_inferred_contract_reads_its_own_data(frame: pd.DataFrame) -> None:
    contract = infer_contract(frame)
    for column in contract.columns:
        parsed = parse_column(frame[column.name], column)
        assert parsed.bad_count == 0, f"{column.name} ({column.kind}): {parsed.bad_count} bad values"


def test_typed_and_string_frames_infer_alike() -> None:
    typed, strings = infer_contract(_typed_frame()), infer_contract(_typed_frame().astype(str))
    assert [c.kind for c in typed.columns] == [c.kind for c in strings.columns]
    assert [c.kind for c in typed.columns] == [
        ColumnKind.IDENTIFIER,
        ColumnKind.FLOAT,
        ColumnKind.INTEGER,
        ColumnKind.BOOLEAN,
        ColumnKind.DATETIME,
        ColumnKind.CATEGORICAL,
    ]
    assert typed.primary_key == strings.primary_key == "id"


# --- the Adult file ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult_contract(adult_path: Path) -> Contract:
    ingested = ingest(adult_path, ReadOptions(na_values=[*DEFAULT_NA_VALUES, "?"]))
    assert ingested.contract_inferred
    assert ingested.parse_failures == []
    return ingested.contract


def test_adult_kinds(adult_contract: Contract) -> None:
    kinds = Counter(c.kind for c in adult_contract.columns)
    assert kinds == {ColumnKind.INTEGER: 6, ColumnKind.CATEGORICAL: 9}
    assert adult_contract.dataset == "adult"
    assert adult_contract.primary_key is None and adult_contract.rules == []


def test_adult_nullable_columns(adult_contract: Contract) -> None:
    assert [c.name for c in adult_contract.columns if c.nullable] == [
        "workclass",
        "occupation",
        "native-country",
    ]


def test_adult_values_are_stripped_and_without_the_missing_marker(adult_contract: Contract) -> None:
    workclass = adult_contract.column("workclass").values or []
    assert "Private" in workclass and "?" not in workclass
    assert all(v == v.strip() for v in workclass)
    assert adult_contract.column("income").values == ["<=50K", ">50K"]
    age = adult_contract.column("age")
    assert (age.min, age.max) == (17, 90)
