"""The contract: one description of a dataset that checks, generators and Parquet schemas derive from.

People write it in YAML (or start from `synthwright contract infer`); nothing downstream re-declares a
column's kind, range or categories — the GX suite, the generators' column handling and the Arrow schema
are translations of this model.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator


class ColumnKind(StrEnum):
    INTEGER = "integer"
    FLOAT = "float"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "text"
    IDENTIFIER = "identifier"


NUMERIC_KINDS = frozenset({ColumnKind.INTEGER, ColumnKind.FLOAT})
ORDERED_KINDS = NUMERIC_KINDS | {ColumnKind.DATETIME}


class PiiKind(StrEnum):
    """Personal data a generator must never copy: values are replaced by fakes of the same kind."""

    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"
    ADDRESS = "address"
    SSN = "ssn"
    CREDIT_CARD = "credit_card"
    IP_ADDRESS = "ip_address"
    POSTAL_CODE = "postal_code"


Bound = int | float | dt.datetime

RARE_MIN_ROWS = 5
"""The default k: a value held by fewer training rows is never published verbatim. Five is the floor
of the threshold MOSTLY AI's engine protects rare categories with by default (it draws one from 5–7)
and the k most often used for k-anonymity in statistical disclosure control; on Adult it pools 0.1 %
of the categorical cells (`benchmarks/rare_values_adult.py` measures the shape error it costs)."""


CODE_VALUES = 20
"""An integer column with at most this many distinct training values is a code (a region, a status):
its rare values are protected like categories, not only clipped like numbers."""


LABEL_KINDS = frozenset({ColumnKind.CATEGORICAL, ColumnKind.TEXT})
"""Kinds whose rare values are protected as labels (pooled, replaced, guarded)."""


def is_code(column: Column, values: Any) -> bool:
    """An integer column holding at most CODE_VALUES distinct values in `values` (a pandas Series)."""
    return column.kind is ColumnKind.INTEGER and values.nunique() <= CODE_VALUES


class RareValues(BaseModel):
    """How a column's rare values are kept out of published rows (a spec default, per column here).

    A category or text held by fewer than `min_rows` training rows is pooled before fitting, so no
    model learns it, and whatever a model emits that equals one is replaced on the way out: by a
    frequent value of the column drawn by its training frequency (`frequent`), or by `placeholder`.
    Numeric columns are clipped to the `min_rows`-th smallest and largest training values, so no
    single extreme (a top salary, an oldest patient) is published either. `min_rows: 1` switches
    the protection off: the contract then says these values may be published.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_rows: int = Field(default=RARE_MIN_ROWS, ge=1, description="k: fewer training rows than this is rare")
    replace_with: Literal["frequent", "placeholder"] = Field(
        default="frequent", description="what a rare value becomes: a frequent value, or `placeholder`"
    )
    placeholder: str = Field(default="(rare)", min_length=1, description="used by replace_with: placeholder")
    clip_extremes: bool = Field(default=True, description="clip numbers to the k-th smallest/largest value")

    @property
    def off(self) -> bool:
        return self.min_rows <= 1


class Column(BaseModel):
    """One column: its kind and everything a valid value must satisfy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: ColumnKind
    nullable: bool = False
    min: Bound | None = None
    max: Bound | None = None
    values: list[str] | None = Field(default=None, description="allowed categories (categorical only)")
    unique: bool = False
    pii: PiiKind | None = Field(default=None, description="personal data kind (text columns only)")
    pii_action: Literal["fake", "drop"] = Field(
        default="fake",
        description="what is published instead of the real values: generated fakes of the same kind, "
        "or nothing (the column is left out of published tables)",
    )
    format: str | None = Field(default=None, description="strftime format (datetime only)")
    id_type: Literal["integer", "string"] | None = Field(default=None, description="identifier only")
    rare: RareValues | None = Field(
        default=None, description="rare-value protection for this column; null: the run's default"
    )
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bounds_in_column_format(cls, data: Any) -> Any:
        """Datetime bounds are written in the column's own format (e.g. 31/12/2024); read them so."""
        if isinstance(data, dict) and data.get("kind") == ColumnKind.DATETIME and data.get("format"):
            data = dict(data)
            for key in ("min", "max"):
                if isinstance(data.get(key), str):
                    with contextlib.suppress(ValueError):
                        data[key] = dt.datetime.strptime(data[key], data["format"])
        return data

    @field_validator("min", "max", mode="before")
    @classmethod
    def _dates_are_datetimes(cls, value: Any) -> Any:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)
        if isinstance(value, bool):
            raise ValueError("a bound must be a number or a date, not true/false")
        return value

    @field_validator("values")
    @classmethod
    def _values_distinct(cls, values: list[str] | None) -> list[str] | None:
        if values is not None:
            if not values:
                raise ValueError("an empty category list allows nothing; omit `values` for an open set")
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"categories listed twice: {duplicates}")
        return values

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Column:
        kind = self.kind
        if (self.min is not None or self.max is not None) and kind not in ORDERED_KINDS:
            raise ValueError(f"min/max apply to integer, float and datetime columns, not {kind}")
        for bound in (self.min, self.max):
            if bound is None:
                continue
            if kind is ColumnKind.DATETIME and not isinstance(bound, dt.datetime):
                raise ValueError(f"a datetime column's min/max must be dates, got {bound!r}")
            if kind in NUMERIC_KINDS and isinstance(bound, dt.datetime):
                article = "an" if kind is ColumnKind.INTEGER else "a"
                raise ValueError(f"{article} {kind} column's min/max must be numbers, got {bound!r}")
            if isinstance(bound, float) and not math.isfinite(bound):
                raise ValueError(f"min/max must be finite numbers, got {bound!r}")
            if kind is ColumnKind.INTEGER and isinstance(bound, float) and not bound.is_integer():
                raise ValueError(f"an integer column's min/max must be whole numbers, got {bound!r}")
        if self.min is not None and self.max is not None and self.min > self.max:  # type: ignore[operator]
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.values is not None and kind is not ColumnKind.CATEGORICAL:
            raise ValueError(f"`values` applies to categorical columns, not {kind}")
        if self.pii is not None and kind is not ColumnKind.TEXT:
            raise ValueError(f"`pii` applies to text columns (they are replaced by fakes), not {kind}")
        if self.pii_action != "fake" and self.pii is None:
            raise ValueError("`pii_action` applies to personal-data columns: set `pii` too")
        if self.format is not None and kind is not ColumnKind.DATETIME:
            raise ValueError(f"`format` applies to datetime columns, not {kind}")
        if self.format is not None:  # a format that cannot read back what it writes reads nothing
            sample = dt.datetime(2001, 2, 3, 4, 5, 6)
            try:
                dt.datetime.strptime(sample.strftime(self.format), self.format)
            except ValueError as exc:
                raise ValueError(
                    f"column {self.name!r}: format {self.format!r} is not a usable strftime format "
                    f"({exc}); e.g. '%Y-%m-%d'"
                ) from None
        if self.id_type is not None and kind is not ColumnKind.IDENTIFIER:
            raise ValueError(f"`id_type` applies to identifier columns, not {kind}")
        return self

    @property
    def is_date_only(self) -> bool:
        """A datetime column whose format carries no time of day (published as a Parquet date)."""
        return (
            self.kind is ColumnKind.DATETIME
            and self.format is not None
            and not re.search(r"%[HIMSfpXcT]", self.format)
        )

    @property
    def integer_valued(self) -> bool:
        return self.kind is ColumnKind.INTEGER or (
            self.kind is ColumnKind.IDENTIFIER and self.id_type == "integer"
        )


_RULE = re.compile(r"^\s*(?P<left>.+?)\s+(?P<op><=|<|>=|>)\s+(?P<right>.+?)\s*$")


class Rule(BaseModel):
    """A cross-column rule `left <= right` or `left < right` over two ordered columns of one family.

    Written in YAML as the string "start_date <= end_date" (spaces around the operator); `>=` and `>`
    are accepted and stored with the sides swapped, so code only deals with `<=` and `<`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    left: str
    op: Literal["<=", "<"]
    right: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _RULE.match(value)
            if not match:
                raise ValueError(
                    f"cannot read rule {value!r}: write it as 'column_a <= column_b' "
                    "(operators <=, <, >=, >, with spaces around them)"
                )
            value = match.groupdict()
        if isinstance(value, dict) and value.get("op") in (">=", ">"):
            value = {"left": value["right"], "op": value["op"].replace(">", "<"), "right": value["left"]}
        return value

    @model_serializer
    def _as_text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


class RowBounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> RowBounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"rows.min ({self.min}) is greater than rows.max ({self.max})")
        return self


class DriftThresholds(BaseModel):
    """How far data may move from a baseline before `synthwright check --baseline` fails, in percent:
    100 × (1 − SDMetrics score), the scorecard's shape and trend errors, the baseline as the real side.

    Chosen on Adult (`benchmarks/drift_adult.py`: two random halves, three seeds). Undrifted halves of
    2,000 rows differ by at most 2.7 % in shape, 8.3 % in trend and 5.9 % in any one column (full halves:
    0.8, 2.1, 1.9). One deliberate change (ages + 15, hours + 10, the share of women or of `>50K`
    doubled) moves its own column by 23.5–59 %, but the overall shape error only to 3.3–9.2 %: the
    other columns dilute it, and a shift leaves pair trends as they were. So the per-column bound is
    the one that catches a drifted column, with room on both sides; the overall bounds, about 4× and
    2× the noise at 2,000 rows, catch moderate drift spread over many columns. At 500 rows undrifted
    data reaches 15 % trend error: small batches need a higher `trend_error_max`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape_error_max: float = Field(default=10.0, ge=0, le=100, description="overall column-shape error")
    trend_error_max: float = Field(default=15.0, ge=0, le=100, description="overall column-pair-trend error")
    column_shape_error_max: float | None = Field(
        default=20.0, ge=0, le=100, description="any one column's shape error; null: no per-column check"
    )


class Contract(BaseModel):
    """A dataset's columns, key, row-count bounds, cross-column rules and drift thresholds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    dataset: str | None = None
    description: str | None = None
    primary_key: str | None = None
    rows: RowBounds = RowBounds()
    columns: list[Column] = Field(min_length=1)
    rules: list[Rule] = []
    drift: DriftThresholds | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        names = [c.name for c in self.columns]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"columns declared more than once: {repeated}")
        by_name = {c.name: c for c in self.columns}
        if self.primary_key is not None:
            key = by_name.get(self.primary_key)
            if key is None:
                raise ValueError(f"primary_key {self.primary_key!r} is not one of the columns")
            if key.nullable:
                raise ValueError(f"primary key column {key.name!r} cannot be nullable")
        for rule in self.rules:
            for side in (rule.left, rule.right):
                if side not in by_name:
                    raise ValueError(f"rule '{rule}' names {side!r}, which is not a column")
            left, right = by_name[rule.left], by_name[rule.right]
            if left.kind not in ORDERED_KINDS or right.kind not in ORDERED_KINDS:
                raise ValueError(f"rule '{rule}' needs integer, float or datetime columns")
            if (left.kind is ColumnKind.DATETIME) != (right.kind is ColumnKind.DATETIME):
                raise ValueError(f"rule '{rule}' compares a datetime with a number")
            if rule.left == rule.right:
                raise ValueError(f"rule '{rule}' compares a column with itself")
        return self

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def is_unique(self, column: Column) -> bool:
        """Unique values are required: declared so, or the primary key."""
        return column.unique or column.name == self.primary_key
