"""Fidelity: how closely synthetic data follows the real training data, as the papers report it.

Column-shape error and column-pair-trend error are 100 × (1 − score) of SDMetrics' quality report
(KS/TV complements per column; correlation/contingency similarity per pair), computed against the
training split. Identifiers and personal-data columns are left out: they are made by rule, not learned.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from data_contracts.model import Contract
from data_contracts.sdv_metadata import sdv_columns

_TABLE = "table"


@dataclass(frozen=True)
class Fidelity:
    shape_error: float
    trend_error: float
    column_errors: dict[str, float] = field(default_factory=dict)
    pair_errors: dict[str, float] = field(default_factory=dict)


def fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, contract: Contract) -> Fidelity:
    """Shape and trend errors (percent) of `synthetic` against `real`; per column and per pair too."""
    from sdmetrics.reports import QualityReport

    columns = sdv_columns(contract)
    metadata = {"tables": {_TABLE: {"columns": columns}}}
    names = list(columns)
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SDMetrics warns per pair it cannot score (e.g. constant columns)
        report.generate(
            {_TABLE: _for_sdmetrics(real[names])},
            {_TABLE: _for_sdmetrics(synthetic[names])},
            metadata,
            verbose=False,
        )
    scores = dict(zip(report.get_properties()["Property"], report.get_properties()["Score"], strict=True))
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    return Fidelity(
        shape_error=_error(scores["Column Shapes"]),
        trend_error=_error(scores["Column Pair Trends"]),
        column_errors={row.Column: _error(row.Score) for row in shapes.itertuples()},
        pair_errors={
            f"{a} ~ {b}": _error(score)
            for a, b, score in zip(pairs["Column 1"], pairs["Column 2"], pairs["Score"], strict=True)
        },
    )


def _error(score: float) -> float:
    return round(100.0 * (1.0 - float(score)), 3) if pd.notna(score) else float("nan")


def _for_sdmetrics(frame: pd.DataFrame) -> pd.DataFrame:
    """SDMetrics wants plain numpy-backed columns: nullable integers/booleans become float/object."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == "Int64":
            out[name] = out[name].astype("float64")
        elif out[name].dtype == "boolean":
            out[name] = out[name].astype(object).where(out[name].notna(), float("nan"))
    return out
