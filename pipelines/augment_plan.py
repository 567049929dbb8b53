"""How many synthetic rows of which kind an augmentation request asks for, checked before any fit.

The counts are for the published table (every real row plus the synthetic ones):

- `rows: N` adds N rows; `multiplier: m` adds round(real × (m − 1)).
- `rebalance: {income: {">50K": 0.5}}` gives the listed classes those shares of the published table and
  the other classes the rest, in their real proportions. Real rows are never dropped, so the table
  grows until the most over-represented class has its share: N = max(real count / share), and each
  class gets round(share × N) − real count synthetic rows.
- `conditions: [{income: ">50K", sex: Female, rows: 3000}]` adds each group's rows with those values.

A request that cannot be met fails here, with the reason: a value outside the contract, a generator
without conditional sampling, a group with too few real training rows to learn from
(`gates.group_rows_min`), or a group stretched beyond `gates.synthetic_per_real_max` synthetic rows per
real training row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.errors import ConfigError, UserInputError
from synthwright.generators.conditions import condition_table
from synthwright.pipelines.augment_request import AugmentRequest


@dataclass(frozen=True)
class Group:
    """Synthetic rows sharing the same conditions ({} = unconditioned)."""

    conditions: dict[str, Any]
    rows: int
    real_rows: int
    """Real rows (train and holdout) that meet the conditions."""
    training_rows: int
    """Training rows that meet them: what the generator learns this group from."""

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.conditions.items()) or "all rows"

    def to_dict(self) -> dict[str, Any]:
        return {
            "conditions": {k: _plain(v) for k, v in self.conditions.items()},
            "rows": self.rows,
            "real_rows": self.real_rows,
            "training_rows": self.training_rows,
        }


@dataclass(frozen=True)
class Plan:
    form: str
    groups: list[Group]
    real_rows: int
    training_rows: int

    @property
    def synthetic_rows(self) -> int:
        return sum(g.rows for g in self.groups)

    @property
    def conditioned(self) -> bool:
        return any(g.conditions for g in self.groups)

    def conditions_frame(self) -> pd.DataFrame | None:
        """One row of conditions per synthetic row, group after group (None when nothing is conditioned)."""
        if not self.conditioned:
            return None
        parts = [pd.DataFrame([g.conditions] * g.rows) for g in self.groups if g.rows]
        return pd.concat(parts, ignore_index=True)

    def measured_rows(self) -> list[tuple[int, int]]:
        """(start, stop) of each group's synthetic rows that join the training split when the lift is
        measured: the group's share scaled to the training split (train rows / real rows), so the
        model is measured on the mix that is published."""
        ranges, start = [], 0
        for group in self.groups:
            share = group.training_rows / group.real_rows if group.real_rows else 0.0
            ranges.append((start, start + round(group.rows * share)))
            start += group.rows
        return ranges

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "real_rows": self.real_rows,
            "training_rows": self.training_rows,
            "synthetic_rows": self.synthetic_rows,
            "groups": [g.to_dict() for g in self.groups],
        }


def plan_augmentation(
    request: AugmentRequest,
    contract: Contract,
    real: pd.DataFrame,
    train: pd.DataFrame,
    *,
    supports_conditions: bool,
    derived: set[str] = frozenset(),  # type: ignore[assignment]
) -> Plan:
    """The groups of synthetic rows to make; raises ConfigError when the request cannot be met."""
    if request.synthetic_column in contract.names:
        raise ConfigError(
            f"synthetic_column {request.synthetic_column!r} is already a column of the data",
            hint="choose another name with synthetic_column: …",
        )
    if request.rows is not None:
        wanted = [({}, request.rows)]
    elif request.multiplier is not None:
        wanted = [({}, round(len(real) * (request.multiplier - 1)))]
    elif request.rebalance is not None:
        wanted = _rebalanced(request.rebalance, contract, real)
    else:
        wanted = [(group.values, group.rows) for group in request.conditions or []]
    groups = [_group(values, rows, contract, real, train, derived) for values, rows in wanted if rows > 0]
    plan = Plan(request.form, groups, len(real), len(train))
    if not plan.synthetic_rows:
        raise ConfigError(
            f"the request adds no rows: the data already has the {request.form} asked for",
            hint="ask for more rows or other shares",
        )
    if plan.conditioned and not supports_conditions:
        raise ConfigError(
            f"the {request.generator.name} generator cannot sample under conditions, which "
            f"{request.form} needs",
            hint="use copula, ctgan, tvae, diffusion or llm (`synthwright generators`)",
        )
    _validate_limits(plan, request)
    return plan


def _rebalanced(
    rebalance: dict[str, dict[str, float]], contract: Contract, real: pd.DataFrame
) -> list[tuple[dict[str, Any], int]]:
    name, asked = next(iter(rebalance.items()))
    if name not in contract.names:
        raise ConfigError(
            f"rebalance: {name!r} is not a column", hint=f"columns: {', '.join(contract.names)}"
        )
    column = contract.column(name)
    if column.kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        raise ConfigError(
            f"rebalance: {name!r} is {column.kind.value}; only a categorical or boolean column has classes",
            hint="rebalance the target's classes, or use conditions: for other columns",
        )
    typed = {_typed(name, value, contract): share for value, share in asked.items()}
    counts = real[name].value_counts()
    counts.index = counts.index.astype(object)
    others = counts.drop([v for v in typed if v in counts.index])
    rest = 1.0 - sum(typed.values())
    if rest <= 1e-9 and others.sum() > 0:
        raise ConfigError(
            f"rebalance.{name}: the listed shares add up to 1, but {len(others)} other class(es) "
            f"({', '.join(map(repr, others.index[:5]))}) have real rows, which are never dropped",
            hint="list those classes too, or leave some share for them",
        )
    shares = dict(typed)
    for value, count in others.items():
        shares[value] = rest * count / others.sum()
    total = max(counts.get(value, 0) / share for value, share in shares.items() if share > 0)
    total = math.ceil(total - 1e-9)
    return [
        ({name: value}, max(0, round(share * total) - int(counts.get(value, 0))))
        for value, share in shares.items()
    ]


def _typed(name: str, value: Any, contract: Contract) -> Any:
    """A class as the contract reads it (so `true` and "True" name the same boolean class)."""
    return condition_table({name: value}, 1, contract, set())[name].iloc[0]


def _group(
    values: dict[str, Any],
    rows: int,
    contract: Contract,
    real: pd.DataFrame,
    train: pd.DataFrame,
    derived: set[str],
) -> Group:
    typed = condition_table(values, 1, contract, derived).iloc[0].to_dict() if values else {}
    return Group(typed, rows, int(matches(real, typed).sum()), int(matches(train, typed).sum()))


def matches(frame: pd.DataFrame, conditions: dict[str, Any]) -> pd.Series:
    """Rows of `frame` meeting every condition (all rows for none)."""
    mask = pd.Series(True, index=frame.index)
    for name, value in conditions.items():
        mask &= (frame[name] == value).fillna(False).astype(bool)
    return mask


def _validate_limits(plan: Plan, request: AugmentRequest) -> None:
    gates = request.gates
    for group in plan.groups:
        if gates.group_rows_min is not None and group.training_rows < gates.group_rows_min:
            raise UserInputError(
                f"only {group.training_rows} real training row(s) have {group.label}; a group needs at "
                f"least {gates.group_rows_min} (gates.group_rows_min) for a generator to learn it",
                hint="ask for a broader group, or lower gates.group_rows_min if you accept the risk",
            )
        ratio = group.rows / group.training_rows if group.training_rows else math.inf
        if gates.synthetic_per_real_max is not None and ratio > gates.synthetic_per_real_max:
            most = math.floor(gates.synthetic_per_real_max * group.training_rows)
            raise UserInputError(
                f"{group.rows:,} synthetic rows with {group.label} would be {ratio:.1f} per real training "
                f"row ({group.training_rows:,}); the gate allows {gates.synthetic_per_real_max:g} "
                "(gates.synthetic_per_real_max)",
                hint=f"ask for at most {most:,} such rows, or raise gates.synthetic_per_real_max",
            )


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
