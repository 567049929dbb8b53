"""Drift: how far a table has moved from a baseline of the same contract, as pass/fail checks.

The baseline takes the "real" side of `synthwright.validators.fidelity.fidelity`, so the figures are the
scorecard's own shape and trend errors (percent, SDMetrics), and one bound per figure turns them into the same
`CheckResult`s the contract check gives: one per scored column, one for the overall shape error, one for
the overall trend error. Identifiers and personal-data columns are not scored (fidelity leaves them out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from synthwright.config_io import validate_model
from synthwright.data_contracts.model import Contract, DriftThresholds
from synthwright.validators.contract import CheckResult
from synthwright.validators.fidelity import FIDELITY_MAX_ROWS, Fidelity, fidelity

__all__ = ["DriftThresholds", "drift_checks", "drift_thresholds"]

WORST_SHOWN = 3
"""Columns or pairs named in a failed overall check: where to look first."""


def drift_thresholds(
    contract: Contract, overrides: Mapping[str, float | None] | None = None
) -> DriftThresholds:
    """Flags (non-None `overrides`) win over the contract's `drift:` section, which wins over the defaults."""
    base = (contract.drift or DriftThresholds()).model_dump()
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    return validate_model(
        DriftThresholds, {**base, **given}, "drift thresholds", hint="thresholds are percentages, 0 to 100"
    )


def drift_checks(
    baseline: pd.DataFrame,
    data: pd.DataFrame,
    contract: Contract,
    thresholds: DriftThresholds,
    *,
    max_rows: int | None = FIDELITY_MAX_ROWS,
) -> list[CheckResult]:
    """One check per scored column (when `column_shape_error_max` is set), then overall shape and trend.
    Sides longer than `max_rows` are scored on a seeded sample (the overall checks say so)."""
    if baseline.empty or data.empty:
        side = "the baseline" if baseline.empty else "the data"
        return [CheckResult("drift", None, False, f"{side} has no rows: there is nothing to compare")]
    scored = fidelity(baseline, data, contract, max_rows=max_rows)
    results = []
    if thresholds.column_shape_error_max is not None:
        results += [
            _column_check(name, error, thresholds.column_shape_error_max)
            for name, error in scored.column_errors.items()
        ]
    rows = scored.rows
    note = (
        f" (on a seeded sample of {rows['real']:,} baseline and {rows['synthetic']:,} data rows)"
        if rows.get("sampled")
        else ""
    )
    results.append(_overall_check(scored, "shape", thresholds.shape_error_max, note))
    results.append(_overall_check(scored, "trend", thresholds.trend_error_max, note))
    return results


def _column_check(column: str, error: float, limit: float) -> CheckResult:
    where = f"column {column!r}"
    if math.isnan(error):
        return CheckResult(
            "column_shape_error", column, False, f"{where}: shape error cannot be measured (no values?)"
        )
    passed = error <= limit
    verdict = "≤" if passed else "above"
    message = f"{where}: shape error {_percent(error)} vs the baseline, {verdict} {_percent(limit)}"
    return CheckResult("column_shape_error", column, passed, message)


def _overall_check(scored: Fidelity, kind: str, limit: float, note: str = "") -> CheckResult:
    error = getattr(scored, f"{kind}_error")
    what = "column-shape" if kind == "shape" else "column-pair-trend"
    if math.isnan(error):
        return CheckResult(f"{kind}_error", None, False, f"{what} error cannot be measured")
    passed = error <= limit
    verdict = "≤" if passed else "above"
    message = f"{what} error {_percent(error)} vs the baseline{note}, {verdict} {_percent(limit)}"
    if not passed:
        details = scored.column_errors if kind == "shape" else scored.pair_errors
        message += f"; worst: {_worst(details)}"
    return CheckResult(f"{kind}_error", None, passed, message)


def _worst(errors: Mapping[str, float]) -> str:
    measured = [(name, error) for name, error in errors.items() if not math.isnan(error)]
    ranked = sorted(measured, key=lambda item: item[1], reverse=True)[:WORST_SHOWN]
    return ", ".join(f"{name} {_percent(error)}" for name, error in ranked)


def _percent(value: float) -> str:
    return f"{value:.1f} %" if value >= 1 or value == 0 else f"{value:.2f} %"
