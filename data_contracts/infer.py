"""A sensible first contract from data: a starting point for a person to review, not a verdict.

Decisions, in order, for each column (strings as read from CSV, or typed values from Parquet/JSON):
  1. a name that says personal data (email, phone, name, address, …) → text with `pii`;
  2. true/false values → boolean; dates in one format → datetime (with the format; years 1 to 9999,
     not only pandas' 1677–2262; ISO 8601 times with UTC offsets, even mixed ones, are read as UTC);
     numbers → integer when every value is whole, else float (leading zeros keep a code a string);
     numbers no column can hold (beyond float64, or whole numbers beyond int64) are refused with a
     SourceError naming the column, rather than guessed as labels or rounded together;
  3. a value pattern that says personal data (emails, SSNs, card numbers, IPs, phones) → text with `pii`;
  4. unique values under an id-like name, or UUIDs → identifier (the first unique one is the key);
  5. people's names by their values (two to four capitalised words, most starting with a common first
     name or ending with a common surname: Faker's en_US lists) → text with `pii: name`;
  6. free text → text: wordy values (long, or several words each) that mostly differ from row to row;
     everything else, wordy labels included ("Bachelor of Science"), → categorical (its category set
     listed when there are at most MAX_CATEGORIES and none is held by fewer than RARE_MIN_ROWS rows:
     the contract is published with every version, and a listed rare value would be published too).
     Generators other than the llm refuse a text column rather than publish its values as labels.
Observed ranges become min/max, and a datetime pair that is ordered in every row becomes a rule.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from synthwright.data_contracts.dtypes import (
    FALSE_TOKENS,
    INT64_MAX,
    INTEGER_LITERAL,
    TRUE_TOKENS,
    parse_column,
    wide_datetime,
)
from synthwright.data_contracts.model import RARE_MIN_ROWS, Column, ColumnKind, Contract, PiiKind, Rule
from synthwright.errors import SourceError

MAX_CATEGORIES = 100
"""More distinct labels than this and the category set is left open (not listed)."""

DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
)
_ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$")
"""An ISO 8601 time with a UTC offset: read (as UTC) without a strftime format, which cannot write one
back from a timezone-naive value."""

_PII_NAMES: dict[PiiKind, re.Pattern[str]] = {
    PiiKind.EMAIL: re.compile(r"^(e_?mail|.*_e_?mail|e_?mail_.*)(_address)?$"),
    PiiKind.PHONE: re.compile(r"^(.*_)?(phone|mobile|cell|telephone|fax)(_.*)?$"),
    PiiKind.NAME: re.compile(
        r"^(name|surname|firstname|lastname|fullname|"
        r"(first|last|full|given|family|middle|customer|person|patient|employee|contact)_name)$"
    ),
    PiiKind.SSN: re.compile(r"^(.*_)?(ssn|social_security(_number)?)(_.*)?$"),
    PiiKind.CREDIT_CARD: re.compile(r"^(.*_)?(credit_card|card_number|cc_number|ccnum)(_.*)?$"),
    PiiKind.IP_ADDRESS: re.compile(r"^(ip|ip_?address|ipv4|ipv6|client_ip|remote_ip)$"),
    PiiKind.POSTAL_CODE: re.compile(r"^(zip|zipcode|zip_code|postcode|post_code|postal_code)$"),
    PiiKind.ADDRESS: re.compile(r"^(.*_)?(address|street)(_.*)?$"),
}

_PII_PATTERNS: dict[PiiKind, re.Pattern[str]] = {
    PiiKind.EMAIL: re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    PiiKind.SSN: re.compile(r"^\d{3}-\d{2}-\d{4}$"),
    PiiKind.IP_ADDRESS: re.compile(r"^(\d{1,3}\.){3}\d{1,3}$"),
    PiiKind.CREDIT_CARD: re.compile(r"^(\d{4}[ -]?){3}\d{1,7}$"),
    PiiKind.PHONE: re.compile(r"^\+?\(?\d{1,4}\)?([ .-]?\(?\d{2,4}\)?){2,5}$"),
}
PII_PATTERN_SHARE = 0.9
"""A column is personal data by pattern when this share of its values match."""
NAME_SHARE = 0.6
"""A column holds people's names when this share of its distinct values look like one."""
TEXT_DISTINCT_SHARE = 0.5
"""Wordy values are free text when at least this share of the rows hold a value of their own;
fewer distinct values are labels repeated (categorical)."""
_NAME_WORD = re.compile(r"^[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*\.?$")

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|code|number|no)$")
"""Matched against the snake_case form of a name: `id`, `student_id`, `StudentId`, `order_no`."""


def infer_contract(frame: pd.DataFrame, dataset: str | None = None, source: str | None = None) -> Contract:
    """Infer a contract from `frame`; see the module docstring for the decisions. `source` (the file)
    is named in the error when a column holds numbers that no column kind can hold."""
    columns = [_infer_column(str(name), frame[name], source) for name in frame.columns]
    key = next(
        (c.name for c in columns if c.kind is ColumnKind.IDENTIFIER and c.unique and not c.nullable),
        None,
    )
    parsed = {c.name: parse_column(frame[c.name], c).values for c in columns if c.kind is ColumnKind.DATETIME}
    return Contract(
        dataset=dataset,
        primary_key=key,
        columns=columns,
        rules=list(_ordered_pairs(parsed)),
    )


def _normalised(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", snake.lower()).strip("_")


def pii_by_name(name: str) -> PiiKind | None:
    normal = _normalised(name)
    return next((kind for kind, pattern in _PII_NAMES.items() if pattern.match(normal)), None)


def _pii_by_pattern(text: pd.Series) -> PiiKind | None:
    text = text.drop_duplicates()  # shares of distinct values: fast, and what a pattern is about
    for kind, pattern in _PII_PATTERNS.items():
        share = text.map(lambda v, p=pattern: bool(p.match(v))).mean()
        if share >= PII_PATTERN_SHARE:
            if kind is PiiKind.CREDIT_CARD and text.map(_luhn_ok).mean() < PII_PATTERN_SHARE:
                continue
            if kind is PiiKind.PHONE and text.str.count(r"\d").between(7, 15).mean() < PII_PATTERN_SHARE:
                continue
            return kind
    return None


def _luhn_ok(value: str) -> bool:
    digits = [int(ch) for ch in value if ch.isdigit()]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        if i % 2:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return total % 10 == 0


def _infer_column(name: str, series: pd.Series, source: str | None = None) -> Column:
    present = series.dropna()
    nullable = bool(series.isna().any())
    base = {"name": name, "nullable": nullable}
    if present.empty:
        return Column(**base, kind=ColumnKind.TEXT, description="every value was null when inferred")

    pii = pii_by_name(name)
    typed_bool = pd.api.types.is_bool_dtype(series)
    typed_datetime = pd.api.types.is_datetime64_any_dtype(series)
    if pii is not None and not typed_bool and not typed_datetime:
        return Column(**base, kind=ColumnKind.TEXT, pii=pii)

    if typed_bool:
        return Column(**base, kind=ColumnKind.BOOLEAN)
    if typed_datetime:
        return _datetime_column(base, series, fmt=None, typed=True)
    if pd.api.types.is_numeric_dtype(series):
        return _numeric_column(base, name, series, source)

    text = present.astype(str)
    lowered = set(text.str.strip().str.lower().unique())
    if lowered <= {"true", "false"} or (
        lowered <= TRUE_TOKENS | FALSE_TOKENS and lowered & {"true", "false"}
    ):
        return Column(**base, kind=ColumnKind.BOOLEAN)
    numbers = pd.to_numeric(text, errors="coerce")
    unread = text[numbers.isna()]  # pandas reads 1e400 as nothing at all, Python as inf
    if len(unread) and all(_overflows(v) for v in unread) and not text.str.match(r"^[+-]?0\d").any():
        raise _unholdable(source, name, unread.iloc[0], "numbers too large for a 64-bit float")
    if numbers.notna().all() and np.isfinite(numbers).all() and not text.str.match(r"^[+-]?0\d").any():
        return _numeric_column(base, name, series, source)
    fmt = _datetime_format(text)
    if fmt is not None:
        return _datetime_column(base, series, fmt)
    offsets = bool(_ISO_WITH_OFFSET.match(text.iloc[0])) and text.str.match(_ISO_WITH_OFFSET).all()
    if offsets and parse_column(text, _probe(name, ColumnKind.DATETIME)).bad_count == 0:
        return _datetime_column(base, series, fmt=None)

    pii = _pii_by_pattern(text) or (PiiKind.NAME if _looks_like_names(text) else None)
    if pii is not None:
        return Column(**base, kind=ColumnKind.TEXT, pii=pii)
    return _string_column(base, name, text)


def _looks_like_names(text: pd.Series) -> bool:
    """Two to four capitalised words, the first a common first name or the last a common surname."""
    first, last = _name_lists()
    distinct = text.drop_duplicates()

    def is_name(value: str) -> bool:
        words = value.split()
        return (
            2 <= len(words) <= 4
            and all(_NAME_WORD.match(w) for w in words)
            and (words[0] in first or words[-1] in last)
        )

    return bool(distinct.map(is_name).mean() >= NAME_SHARE)


@functools.cache
def _name_lists() -> tuple[frozenset[str], frozenset[str]]:
    from faker.providers.person.en_US import Provider

    return frozenset(Provider.first_names), frozenset(Provider.last_names)


def _numeric_column(base: dict, name: str, series: pd.Series, source: str | None = None) -> Column:
    numbers = pd.to_numeric(series, errors="coerce").dropna()
    whole = bool((numbers % 1 == 0).all())
    keys = numbers  # what makes two values equal: past 2**53 floats merge, so written-out ones as ints
    if pd.api.types.is_integer_dtype(series):
        exact, beyond = True, None  # int64 (or uint64 within it: the reader makes larger ones objects)
    else:  # floats lose digits past 2**53; a written-out whole number is read exactly up to int64
        text = series.dropna().astype(str)
        literal = text.str.match(INTEGER_LITERAL)
        beyond = next((v for v in text[literal & (text.str.len() >= 19)] if abs(int(v)) > INT64_MAX), None)
        exact = beyond is None and bool(((numbers.abs() < 2**53).to_numpy() | literal.to_numpy()).all())
        if literal.all():
            keys = text.map(int)
    unique = keys.is_unique and len(keys) > 1
    id_like = whole and unique and bool(_ID_NAME.search(_normalised(name)))
    if beyond is not None and not id_like:
        raise _unholdable(source, name, beyond, "whole numbers beyond int64")
    if id_like:
        if not exact:
            return Column(**base, kind=ColumnKind.IDENTIFIER, id_type="string", unique=True)
        return Column(**base, kind=ColumnKind.IDENTIFIER, id_type="integer", unique=True)
    if whole and exact:
        exactly = parse_column(series, _probe(name, ColumnKind.INTEGER)).values
        low, high = int(exactly.min()), int(exactly.max())
        if max(abs(low), abs(high)) >= 2**53:  # the check compares bounds as floats: they would misfire
            return Column(
                **base,
                kind=ColumnKind.INTEGER,
                description="min/max left out: values beyond 2**53 cannot be range-checked exactly",
            )
        return Column(**base, kind=ColumnKind.INTEGER, min=low, max=high)
    return Column(**base, kind=ColumnKind.FLOAT, min=float(numbers.min()), max=float(numbers.max()))


def _overflows(text: str) -> bool:
    """A number written out that float64 cannot hold (1e400), not an infinity spelled as one."""
    try:
        return math.isinf(float(text)) and "inf" not in text.lower()
    except ValueError:
        return False


def _probe(name: str, kind: ColumnKind, fmt: str | None = None) -> Column:
    """A bare column of `kind`, to parse values with."""
    return Column(name=name, kind=kind, format=fmt)


def _unholdable(source: str | None, name: str, example: object, what: str) -> SourceError:
    """A column of numbers that neither float64 nor int64 holds: guessing it as labels would publish
    them, and rounding them would merge distinct values, so say so and how to fix it."""
    where = f"{source}: " if source else ""
    return SourceError(
        f"{where}column {name!r} holds {what} (e.g. {str(example)[:40]}), which no number column can hold "
        "exactly",
        hint="if the values are codes or ids, declare the column categorical (or identifier with "
        "id_type: string) in a contract and pass it with --contract; if they are amounts, scale them "
        "(e.g. store them in a larger unit, or their logarithm) before synthesising",
    )


def _datetime_format(text: pd.Series) -> str | None:
    if not text.str.contains(r"\d").all() or not text.str.contains(r"[-/.:]").all():
        return None
    sample = pd.Series(text.unique())
    for fmt in DATETIME_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        # pandas reads 1677-2262 only; a value it missed may be a date outside (0001-01-01, 9999-12-31)
        if all(wide_datetime(v, fmt) is not None for v in sample[parsed.isna()]):
            return fmt
    return None


def _datetime_column(base: dict, series: pd.Series, fmt: str | None, typed: bool = False) -> Column:
    values = parse_column(series, _probe(base["name"], ColumnKind.DATETIME, fmt)).values.dropna()
    low, high = values.min().to_pydatetime(), values.max().to_pydatetime()
    if typed and (values == values.dt.normalize()).all():
        fmt = "%Y-%m-%d"
    if fmt is not None and low.year < 1000 and fmt.startswith("%Y-%m-%d"):
        # strftime writes year 1 as "1" (glibc), which no format reads back: ISO 8601 pads it
        fmt = None
    if fmt is not None and low.year < 1000:
        return Column(
            **base,
            kind=ColumnKind.DATETIME,
            format=fmt,
            description="min/max left out: a date before year 1000 cannot be written in this format",
        )
    return Column(**base, kind=ColumnKind.DATETIME, format=fmt, min=low, max=high)


def _string_column(base: dict, name: str, text: pd.Series) -> Column:
    distinct = text.nunique()
    unique = distinct == len(text) and len(text) > 1
    wordy = text.str.len().mean() > 30 or text.str.count(" ").mean() >= 3
    if unique and (_ID_NAME.search(_normalised(name)) or text.map(lambda v: bool(_UUID.match(v))).all()):
        return Column(**base, kind=ColumnKind.IDENTIFIER, id_type="string", unique=True)
    if wordy and distinct >= TEXT_DISTINCT_SHARE * len(text):
        return Column(**base, kind=ColumnKind.TEXT)
    if unique and len(text) >= 20:
        return Column(**base, kind=ColumnKind.IDENTIFIER, id_type="string", unique=True)
    counts = text.value_counts()
    if distinct > MAX_CATEGORIES:
        return Column(**base, kind=ColumnKind.CATEGORICAL)
    rare = int((counts < RARE_MIN_ROWS).sum())
    if rare:  # listing them would publish them: the contract travels in every manifest
        return Column(
            **base,
            kind=ColumnKind.CATEGORICAL,
            description=f"categories left open: {rare} value(s) are held by fewer than {RARE_MIN_ROWS} "
            "rows and are not listed (rare values are never published)",
        )
    return Column(**base, kind=ColumnKind.CATEGORICAL, values=sorted(counts.index))


def _ordered_pairs(parsed: dict[str, pd.Series]) -> Iterable[Rule]:
    """`a <= b` for datetime columns ordered in every row where both are present (transitively reduced)."""
    names = list(parsed)
    holds: set[tuple[str, str]] = set()
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            both = parsed[a].notna() & parsed[b].notna()
            if both.sum() == 0:
                continue
            left, right = parsed[a][both], parsed[b][both]
            if (left <= right).all():
                holds.add((a, b))
            elif (right <= left).all():
                holds.add((b, a))
    for a, b in sorted(holds, key=lambda pair: (names.index(pair[0]), names.index(pair[1]))):
        if not any((a, m) in holds and (m, b) in holds for m in names):
            yield Rule(left=a, op="<=", right=b)
