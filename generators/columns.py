"""What a model learns and what is made by rule: the contract translated for generators.

Every generator sees only *model columns*, described by a derived *model contract*:
  - identifiers are dropped and regenerated (fresh unique keys, never real ones);
  - personal-data (`pii`) columns are dropped and refilled with fakes of the same kind (Faker, seeded);
  - a rule `a <= b` is learned as a non-negative gap: column `b` is replaced by `b - a` (in days for
    date-only columns, seconds for timestamps), so sampled rows keep the rule by construction. When the
    data does not allow it (b present where a is missing, or b already re-expressed by another rule),
    the rule is enforced afterwards by raising b to a instead.
The plan is fitted state: it is saved with the model as JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from synthwright.data_contracts.model import Column, ColumnKind, Contract, PiiKind, RareValues, Rule
from synthwright.data_contracts.sdv_metadata import modelled
from synthwright.generators import rare
from synthwright.generators.rare import ProtectedColumn
from synthwright.generators.timestamps import add_gap

_FAKER_METHODS: dict[PiiKind, str] = {
    PiiKind.EMAIL: "email",
    PiiKind.PHONE: "phone_number",
    PiiKind.NAME: "name",
    PiiKind.ADDRESS: "address",
    PiiKind.SSN: "ssn",
    PiiKind.CREDIT_CARD: "credit_card_number",
    PiiKind.IP_ADDRESS: "ipv4",
    PiiKind.POSTAL_CODE: "postcode",
}


FAKE_REDRAWS = 20
"""Times a fake equal to a real value is drawn again (a clash left after that is published as drawn)."""


class Gap(BaseModel):
    """Rule `left <= right` (or `<`) learned as the gap `right - left` in `unit`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    left: str
    right: str
    strict: bool
    unit: str  # "number", "days" or "seconds"


class ColumnPlan(BaseModel):
    """How a contract's columns become model columns and back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contract: Contract
    gaps: list[Gap] = []
    repaired_rules: list[Rule] = []
    protected: list[ProtectedColumn] = []
    """Rare-value protection of the model columns (synthwright.generators.rare)."""
    free_text: list[str] = []
    """Text columns the generator writes as text: not pooled, guarded on the way out."""
    real_personal: list[ProtectedColumn] = []
    """Salted hashes of each personal-data column's real values: a fake that happens to equal a real
    person's value (a common name) is drawn again, so not even a coincidence publishes one."""

    @classmethod
    def fit(
        cls,
        contract: Contract,
        data: pd.DataFrame,
        *,
        rare_values: RareValues | None = None,
        writes_text: bool = False,
        seed: int = 0,
        other_real: pd.DataFrame | None = None,
    ) -> ColumnPlan:
        """The plan for `contract` on training `data`; with `rare_values` (the run's default policy)
        it also fits the rare-value protection of every model column. `other_real`: more real rows of
        the same source (a holdout) whose personal-data values no fake may equal either."""
        learned = {c.name for c in contract.columns if modelled(c)}
        gaps, repaired, reexpressed = [], [], set()
        for rule in contract.rules:
            left, right = contract.column(rule.left), contract.column(rule.right)
            right_needs_left = (data[right.name].notna() & data[left.name].isna()).any()
            usable = (
                {left.name, right.name} <= learned
                and right.name not in reexpressed
                and left.name not in reexpressed
                and not right_needs_left
            )
            if usable:
                gaps.append(
                    Gap(left=left.name, right=right.name, strict=rule.op == "<", unit=_unit(left, right))
                )
                reexpressed.add(right.name)
            else:
                repaired.append(rule)
        plan = cls(contract=contract, gaps=gaps, repaired_rules=repaired)
        if rare_values is None:
            return plan
        columns = plan.model_contract.columns
        protected = rare.protect_columns(plan.encode(data), columns, rare_values, seed=seed)
        text = [c.name for c in columns if c.kind is ColumnKind.TEXT] if writes_text else []
        personal = [
            rare.every_value(c.name, _with_other(data[c.name], other_real), seed=seed + i)
            for i, c in enumerate(contract.columns)
            if c.pii is not None
        ]
        return plan.model_copy(update={"protected": protected, "free_text": text, "real_personal": personal})

    def protection(self, name: str) -> ProtectedColumn | None:
        return next((p for p in self.protected if p.name == name), None)

    @property
    def model_contract(self) -> Contract:
        """The contract the model sees: learned columns only, gap columns re-described, no rules."""
        gaps = {g.right: g for g in self.gaps}
        columns = []
        for column in self.contract.columns:
            if not modelled(column):
                continue
            gap = gaps.get(column.name)
            if gap is not None:
                left = self.contract.column(gap.left)
                kind = (
                    ColumnKind.INTEGER
                    if gap.unit == "days" or left.kind is ColumnKind.INTEGER
                    else ColumnKind.FLOAT
                )
                minimum = 1 if gap.strict and kind is ColumnKind.INTEGER else 0
                column = Column(
                    name=column.name, kind=kind, nullable=column.nullable or left.nullable, min=minimum
                )
            columns.append(rare.model_column(column, self.protection(column.name), set(self.free_text)))
        return Contract(dataset=self.contract.dataset, columns=columns)

    def encode(self, data: pd.DataFrame) -> pd.DataFrame:
        """Training data (contract dtypes) → model columns."""
        frame = data[[c.name for c in self.model_contract.columns]].copy()
        for gap in self.gaps:
            frame[gap.right] = _difference(data[gap.right], data[gap.left], gap.unit)
        return rare.encode(frame, self.protected, set(self.free_text))

    def decode(
        self, model_rows: pd.DataFrame, seed: int, conditions: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Model output → every contract column (ids and fakes made here), in contract order."""
        n = len(model_rows)
        frame = rare.decode(model_rows.reset_index(drop=True), self.protected, seed, conditions)
        for gap in self.gaps:
            frame[gap.right] = _add(frame[gap.left], frame[gap.right], gap)
        for rule in self.repaired_rules:
            left, right = self.contract.column(rule.left), self.contract.column(rule.right)
            step = _step(left, right) if rule.op == "<" else None
            frame[rule.right] = _raise_to(frame[rule.left], frame[rule.right], step)
        rng = np.random.default_rng(seed)
        for column in self.contract.columns:
            if column.kind is ColumnKind.IDENTIFIER:
                frame[column.name] = _identifiers(column, n)
            elif column.pii is not None:
                unique = self.contract.is_unique(column)
                fakes = fake_values(column, n, int(rng.integers(2**31)), unique)
                real = next((p for p in self.real_personal if p.name == column.name), None)
                for redraw in range(FAKE_REDRAWS):
                    clash = real.is_rare(fakes).to_numpy() if real is not None else np.zeros(n, bool)
                    if unique and redraw:  # a redrawn fake must not repeat another row's either
                        clash |= fakes.duplicated(keep="first").to_numpy()
                    if not clash.any():
                        break
                    again = fake_values(column, int(clash.sum()), int(rng.integers(2**31)), False)
                    fakes[clash] = again.to_numpy()
                frame[column.name] = fakes
        return frame[self.contract.names]


def _with_other(values: pd.Series, other: pd.DataFrame | None) -> pd.Series:
    if other is None or values.name not in other:
        return values
    return pd.concat([values.astype(object), other[values.name].astype(object)], ignore_index=True)


def _unit(left: Column, right: Column) -> str:
    if left.kind is not ColumnKind.DATETIME:
        return "number"
    return "days" if left.is_date_only and right.is_date_only else "seconds"


def _difference(right: pd.Series, left: pd.Series, unit: str) -> pd.Series:
    if unit == "number":
        return right - left
    right, left = _same_unit(right, left)
    seconds = (right - left).dt.total_seconds()
    return (seconds / 86400).round().astype("Int64") if unit == "days" else seconds


def _step(left: Column, right: Column) -> Any:
    """The smallest gap that keeps `left < right` true after rounding to the columns' resolution."""
    unit = _unit(left, right)
    # in seconds: a nanosecond Timedelta would drag a microsecond column (years 1-9999) into nanoseconds
    if unit == "days":
        return pd.Timedelta(days=1).as_unit("s")
    if unit == "seconds":
        return pd.Timedelta(seconds=1).as_unit("s")
    return 1 if left.kind is ColumnKind.INTEGER and right.kind is ColumnKind.INTEGER else 1e-9


def _add(left: pd.Series, gap: pd.Series, rule: Gap) -> pd.Series:
    numbers = pd.to_numeric(gap, errors="coerce").astype("float64")
    if rule.unit == "number":
        smallest = (1 if pd.api.types.is_integer_dtype(left) else 1e-9) if rule.strict else 0
        return left + numbers.clip(lower=smallest)
    if rule.unit == "days":
        return add_gap(left, numbers.round().clip(lower=1 if rule.strict else 0), "D")
    return add_gap(left, numbers.clip(lower=1 if rule.strict else 0), "s")


def _raise_to(left: pd.Series, right: pd.Series, step: Any) -> pd.Series:
    """Where `right` falls below `left + step`, lift it there (no step for `<=`)."""
    left, right = _same_unit(left, right)
    floor = left if step is None else left + step
    broken = left.notna() & right.notna() & (right < floor)
    out = right.copy()
    out[broken] = floor[broken]
    return out


def _same_unit(a: pd.Series, b: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Two datetime columns in one unit: microseconds when they differ (pandas would bring a column
    reaching outside 1677-2262 into nanoseconds and overflow). Anything else as it is."""
    if a.dtype.kind == b.dtype.kind == "M" and a.dtype != b.dtype:
        return a.astype("datetime64[us]"), b.astype("datetime64[us]")
    return a, b


def _identifiers(column: Column, n: int) -> pd.Series:
    numbers = pd.Series(np.arange(1, n + 1), dtype="Int64")
    if column.id_type == "integer":
        return numbers
    width = max(6, len(str(n)))
    return pd.Series([f"syn-{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def fake_values(column: Column, n: int, seed: int, unique: bool) -> pd.Series:
    """`n` generated values of the column's personal-data kind (Faker, seeded; distinct if `unique`)."""
    from faker import Faker

    faker = Faker("en_US")
    faker.seed_instance(seed)
    source: Any = faker.unique if unique else faker
    make = getattr(source, _FAKER_METHODS[column.pii])  # type: ignore[index]
    return pd.Series([make().replace("\n", ", ") for _ in range(n)], dtype=object)
