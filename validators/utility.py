"""Utility: does a model trained on the synthetic rows work on real rows?

TSTR (train on synthetic, test on real) against TRTR (train on real, test on real): the same fixed
model is trained once on the synthetic rows and once on the real training split, and both are scored
on the real holdout, which neither saw. The gap TRTR − TSTR is what the synthetic data costs a model.

The fixed model is scikit-learn's HistGradientBoostingClassifier / HistGradientBoostingRegressor with
200 boosting rounds, learning rate 0.1, native handling of categories and nulls, and a fixed seed; no
tuning, so that scores compare across runs and generators. Features are every scored column but the
target (identifiers and personal data are not features).

Classification: ROC AUC (binary; one-vs-rest macro average for more classes) and macro F1.
Regression: R².

Some real data cannot measure utility at all: a target with one class (or one value) in the real
training rows teaches a model nothing, a holdout with one class has no ROC AUC, a holdout without
target values has nothing to score. Then no model is fitted and `Utility.not_measured` says why; the
scorecard shows the gap as not measured rather than as a 0.000 that passes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import f1_score, r2_score, roc_auc_score

from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.validators.features import is_categorical, model_threads, scored_columns, tree_matrices

Task = Literal["classification", "regression"]
MAX_TRAIN_ROWS = 100_000
"""Rows (with a target value) the fixed model is trained on, from the real train split and from the
synthetic rows alike; a larger side is a seeded sample of this many, and `Utility.rows` says so. 200
boosting rounds on 100,000 rows take seconds and the scores have settled well before that size; the
holdout the models are scored on is never sampled."""
FIXED_MODEL = {"max_iter": 200, "learning_rate": 0.1}
MODEL_DESCRIPTION = (
    "HistGradientBoosting{Classifier,Regressor}(max_iter=200, learning_rate=0.1, seed) on every scored "
    "column but the target; scored on the real holdout"
)


@dataclass(frozen=True)
class Utility:
    target: str
    task: Task
    real: dict[str, float]
    """TRTR scores: trained on the real training split."""
    synthetic: dict[str, float]
    """TSTR scores: trained on the synthetic rows."""
    model: str = MODEL_DESCRIPTION
    rows: dict[str, int] = field(default_factory=dict)
    """Rows used: `train` and `synthetic` (trained on), `holdout` (scored on); `sampled`: a training side
    had more than `MAX_TRAIN_ROWS` rows with a target value."""
    not_measured: str | None = None
    """Why the real data cannot measure utility (then every score is NaN); None when it was measured."""

    @property
    def headline(self) -> str:
        """The metric the gate compares: ROC AUC for classification, R² for regression."""
        return "roc_auc" if self.task == "classification" else "r2"

    @property
    def gap(self) -> float:
        if self.not_measured:
            return float("nan")
        return round(self.real[self.headline] - self.synthetic[self.headline], 4)

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "task": self.task,
            "model": self.model,
            "trtr": self.real,
            "tstr": self.synthetic,
            "headline": self.headline,
            "gap": self.gap,
            "rows": self.rows,
            **({"not_measured": self.not_measured} if self.not_measured else {}),
        }


def infer_task(contract: Contract, target: str) -> Task:
    column = contract.column(target)
    if column.kind in (ColumnKind.INTEGER, ColumnKind.FLOAT):
        return "regression"
    if column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        return "classification"
    raise ConfigError(
        f"target column {target!r} is {column.kind.value}: utility needs a categorical, boolean or "
        "numeric target",
        hint="choose another --target, or leave it out to skip the utility test",
    )


def utility(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    target: str,
    *,
    task: Task | None = None,
    seed: int = 0,
) -> Utility:
    """TSTR and TRTR scores of the fixed model on the real holdout."""
    if target not in contract.names:
        raise ConfigError(
            f"target column {target!r} is not in the contract", hint=f"columns: {contract.names}"
        )
    task = task or infer_task(contract, target)
    if task == "classification" and not is_categorical(contract.column(target)):
        raise ConfigError(
            f"target column {target!r} is {contract.column(target).kind.value}: not a class label",
            hint="use --task regression, or a categorical or boolean target",
        )
    features = scored_columns(contract, exclude=(target,))
    rng = np.random.default_rng(seed)
    labelled = int(max(train[target].notna().sum(), synthetic[target].notna().sum()))
    train = _labelled(train, target, rng)
    synthetic = _labelled(synthetic, target, rng)
    holdout = holdout[holdout[target].notna()]
    rows = {
        "train": len(train),
        "synthetic": len(synthetic),
        "holdout": len(holdout),
        "sampled": labelled > MAX_TRAIN_ROWS,
    }
    reason = unmeasurable(train[target], holdout[target], target, task)
    if reason:
        nothing = dict.fromkeys(["roc_auc", "macro_f1"] if task == "classification" else ["r2"], math.nan)
        return Utility(target, task, dict(nothing), dict(nothing), rows=rows, not_measured=reason)
    (x_train, x_synthetic, x_holdout), categorical = tree_matrices([train, synthetic, holdout], features)
    if task == "classification":
        labels = pd.Index(
            sorted(set().union(*(set(_labels(f[target])) for f in (train, synthetic, holdout))))
        )
        score = _classification_scores
        y = [labels.get_indexer(_labels(f[target])) for f in (train, synthetic, holdout)]
        extra = {"classes": labels}
    else:
        score = _regression_scores
        y = [f[target].astype("float64").to_numpy() for f in (train, synthetic, holdout)]
        extra = {}
    return Utility(
        target=target,
        task=task,
        real=score(x_train, y[0], x_holdout, y[2], categorical, seed, **extra),
        synthetic=score(x_synthetic, y[1], x_holdout, y[2], categorical, seed, **extra),
        rows=rows,
    )


def unmeasurable(train: pd.Series, holdout: pd.Series, target: str, task: Task) -> str | None:
    """Why these real target values (non-null) cannot measure what a model learns; None when they can.

    Only the real side counts: synthetic rows that teach nothing are what the gap is there to show."""
    kind = "class" if task == "classification" else "value"
    values = [_labels(s) if task == "classification" else s.astype("float64") for s in (train, holdout)]
    if values[0].empty:
        return f"the real training rows have no value of {target!r}: nothing to compare synthetic rows with"
    if values[1].empty:
        return f"the real holdout has no value of {target!r}: there is nothing to score a model on"
    for side, series in zip(("training rows", "holdout"), values, strict=True):
        distinct = series.unique()
        if len(distinct) < 2:
            why = (
                "a model learns nothing from it"
                if side == "training rows"
                else "ROC AUC needs two classes"
                if task == "classification"
                else "R² needs values that vary"
            )
            value = repr(distinct[0]) if task == "classification" else f"{float(distinct[0]):g}"
            return f"{target!r} has one {kind} ({value}) in the real {side}: {why}"
    return None


def _labelled(frame: pd.DataFrame, target: str, rng: np.random.Generator) -> pd.DataFrame:
    """The rows with a target value, at most MAX_TRAIN_ROWS of them (positions first: one copy only)."""
    kept = np.flatnonzero(frame[target].notna().to_numpy())
    if len(kept) > MAX_TRAIN_ROWS:
        kept = kept[np.sort(rng.choice(len(kept), MAX_TRAIN_ROWS, replace=False))]
    return frame.iloc[kept]


def _labels(series: pd.Series) -> pd.Series:
    return series.astype(object).map(str)


def _classification_scores(
    x: np.ndarray,
    y: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    categorical: list[bool],
    seed: int,
    classes: pd.Index,
) -> dict[str, float]:
    seen = np.unique(y)
    if len(seen) < 2:  # one class only: the model can only ever predict it
        predicted = np.full(len(y_test), seen[0] if len(seen) else -1)
        return {"roc_auc": 0.5, "macro_f1": _f1(y_test, predicted)}
    model = HistGradientBoostingClassifier(**FIXED_MODEL, categorical_features=categorical, random_state=seed)
    predicted_probabilities = fit_predict(model, x, y, x_test, "predict_proba")
    probabilities = np.zeros((len(x_test), len(classes)))
    probabilities[:, model.classes_] = predicted_probabilities
    predicted = model.classes_[np.argmax(predicted_probabilities, axis=1)]
    return {"roc_auc": roc_auc_score_of(y_test, probabilities), "macro_f1": _f1(y_test, predicted)}


def fit_predict(model: Any, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, method: str) -> np.ndarray:
    with warnings.catch_warnings(), model_threads(len(x)):
        warnings.simplefilter("ignore", UserWarning)  # e.g. a category column with >255 levels
        model.fit(x, y)
        return getattr(model, method)(x_test)


def roc_auc_score_of(y_test: np.ndarray, probabilities: np.ndarray) -> float:
    present = np.unique(y_test)
    if len(present) < 2:
        return float("nan")
    if probabilities.shape[1] == 2:
        return round(float(roc_auc_score(y_test, probabilities[:, 1])), 4)
    scores = [roc_auc_score(y_test == k, probabilities[:, k]) for k in present]  # one-vs-rest, macro
    return round(float(np.mean(scores)), 4)


def _f1(y_test: np.ndarray, predicted: np.ndarray) -> float:
    labels = np.unique(y_test)
    return round(float(f1_score(y_test, predicted, labels=labels, average="macro", zero_division=0)), 4)


def _regression_scores(
    x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, categorical: list[bool], seed: int
) -> dict[str, float]:
    if len(y) == 0:  # synthetic rows without a target value: no model to score (the gap fails its gate)
        return {"r2": math.nan}
    model = HistGradientBoostingRegressor(**FIXED_MODEL, categorical_features=categorical, random_state=seed)
    predicted = fit_predict(model, x, y, x_test, "predict")
    return {"r2": round(float(r2_score(y_test, predicted)), 4)}
