"""Gates: thresholds from the pipeline spec, applied to measured figures, giving a scorecard.

A scorecard lists every metric with its value, its threshold and whether it passed; it is stored in
the manifest of a published version and shown to the user of a rejected run. Reference figures (how a
real holdout sample scores on the same metric) are shown beside the values to give them a scale.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from validators.contract import ContractReport
from validators.fidelity import Fidelity


class Gates(BaseModel):
    """Thresholds; the defaults pass a Gaussian copula on Adult and on the demo table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape_error_max: float = Field(default=20.0, ge=0, le=100, description="column-shape error, percent")
    trend_error_max: float = Field(default=35.0, ge=0, le=100, description="column-pair-trend error, percent")
    contract_violations_max: int = Field(default=0, ge=0, description="failed contract checks on the output")


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    value: float
    threshold: float | None
    direction: Literal["max", "min"] = "max"
    unit: str = ""
    reference: float | None = Field(default=None, description="the same metric for a real holdout sample")
    description: str = ""

    @property
    def passed(self) -> bool:
        if self.threshold is None:
            return True
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
        """One human line per metric: `✓ shape_error 7.2 % ≤ 20 % (real holdout: 1.0 %)`."""
        out = []
        for m in self.metrics:
            mark = "✓" if m.passed else "✗"
            bound = (
                ""
                if m.threshold is None
                else f" {'≤' if m.direction == 'max' else '≥'} {m.threshold:g}{m.unit}"
            )
            ref = "" if m.reference is None else f" (real holdout: {m.reference:.1f}{m.unit})"
            value = f"{m.value:.0f}" if float(m.value).is_integer() and not m.unit else f"{m.value:.1f}"
            out.append(f"{mark} {m.name} {value}{m.unit}{bound}{ref}")
        return out


def score(
    gates: Gates,
    fidelity: Fidelity,
    contract_report: ContractReport,
    reference: Fidelity | None = None,
) -> Scorecard:
    """Apply `gates` to the measured figures."""
    fidelity_metrics = [
        Metric(
            name=f"{kind}_error",
            value=getattr(fidelity, f"{kind}_error"),
            threshold=getattr(gates, f"{kind}_error_max"),
            unit=" %",
            reference=getattr(reference, f"{kind}_error") if reference else None,
            description=f"{what} error vs training data (SDMetrics), 100 × (1 − score)",
        )
        for kind, what in (("shape", "column-shape"), ("trend", "column-pair-trend"))
    ]
    return Scorecard(
        metrics=[
            *fidelity_metrics,
            Metric(
                name="contract_violations",
                value=len(contract_report.violations),
                threshold=gates.contract_violations_max,
                description="contract checks the synthetic output fails (same GX suite as the input)",
            ),
        ]
    )
