"""Utility lift: does adding synthetic rows to the real training data make a model better on real data?

The fixed model of the utility test (synthwright.validators.utility: HistGradientBoostingClassifier, 200
rounds, fixed seed, no tuning) is trained three times and scored each time on the real holdout, which neither
the generator nor any of the three models saw:

- **real**: the real training split alone;
- **augmented**: the real training split plus the synthetic rows;
- **SMOTE** (imbalanced-learn): the real training split plus as many SMOTE rows per class as the
  synthetic rows have, the baseline an augmentation has to beat. SMOTENC handles category columns;
  SMOTE cannot take missing values, so they are filled (numbers with the training median, categories
  as a category of their own) in the rows SMOTE makes; the real rows keep theirs.

Lift = score with the extra rows − score on real alone, for the F1 of the rarest class, ROC AUC
(one-vs-rest macro average for more than two classes) and balanced accuracy.

A numeric target is a regression (HistGradientBoostingRegressor): the lifts are R² and the relative
fall in mean absolute error, (MAE real − MAE augmented) / MAE real, so that above 0 is better for
both. SMOTE makes rows of a class, so a regression has no SMOTE baseline.

Real data that cannot measure a lift (no target value in train or holdout, a holdout with one class or
one value, no holdout class the training rows hold) fits no model: `Lift.not_measured` says why, and the
scorecard shows the lifts as not measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import balanced_accuracy_score, f1_score, mean_absolute_error, r2_score

from synthwright.data_contracts.model import NUMERIC_KINDS, Contract
from synthwright.errors import ConfigError
from synthwright.validators.features import as_labels, is_categorical, scored_columns, tree_matrices
from synthwright.validators.utility import FIXED_MODEL, MODEL_DESCRIPTION, fit_predict, roc_auc_score_of

METRICS = ("minority_f1", "roc_auc", "balanced_accuracy")
REGRESSION_METRICS = ("r2", "mae")
PRIMARY = {"classification": "minority_f1", "regression": "r2"}
"""The lift an augmentation must not lower by default (the others may dip within a tolerance)."""
SMOTE_NEIGHBOURS = 5


@dataclass(frozen=True)
class Lift:
    target: str
    minority: str
    """The rarest class of the real training split: the one augmentation usually exists for."""
    real: dict[str, float]
    augmented: dict[str, float]
    smote: dict[str, float] | None
    rows: dict[str, int]
    notes: list[str] = field(default_factory=list)
    model: str = MODEL_DESCRIPTION

    task: str = "classification"
    not_measured: str | None = None
    """Why the real data cannot measure a lift (then no score is given); None when it was measured."""

    @property
    def metrics(self) -> tuple[str, ...]:
        return METRICS if self.task == "classification" else REGRESSION_METRICS

    @property
    def lift(self) -> dict[str, float]:
        if self.not_measured:
            return dict.fromkeys(self.metrics, float("nan"))
        return {m: _lift(m, self.real[m], self.augmented[m]) for m in self.metrics}

    @property
    def smote_lift(self) -> dict[str, float] | None:
        if self.smote is None or self.not_measured:
            return None
        return {m: _lift(m, self.real[m], self.smote[m]) for m in self.metrics}

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "task": self.task,
            "minority_class": self.minority,
            "model": self.model,
            "real": self.real,
            "augmented": self.augmented,
            "smote": self.smote,
            "lift": self.lift,
            "smote_lift": self.smote_lift,
            "rows": self.rows,
            "notes": self.notes,
            **({"not_measured": self.not_measured} if self.not_measured else {}),
        }


def utility_lift(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    target: str,
    *,
    seed: int = 0,
) -> Lift:
    """Scores of the fixed model trained on real, real+synthetic and real+SMOTE, on the real holdout
    (a numeric target: real and real+synthetic, R² and MAE)."""
    column = contract.column(target)
    if column.kind in NUMERIC_KINDS:
        return _regression_lift(train, holdout, synthetic, contract, target, seed)
    if not is_categorical(column):
        raise ConfigError(
            f"the utility lift needs a class label or a number; target {target!r} is {column.kind.value}",
            hint="name a categorical, boolean, integer or float target",
        )
    (train, synthetic, holdout), (x_train, x_synthetic, x_holdout), categorical, features = _with_target(
        train, synthetic, holdout, contract, target
    )
    labels = [as_labels(f[target]) for f in (train, synthetic, holdout)]
    classes = pd.Index(sorted(set().union(*(set(s) for s in labels))))
    y_train, y_synthetic, y_holdout = (classes.get_indexer(s) for s in labels)
    counts = np.bincount(y_train, minlength=len(classes))
    present = [k for k in np.unique(y_holdout) if counts[k] > 0]
    reason = _unmeasurable(labels[0], labels[2], target, "class") or (
        None if present else f"no class of {target!r} in the real holdout is held by a real training row"
    )
    if reason:
        return _not_measured(target, "classification", (train, synthetic, holdout), reason)
    minority = min(present, key=lambda k: (counts[k], k))

    def scores(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return _scores(x, y, x_holdout, y_holdout, categorical, seed, len(classes), minority)

    wanted = counts + np.bincount(y_synthetic, minlength=len(classes))
    smoted, notes = _smote(x_train, y_train, wanted, [is_categorical(c) for c in features], seed)
    return Lift(
        target=target,
        minority=str(classes[minority]),
        real=scores(x_train, y_train),
        augmented=scores(np.vstack([x_train, x_synthetic]), np.concatenate([y_train, y_synthetic])),
        smote=None if smoted is None else scores(*smoted),
        rows=_rows(train, synthetic, holdout),
        notes=notes,
    )


def _regression_lift(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    target: str,
    seed: int,
) -> Lift:
    (train, synthetic, holdout), (x_train, x_synthetic, x_holdout), categorical, _ = _with_target(
        train, synthetic, holdout, contract, target
    )
    y_train, y_synthetic, y_holdout = (
        pd.to_numeric(f[target]).to_numpy(dtype="float64") for f in (train, synthetic, holdout)
    )
    reason = _unmeasurable(pd.Series(y_train), pd.Series(y_holdout), target, "value")
    if reason:
        return _not_measured(target, "regression", (train, synthetic, holdout), reason)

    def scores(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        model = HistGradientBoostingRegressor(
            **FIXED_MODEL, categorical_features=categorical, random_state=seed
        )
        predicted = fit_predict(model, x, y, x_holdout, "predict")
        return {
            "r2": round(float(r2_score(y_holdout, predicted)), 4),
            "mae": round(float(mean_absolute_error(y_holdout, predicted)), 6),
        }

    return Lift(
        target=target,
        minority="",
        real=scores(x_train, y_train),
        augmented=scores(np.vstack([x_train, x_synthetic]), np.concatenate([y_train, y_synthetic])),
        smote=None,
        rows=_rows(train, synthetic, holdout),
        notes=["a regression has no SMOTE baseline (SMOTE makes rows of a class)"],
        task="regression",
    )


def _with_target(
    train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, contract: Contract, target: str
) -> tuple[list[pd.DataFrame], list[np.ndarray], list[bool], list]:
    """The rows with a target value, and the fixed model's matrices of them (train, synthetic,
    holdout), whatever the task."""
    features = scored_columns(contract, exclude=(target,))
    frames = [f[f[target].notna()] for f in (train, synthetic, holdout)]
    matrices, categorical = tree_matrices(frames, features)
    return frames, matrices, categorical, features


def _unmeasurable(train: pd.Series, holdout: pd.Series, target: str, kind: str) -> str | None:
    """Why these real target values (non-null) cannot measure a lift; None when they can."""
    if train.empty:
        return f"the real training rows have no value of {target!r}"
    if holdout.empty:
        return f"the real holdout has no value of {target!r}: there is nothing to score a model on"
    if holdout.nunique() < 2:
        value = repr(holdout.iloc[0]) if kind == "class" else f"{float(holdout.iloc[0]):g}"
        return f"{target!r} has one {kind} ({value}) in the real holdout: no score can tell models apart"
    return None


def _not_measured(target: str, task: str, frames: tuple[pd.DataFrame, ...], reason: str) -> Lift:
    """A lift the real data cannot measure: no scores, and why."""
    nothing = dict.fromkeys(METRICS if task == "classification" else REGRESSION_METRICS, float("nan"))
    return Lift(
        target=target,
        minority="",
        real=dict(nothing),
        augmented=dict(nothing),
        smote=None,
        rows=_rows(*frames),
        notes=[reason],
        task=task,
        not_measured=reason,
    )


def _rows(train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame) -> dict[str, int]:
    return {"train": len(train), "synthetic": len(synthetic), "holdout": len(holdout)}


def _lift(metric: str, real: float, other: float) -> float:
    """Above 0 is better: a score's gain, or for MAE its relative fall."""
    if metric == "mae":
        return round((real - other) / real, 4) if real else 0.0
    return round(other - real, 4)


def _scores(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    categorical: list[bool],
    seed: int,
    n_classes: int,
    minority: int,
) -> dict[str, float]:
    probabilities = np.zeros((len(x_test), n_classes))
    seen = np.unique(y)
    if len(seen) < 2:  # one class: a model can only ever predict it (sklearn's gives a 2-column proba)
        probabilities[:, seen[0]] = 1.0
        predicted = np.full(len(x_test), seen[0])
    else:
        model = HistGradientBoostingClassifier(
            **FIXED_MODEL, categorical_features=categorical, random_state=seed
        )
        predicted_probabilities = fit_predict(model, x, y, x_test, "predict_proba")
        probabilities[:, model.classes_] = predicted_probabilities
        predicted = model.classes_[np.argmax(predicted_probabilities, axis=1)]
    return {
        "minority_f1": round(float(f1_score(y_test, predicted, labels=[minority], average="macro")), 4),
        "roc_auc": roc_auc_score_of(y_test, probabilities),
        "balanced_accuracy": round(float(balanced_accuracy_score(y_test, predicted)), 4),
    }


def _smote(
    x: np.ndarray, y: np.ndarray, wanted: np.ndarray, categorical: list[bool], seed: int
) -> tuple[tuple[np.ndarray, np.ndarray] | None, list[str]]:
    """The training rows plus SMOTE's new rows (`wanted[k]` rows of class k in all), or None and why."""
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

    counts = np.bincount(y, minlength=len(wanted))
    grow = {int(k): int(wanted[k]) for k in range(len(wanted)) if wanted[k] > counts[k]}
    notes = []
    too_few = [k for k in grow if counts[k] < 2]
    for k in too_few:
        notes.append(f"SMOTE cannot grow a class with {counts[k]} training row(s); it was left as it is")
        del grow[k]
    if not grow:
        return None, [*notes, "SMOTE had no class to grow"]
    if np.count_nonzero(counts) < 2:
        return None, [*notes, "SMOTE needs two classes in the real training rows; they hold one"]
    neighbours = min(SMOTE_NEIGHBOURS, min(counts[k] for k in grow) - 1)
    filled, missing_codes = _filled(x, categorical)
    indices = [j for j, c in enumerate(categorical) if c]
    if not indices:
        sampler = SMOTE(sampling_strategy=grow, k_neighbors=neighbours, random_state=seed)
    elif len(indices) == len(categorical):
        sampler = SMOTEN(sampling_strategy=grow, k_neighbors=neighbours, random_state=seed)
    else:
        sampler = SMOTENC(indices, sampling_strategy=grow, k_neighbors=neighbours, random_state=seed)
    x_all, y_all = sampler.fit_resample(filled, y)
    new = x_all[len(x) :]
    for j, code in missing_codes.items():
        new[new[:, j] == code, j] = np.nan  # "missing" was a category of its own
    return (np.vstack([x, new]), np.concatenate([y, y_all[len(x) :]])), notes


def _filled(x: np.ndarray, categorical: list[bool]) -> tuple[np.ndarray, dict[int, float]]:
    filled = x.copy()
    missing_codes = {}
    for j, is_category in enumerate(categorical):
        gaps = np.isnan(filled[:, j])
        if not gaps.any():
            continue
        if is_category:
            code = float(np.nanmax(filled[:, j]) + 1) if (~gaps).any() else 0.0
            missing_codes[j] = code
            filled[gaps, j] = code
        else:
            filled[gaps, j] = np.nanmedian(filled[:, j]) if (~gaps).any() else 0.0
    return filled, missing_codes
