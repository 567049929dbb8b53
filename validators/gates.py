"""Gates: thresholds from the pipeline spec, applied to measured figures, giving a scorecard.

One function per group of figures (fidelity, detection, privacy, utility, contract) turns them into
metrics; `score` puts a pipeline's groups together. An augmentation adds its own gates and groups here
too (`AugmentGates`, the utility lifts and the published table's contract).

A scorecard lists every metric with its value, its threshold and whether it passed; it is stored in
the manifest of a published version and shown to the user of a rejected run. Reference figures (how a
real holdout sample scores on the same metric) are shown beside the values to give them a scale.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthwright.validators.attacks import Attacks
from synthwright.validators.contract import ContractReport
from synthwright.validators.fidelity import Detection, Fidelity
from synthwright.validators.lift import Lift
from synthwright.validators.privacy import Privacy
from synthwright.validators.utility import Utility


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
    rare_value_leaks_max: int | None = Field(
        default=0,
        ge=0,
        description="synthetic cells equal to a category or text held by fewer than k training rows",
    )
    text_copy_excess_max: float | None = Field(
        default=5.0,
        ge=0,
        le=100,
        description="percentage points more synthetic texts equal to a training text than holdout texts",
    )
    singling_out_risk_max: float | None = Field(
        default=0.5,
        ge=0,
        le=1,
        description="singling-out risk (anonymeter's definition): predicates from synthetic rows that "
        "isolate one training row, beyond what they do on the holdout",
    )
    linkability_risk_max: float | None = Field(
        default=0.1,
        ge=0,
        le=1,
        description="linkability risk: synthetic rows that join two halves of a training row's columns",
    )
    attribute_inference_risk_max: float | None = Field(
        default=0.5,
        ge=0,
        le=1,
        description="attribute-inference risk of the most exposed column: a training row's value "
        "guessed from its nearest synthetic row, beyond the holdout's",
    )
    utility_gap_max: float | None = Field(
        default=0.15, ge=0, description="TRTR − TSTR of ROC AUC (classification) or R² (regression)"
    )
    utility_f1_gap_max: float | None = Field(
        default=0.15,
        ge=0,
        description="TRTR − TSTR of macro F1 (classification): a ranking (ROC AUC) can survive while "
        "the predicted classes, the rare ones first, do not",
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
    not_measured: str | None = Field(
        default=None,
        description="why the real data cannot give this figure (a one-class target, no column with "
        "values…); such a metric is not gated, and the scorecard says so beside the verdict",
    )

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
    relaxed: list[str] = []
    """Gates looser than the defaults or off (`detection_auc off`, `shape_error ≤ 30 (default 20)`),
    said wherever the verdict is shown: a PASSED under relaxed gates is not the default's PASSED.
    Metrics the data could not measure are added here too (`utility_gap not measured (…)`): their gate
    was not applied, which weakens a PASSED just as switching it off would."""

    @model_validator(mode="before")
    @classmethod
    def _unmeasured_gates_are_said(cls, data: Any) -> Any:
        """Every construction (score, an augmentation's scorecard, from_dict) lists the unmeasured."""
        if not isinstance(data, dict):
            return data
        metrics = [m if isinstance(m, Metric) else Metric.model_validate(m) for m in data.get("metrics", [])]
        relaxed = list(data.get("relaxed") or [])
        notes = [note for note in unmeasured_notes(metrics) if note not in relaxed]
        return {**data, "metrics": metrics, "relaxed": relaxed + notes}

    @property
    def relaxed_line(self) -> str:
        """`passed with relaxed gates: detection_auc off`; empty when every gate is at its default."""
        return f"relaxed gates: {', '.join(self.relaxed)}" if self.relaxed else ""

    @property
    def passed(self) -> bool:
        return all(m.passed for m in self.metrics)

    @property
    def failures(self) -> list[Metric]:
        return [m for m in self.metrics if not m.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "relaxed_gates": list(self.relaxed),
            "metrics": [
                {
                    **m.model_dump(mode="json", exclude=set() if m.not_measured else {"not_measured"}),
                    "passed": m.passed,
                }
                for m in self.metrics
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        return cls(
            metrics=[{k: v for k, v in m.items() if k != "passed"} for m in data["metrics"]],
            relaxed=data.get("relaxed_gates") or [],
        )

    def lines(self) -> list[str]:
        """One human line per metric: `✓ shape_error 7.2 % ≤ 20 % (real holdout: 1.0 %)`; a metric
        without a gate is marked `·` and says so."""
        out = []
        for m in self.metrics:
            mark = "·" if m.threshold is None else "✓" if m.passed else "✗"
            bound = f" {m.bound}" if m.bound else ""
            ref = (
                ""
                if m.reference is None
                else f" (real holdout: {format_number(m.reference)}"
                f"{'' if math.isnan(m.reference) else m.unit})"
            )
            low, high = m.interval or (None, None)
            interval = "" if m.interval is None else f" [95 % CI {format_number(low)}–{format_number(high)}]"
            ungated = (
                f" — not measured: {m.not_measured}"
                if m.not_measured
                else " — not gated"
                if m.threshold is None
                else ""
            )
            value = format_number(m.value) + ("" if math.isnan(m.value) else m.unit)
            out.append(f"{mark} {m.name} {value}{interval}{bound}{ref}{ungated}")
        if self.relaxed:
            unmeasured = any(m.not_measured for m in self.metrics)
            why = "; a metric not measured is not gated" if unmeasured else ""
            out.append(f"! {self.relaxed_line} (the defaults are stricter{why})")
        return out


def unmeasured_notes(metrics: list[Metric]) -> list[str]:
    """`utility_gap, utility_f1_gap not measured (the target 'y' has one class …)`, one per reason."""
    reasons: dict[str, list[str]] = {}
    for metric in metrics:
        if metric.not_measured:
            reasons.setdefault(metric.not_measured, []).append(metric.name)
    return [f"{', '.join(names)} not measured ({reason})" for reason, names in reasons.items()]


def or_not_measured(metric: Metric, reason: str | None) -> Metric:
    """`metric` itself, or, when the data cannot give it (`reason`), the same metric without a value
    or a gate and the reason first in its description: n/a must not read as a pass or a failure."""
    if reason is None:
        return metric
    return metric.model_copy(
        update={
            "value": float("nan"),
            "threshold": None,
            "interval": None,
            "not_measured": reason,
            "description": f"not measured: {reason}. {metric.description}",
        }
    )


def relaxed_gates(gates: Gates) -> list[str]:
    """Each gate of `gates` that is off or looser than its class's default, as a short phrase."""
    defaults = type(gates)()
    relaxed = []
    for name in type(gates).model_fields:
        value, default = getattr(gates, name), getattr(defaults, name)
        if value == default or default is None:
            continue
        metric, _, _ = name.rpartition("_")
        if value is None:
            relaxed.append(f"{metric} off")
        elif (value > default) if name.endswith("_max") else (value < default):
            sign = "≤" if name.endswith("_max") else "≥"
            relaxed.append(f"{metric} {sign} {format_number(value)} (default {format_number(default)})")
    return relaxed


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
    attacks: Attacks | None = None,
    utility: Utility | None = None,
    tables: dict[str, int] | None = None,
) -> Scorecard:
    """Apply `gates` to the measured figures, group by group; parts not measured (None) add no metrics.

    `tables` (rows of train, holdout and synthetic) lets a description say when its figure was
    measured on a seeded sample of a larger table.
    """
    tables = tables or {}
    return Scorecard(
        relaxed=relaxed_gates(gates),
        metrics=[
            *fidelity_metrics(gates, fidelity, reference, tables),
            *detection_metrics(gates, detection, tables),
            *privacy_metrics(gates, privacy, tables),
            *attack_metrics(gates, attacks),
            *utility_metrics(gates, utility, tables),
            *contract_metrics(gates, contract_report),
        ],
    )


def fidelity_metrics(
    gates: Gates, fidelity: Fidelity, reference: Fidelity | None, tables: dict[str, int]
) -> list[Metric]:
    """Column-shape and column-pair-trend error, beside the real holdout's figures for scale."""
    sample = (
        _on_sample(tables, train=fidelity.rows.get("real"), synthetic=fidelity.rows.get("synthetic"))
        if fidelity.rows.get("sampled")
        else ""
    )
    return [
        or_not_measured(
            Metric(
                name=f"{kind}_error",
                value=getattr(fidelity, f"{kind}_error"),
                threshold=getattr(gates, f"{kind}_error_max"),
                unit=" %",
                reference=getattr(reference, f"{kind}_error") if reference else None,
                ideal=0.0,
                description=f"{what} error vs training data (SDMetrics), 100 × (1 − score){sample}",
            ),
            fidelity.not_measured.get(kind),
        )
        for kind, what in (("shape", "column-shape"), ("trend", "column-pair-trend"))
    ]


def detection_metrics(gates: Gates, detection: Detection | None, tables: dict[str, int]) -> list[Metric]:
    """How well a classifier tells synthetic rows from real ones."""
    if detection is None:
        return []
    side = detection.rows_per_side
    return [
        or_not_measured(
            Metric(
                name="detection_auc",
                value=detection.auc,
                threshold=gates.detection_auc_max,
                ideal=0.5,
                description="ROC AUC of a gradient-boosting classifier telling real holdout rows "
                f"from synthetic rows ({side:,} each, 3-fold CV)"
                + _on_sample(tables, holdout=side, synthetic=side),
            ),
            detection.not_measured,
        )
    ]


def privacy_metrics(gates: Gates, privacy: Privacy | None, tables: dict[str, int]) -> list[Metric]:
    """Distance to the closest record, exact copies, a membership attack, and personal data copied."""
    if privacy is None:
        return []
    rows = privacy.rows
    sample = (
        _on_sample(
            tables, synthetic=rows.get("synthetic"), train=rows.get("train"), holdout=rows.get("holdout")
        )
        if rows.get("sampled")
        else ""
    )
    metrics = [
        Metric(
            name="dcr_share",
            value=privacy.dcr_share,
            threshold=gates.dcr_share_max,
            group="privacy",
            interval=privacy.dcr_share_interval,
            ideal=0.5,
            description="share of synthetic rows whose closest real row is in train, not holdout" + sample,
        ),
        Metric(
            name="exact_match_excess",
            value=privacy.exact_match_excess,
            threshold=gates.exact_match_excess_max,
            unit=" pp",
            group="privacy",
            ideal=0.0,
            description=f"exact copies of train rows ({100 * privacy.exact_match_train:.2f} %) minus "
            f"of holdout rows ({100 * privacy.exact_match_holdout:.2f} %), percentage points" + sample,
        ),
        Metric(
            name="mia_auc",
            value=privacy.mia_auc,
            threshold=gates.mia_auc_max,
            group="privacy",
            ideal=0.5,
            description="ROC AUC of a membership-inference attack by distance to the synthetic rows" + sample,
        ),
        Metric(
            name="nndr_median",
            value=privacy.nndr_median,
            threshold=None,
            direction="min",
            group="privacy",
            reference=privacy.nndr_median_holdout,
            description="median nearest/second-nearest train distance ratio (near 0: sits on one "
            f"real row); reported, not gated{sample}",
        ),
    ]
    if privacy.rare_value_leaks:
        leaks = privacy.rare_value_leaks
        metrics.append(
            Metric(
                name="rare_value_leaks",
                value=sum(leaks.values()),
                threshold=gates.rare_value_leaks_max,
                group="privacy",
                ideal=0.0,
                description="synthetic cells equal to a value held by fewer than k training rows (and no "
                "holdout row): " + ", ".join(f"{k} {v}" for k, v in leaks.items()),
            )
        )
    for name, shares in privacy.text_copies.items():
        excess = gates.text_copy_excess_max
        metrics.append(
            Metric(
                name=f"text_copy_rate[{name}]",
                value=round(100 * shares["synthetic"], 2),
                threshold=None if excess is None else round(100 * shares["holdout"] + excess, 2),
                unit=" %",
                group="privacy",
                reference=round(100 * shares["holdout"], 2),
                ideal=round(100 * shares["holdout"], 2),
                description=f"synthetic {name!r} texts equal to a training text; the gate is the real "
                f"holdout's own rate plus {format_number(excess)} pp"
                if excess is not None
                else f"synthetic {name!r} texts equal to a training text",
            )
        )
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
    return metrics


ATTACKS = {
    "singling_out": "singling out: predicates from synthetic rows that isolate exactly one real row",
    "linkability": "linkability: a synthetic row nearest to a real row on two halves of its columns",
    "attribute_inference": "attribute inference: a real row's value guessed from its nearest synthetic row",
}


def attack_metrics(gates: Gates, attacks: Attacks | None) -> list[Metric]:
    """The three attacks' risks: main attack on train, control on the holdout (anonymeter's definitions)."""
    if attacks is None:
        return []
    metrics = []
    for name, what in ATTACKS.items():
        attack = getattr(attacks, name)
        worst = ""
        if attack.parts:
            part = max(
                attack.parts, key=lambda k: -1 if math.isnan(attack.parts[k].risk) else attack.parts[k].risk
            )
            worst = f"; worst: {part}"
        metric = Metric(
            name=f"{name}_risk",
            value=attack.risk,
            threshold=getattr(gates, f"{name}_risk_max"),
            group="privacy",
            interval=None if any(math.isnan(v) for v in attack.interval) else tuple(attack.interval),
            ideal=0.0,
            description=f"{what}; risk = (train success {attack.main_rate:.3f} − holdout success "
            f"{attack.control_rate:.3f}) / (1 − holdout), {attack.n_attacks} attacks{worst}"
            + (f" ({attack.note})" if attack.note else ""),
        )
        # an attack the data leaves no way to make (one scored column, no row to single out) says why
        unmade = attack.note if math.isnan(attack.risk) and attack.note else None
        metrics.append(or_not_measured(metric, unmade))
    return metrics


def utility_metrics(gates: Gates, utility: Utility | None, tables: dict[str, int]) -> list[Metric]:
    """What a model loses when it learns from synthetic rows instead of real ones."""
    if utility is None:
        return []
    sample = (
        _on_sample(tables, train=utility.rows.get("train"), synthetic=utility.rows.get("synthetic"))
        if utility.rows.get("sampled")
        else ""
    )
    scored = f"predicting {utility.target} on the real holdout{sample}"
    if utility.not_measured:
        names = ["utility_gap", *(["utility_f1_gap"] if utility.task == "classification" else [])]
        what = f"TRTR − TSTR, {scored}"
        return [
            or_not_measured(
                Metric(name=n, value=float("nan"), threshold=None, group="utility", description=what),
                utility.not_measured,
            )
            for n in names
        ]
    metrics = [
        Metric(
            name="utility_gap",
            value=utility.gap,
            threshold=gates.utility_gap_max,
            group="utility",
            ideal=0.0,
            description=f"{utility.headline} trained on real ({utility.real[utility.headline]:.3f}) "
            f"minus trained on synthetic ({utility.synthetic[utility.headline]:.3f}), {scored}",
        )
    ]
    if "macro_f1" in utility.real and "macro_f1" in utility.synthetic:
        metrics.append(
            Metric(
                name="utility_f1_gap",
                value=round(utility.real["macro_f1"] - utility.synthetic["macro_f1"], 4),
                threshold=gates.utility_f1_gap_max,
                group="utility",
                ideal=0.0,
                description=f"macro F1 trained on real ({utility.real['macro_f1']:.3f}) minus trained "
                f"on synthetic ({utility.synthetic['macro_f1']:.3f}), {scored}",
            )
        )
    return metrics


def contract_metrics(gates: Gates, contract_report: ContractReport) -> list[Metric]:
    """Contract checks the synthetic output fails."""
    return [
        Metric(
            name="contract_violations",
            value=len(contract_report.violations),
            threshold=gates.contract_violations_max,
            group="contract",
            ideal=0.0,
            description="contract checks the synthetic output fails (same GX suite as the input)",
        )
    ]


# ---- augmentation's gates -------------------------------------------------------------------------------


class AugmentGates(Gates):
    """The pipeline's gates, applied to the synthetic rows against the real rows that meet the same
    conditions, plus what augmentation adds: a limit on how far a rare group is stretched, and
    optional minimum utility lifts."""

    utility_gap_max: float | None = Field(
        default=None, description="not used: augmentation measures lift instead (see *_lift_min)"
    )
    synthetic_per_real_max: float | None = Field(
        default=10.0,
        gt=0,
        description="synthetic rows per real training row of the same group; more is a generator "
        "inventing most of a group from a handful of people",
    )
    group_rows_min: int | None = Field(
        default=20, ge=1, description="real training rows a conditioned group needs to be learned at all"
    )
    minority_f1_lift_min: float | None = Field(
        default=0.0,
        description="F1 of the rarest class: real+synthetic minus real-only (classification's primary "
        "lift: an augmentation must not make the class it exists for harder to find)",
    )
    roc_auc_lift_min: float | None = Field(
        default=-0.01, description="ROC AUC: real+synthetic minus real-only (a dip within noise is allowed)"
    )
    balanced_accuracy_lift_min: float | None = Field(
        default=-0.01, description="balanced accuracy: real+synthetic minus real-only"
    )
    r2_lift_min: float | None = Field(
        default=0.0,
        description="R² of a regression: real+synthetic minus real-only (regression's primary lift)",
    )
    mae_lift_min: float | None = Field(
        default=-0.01,
        description="relative fall of a regression's mean absolute error: (real − augmented) / real",
    )

    @property
    def pipeline_gates(self) -> Gates:
        """The gates the pipeline's own evaluation applies (no augmentation limits, no lifts)."""
        return Gates(**self.model_dump(include=set(Gates.model_fields)))


LIFT_WHAT = {
    "minority_f1": "F1 of the rarest class ({minority})",
    "roc_auc": "ROC AUC",
    "balanced_accuracy": "balanced accuracy",
    "r2": "R²",
    "mae": "the relative fall of the mean absolute error",
}


def lift_metrics(gates: AugmentGates, lift: Lift | None) -> list[Metric]:
    """Each utility lift of the synthetic rows (real + synthetic minus real alone), beside SMOTE's."""
    if lift is None:
        return []
    if lift.not_measured:
        what = f"real + synthetic minus real alone, predicting {lift.target} on the real holdout"
        return [
            or_not_measured(
                Metric(
                    name=f"{name}_lift",
                    value=float("nan"),
                    threshold=None,
                    direction="min",
                    group="utility",
                    description=what,
                ),
                lift.not_measured,
            )
            for name in lift.metrics
        ]
    smote = lift.smote_lift
    metrics = []
    for name in lift.metrics:
        what = LIFT_WHAT[name].format(minority=lift.minority)
        if name == "mae":
            scores = (
                f"MAE {lift.augmented[name]:.4g} with the synthetic rows against {lift.real[name]:.4g} alone"
            )
        else:
            scores = f"{lift.augmented[name]:.3f} with the synthetic rows minus {lift.real[name]:.3f} alone"
        baseline = (
            ""
            if lift.task != "classification"
            else "; SMOTE's lift: " + ("n/a" if smote is None else f"{smote[name]:+.3f}")
        )
        metrics.append(
            Metric(
                name=f"{name}_lift",
                value=lift.lift[name],
                threshold=getattr(gates, f"{name}_lift_min"),
                direction="min",
                group="utility",
                description=f"{what}: {scores}, predicting {lift.target} on the real holdout{baseline}",
            )
        )
    return metrics


def augmented_contract_metrics(gates: AugmentGates, report: ContractReport) -> list[Metric]:
    """Contract checks the published table (real + synthetic rows, with its marker column) fails."""
    return [
        Metric(
            name="augmented_contract_violations",
            value=len(report.violations),
            threshold=gates.contract_violations_max,
            group="contract",
            ideal=0.0,
            description="contract checks the published table (real + synthetic rows) fails",
        )
    ]


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
