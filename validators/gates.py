"""Gates: thresholds from the pipeline spec, applied to measured figures, giving a scorecard.

A scorecard lists every metric with its value, its threshold and whether it passed; it is stored in
the manifest of a published version and shown to the user of a rejected run. Reference figures (how a
real holdout sample scores on the same metric) are shown beside the values to give them a scale.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from validators.contract import ContractReport
from validators.fidelity import Detection, Fidelity
from validators.privacy import Privacy
from validators.utility import Utility


class Gates(BaseModel):
    """Thresholds; `null` turns a gate off (the metric is still measured and shown).

    The defaults reject a column-wise shuffle of the training data (fidelity), a generator that copies
    training rows (privacy) and one whose rows teach a model nothing (utility), and pass a sample of
    real rows the generator never saw, on Adult and on the demo table.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape_error_max: float | None = Field(
        default=20.0, ge=0, le=100, description="column-shape error, percent"
    )
    trend_error_max: float | None = Field(
        default=25.0, ge=0, le=100, description="column-pair-trend error, percent"
    )
    detection_auc_max: float | None = Field(
        default=0.9, ge=0.5, le=1, description="ROC AUC of a classifier telling real from synthetic rows"
    )
    dcr_share_max: float | None = Field(
        default=0.6, ge=0, le=1, description="share of synthetic rows closer to train than to holdout"
    )
    exact_match_excess_max: float | None = Field(
        default=1.0, ge=0, le=100, description="percentage points more exact copies of train than holdout"
    )
    mia_auc_max: float | None = Field(
        default=0.6, ge=0.5, le=1, description="ROC AUC of a distance-based membership-inference attack"
    )
    pii_verbatim_max: int | None = Field(
        default=0, ge=0, description="personal-data values copied verbatim from the real data"
    )
    utility_gap_max: float | None = Field(
        default=0.15, ge=0, description="TRTR − TSTR of ROC AUC (classification) or R² (regression)"
    )
    contract_violations_max: int | None = Field(
        default=0, ge=0, description="failed contract checks on the output"
    )


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    threshold: float | None
    direction: Literal["max", "min"] = "max"
    unit: str = ""
    group: Literal["fidelity", "privacy", "utility", "contract"] = "fidelity"
    reference: float | None = Field(default=None, description="the same metric for a real holdout sample")
    interval: tuple[float, float] | None = Field(default=None, description="95 % bootstrap interval")
    ideal: float | None = Field(default=None, description="the value of a perfect generator")
    description: str = ""

    @field_validator("value", mode="before")
    @classmethod
    def _null_is_not_measured(cls, value: Any) -> Any:
        return float("nan") if value is None else value  # JSON writes NaN as null

    @property
    def bound(self) -> str:
        """The gate as text, `≤ 20 %`; empty when the metric is not gated."""
        if self.threshold is None:
            return ""
        return f"{'≤' if self.direction == 'max' else '≥'} {format_number(self.threshold)}{self.unit}"

    @property
    def passed(self) -> bool:
        if self.threshold is None:
            return True
        if math.isnan(self.value):
            return False  # a metric that could not be computed cannot vouch for the data
        return self.value <= self.threshold if self.direction == "max" else self.value >= self.threshold


class Scorecard(BaseModel):
    model_config = ConfigDict(frozen=True)

    metrics: list[Metric]

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.metrics)

    @property
    def failures(self) -> list[Metric]:
        return [m for m in self.metrics if not m.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "metrics": [{**m.model_dump(mode="json"), "passed": m.passed} for m in self.metrics],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        return cls(metrics=[{k: v for k, v in m.items() if k != "passed"} for m in data["metrics"]])

    def lines(self) -> list[str]:
        """One human line per metric: `✓ shape_error 7.2 % ≤ 20 % (real holdout: 1.0 %)`; a metric
        without a gate is marked `·` and says so."""
        out = []
        for m in self.metrics:
            mark = "·" if m.threshold is None else "✓" if m.passed else "✗"
            bound = f" {m.bound}" if m.bound else ""
            ref = "" if m.reference is None else f" (real holdout: {format_number(m.reference)}{m.unit})"
            low, high = m.interval or (None, None)
            interval = "" if m.interval is None else f" [95 % CI {format_number(low)}–{format_number(high)}]"
            ungated = " — not gated" if m.threshold is None else ""
            out.append(f"{mark} {m.name} {format_number(m.value)}{m.unit}{interval}{bound}{ref}{ungated}")
        return out


def format_number(value: float | None) -> str:
    """Counts as integers, percentages with one decimal, AUCs and shares with three."""
    if value is None or math.isnan(value):
        return "n/a"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"


def score(
    gates: Gates,
    fidelity: Fidelity,
    contract_report: ContractReport,
    reference: Fidelity | None = None,
    *,
    detection: Detection | None = None,
    privacy: Privacy | None = None,
    utility: Utility | None = None,
    tables: dict[str, int] | None = None,
) -> Scorecard:
    """Apply `gates` to the measured figures; parts not measured (None) add no metrics.

    `tables` (rows of train, holdout and synthetic) lets a description say when its figure was
    measured on a seeded sample of a larger table.
    """
    tables = tables or {}
    fidelity_sample = (
        _on_sample(tables, train=fidelity.rows.get("real"), synthetic=fidelity.rows.get("synthetic"))
        if fidelity.rows.get("sampled")
        else ""
    )
    metrics = [
        Metric(
            name=f"{kind}_error",
            value=getattr(fidelity, f"{kind}_error"),
            threshold=getattr(gates, f"{kind}_error_max"),
            unit=" %",
            reference=getattr(reference, f"{kind}_error") if reference else None,
            ideal=0.0,
            description=f"{what} error vs training data (SDMetrics), 100 × (1 − score){fidelity_sample}",
        )
        for kind, what in (("shape", "column-shape"), ("trend", "column-pair-trend"))
    ]
    if detection is not None:
        metrics.append(
            Metric(
                name="detection_auc",
                value=detection.auc,
                threshold=gates.detection_auc_max,
                ideal=0.5,
                description="ROC AUC of a gradient-boosting classifier telling real holdout rows "
                f"from synthetic rows ({detection.rows_per_side:,} each, 3-fold CV)"
                + _on_sample(tables, holdout=detection.rows_per_side, synthetic=detection.rows_per_side),
            )
        )
    if privacy is not None:
        privacy_sample = (
            _on_sample(
                tables,
                synthetic=privacy.rows.get("synthetic"),
                train=privacy.rows.get("train"),
                holdout=privacy.rows.get("holdout"),
            )
            if privacy.rows.get("sampled")
            else ""
        )
        metrics += [
            Metric(
                name="dcr_share",
                value=privacy.dcr_share,
                threshold=gates.dcr_share_max,
                group="privacy",
                interval=privacy.dcr_share_interval,
                ideal=0.5,
                description="share of synthetic rows whose closest real row is in train, not holdout"
                + privacy_sample,
            ),
            Metric(
                name="exact_match_excess",
                value=privacy.exact_match_excess,
                threshold=gates.exact_match_excess_max,
                unit=" pp",
                group="privacy",
                ideal=0.0,
                description=f"exact copies of train rows ({100 * privacy.exact_match_train:.2f} %) minus "
                f"of holdout rows ({100 * privacy.exact_match_holdout:.2f} %), percentage points"
                + privacy_sample,
            ),
            Metric(
                name="mia_auc",
                value=privacy.mia_auc,
                threshold=gates.mia_auc_max,
                group="privacy",
                ideal=0.5,
                description="ROC AUC of a membership-inference attack by distance to the synthetic rows"
                + privacy_sample,
            ),
            Metric(
                name="nndr_median",
                value=privacy.nndr_median,
                threshold=None,
                direction="min",
                group="privacy",
                reference=privacy.nndr_median_holdout,
                description="median nearest/second-nearest train distance ratio (near 0: sits on one "
                f"real row); reported, not gated{privacy_sample}",
            ),
        ]
        if privacy.pii_verbatim:
            metrics.append(
                Metric(
                    name="pii_verbatim",
                    value=sum(privacy.pii_verbatim.values()),
                    threshold=gates.pii_verbatim_max,
                    group="privacy",
                    ideal=0.0,
                    description="personal-data values copied from the real data: "
                    + ", ".join(f"{k} {v}" for k, v in privacy.pii_verbatim.items()),
                )
            )
    if utility is not None:
        utility_sample = (
            _on_sample(tables, train=utility.rows.get("train"), synthetic=utility.rows.get("synthetic"))
            if utility.rows.get("sampled")
            else ""
        )
        metrics.append(
            Metric(
                name="utility_gap",
                value=utility.gap,
                threshold=gates.utility_gap_max,
                group="utility",
                ideal=0.0,
                description=f"{utility.headline} trained on real ({utility.real[utility.headline]:.3f}) "
                f"minus trained on synthetic ({utility.synthetic[utility.headline]:.3f}), "
                f"predicting {utility.target} on the real holdout{utility_sample}",
            )
        )
    metrics.append(
        Metric(
            name="contract_violations",
            value=len(contract_report.violations),
            threshold=gates.contract_violations_max,
            group="contract",
            ideal=0.0,
            description="contract checks the synthetic output fails (same GX suite as the input)",
        )
    )
    return Scorecard(metrics=metrics)


def _on_sample(tables: dict[str, int], **scored: int | None) -> str:
    """`; on a seeded sample of 200,000 of 800,000 train and 200,000 of 1,000,000 synthetic rows`, naming
    only the tables that were sampled down; empty when none was (or the table sizes are unknown)."""
    parts = [
        f"{count:,} of {tables[name]:,} {name}"
        for name, count in scored.items()
        if count is not None and name in tables and count < tables[name]
    ]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"; on a seeded sample of {listed} rows"
