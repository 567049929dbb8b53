"""Fidelity: how closely synthetic data follows the real training data, as the papers report it.

Column-shape error and column-pair-trend error are 100 × (1 − score) of SDMetrics' quality report
(KS/TV complements per column; correlation/contingency similarity per pair), computed against the
training split. Identifiers and personal-data columns are left out: they are made by rule, not learned.

One correction to the report: a pair of a number (or datetime) and a category is scored on 10 bins of
the number, and SDMetrics documents those bins as the real data's, with open ends, used for both sides
(sdv-dev/SDMetrics#368). Its quality report (0.32) bins the synthetic column on its own range instead,
so a synthetic column whose largest value is 92 where the real one's is 99 has every bin shifted, and
every pair with that column scores as if its trends were lost (Adult's hours-per-week: 57 % error
against 14 % with the real bins). Those pairs are rescored with SDMetrics' own ContingencySimilarity
and its real-data bins; every other pair and every column keeps the report's score.

One more correction, for synthetic columns the report cannot score and would silently leave out of the
averages: a column with real values but no synthetic value scores 0 (100 % error), as does a pair with
real rows holding both values but no such synthetic row. A figure the real data cannot give (no scored
column with values, no pair that varies) stays NaN, and `Fidelity.not_measured` says why.

Detection is a classifier two-sample test: a gradient-boosting classifier learns to tell real holdout
rows from synthetic rows (equal numbers of each, 3-fold cross-validated); its ROC AUC is 0.5 when it
cannot, 1.0 when every row gives itself away. Unlike the two errors above it sees every interaction
between columns at once (a column-wise shuffle keeps every shape, but not its rows). The same test on
one column at a time says which columns give the synthetic rows away.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from synthwright.data_contracts.model import Contract
from synthwright.data_contracts.sdv_metadata import sdv_columns
from synthwright.validators.features import model_threads, scored_columns, tree_matrices

_TABLE = "table"
FIDELITY_MAX_ROWS = 200_000
"""Rows per side (real, synthetic) the shape and trend errors are scored on; a larger table is scored
on a seeded sample of this many rows, and `Fidelity.rows` says so. SDMetrics' quality report costs time
and memory in proportion to the rows (every column and every pair, 1,000 categories included): 800,000
train against 1,000,000 synthetic rows of 20 columns took 26 s on 2 cores, against 5 s at 100,000. At
200,000 rows a column's KS or TV statistic moves by about 0.1 to 0.3 percentage points from sampling
alone, well below the gates; the real holdout's reference figure is scored on the same cap, so it still
shows the noise floor of what was scored."""
DETECTION_MAX_ROWS = 20_000
"""Rows per side in the detection test (real holdout and synthetic, sampled to equal size)."""
DETECTION_FOLDS = 3


@dataclass(frozen=True)
class Fidelity:
    shape_error: float
    trend_error: float
    column_errors: dict[str, float] = field(default_factory=dict)
    pair_errors: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    """Rows scored per side (`real`, `synthetic`); `sampled`: a side was larger than the cap."""
    not_measured: dict[str, str] = field(default_factory=dict)
    """Why the real data cannot give a figure (`shape`, `trend`): the figure is NaN."""

    def to_dict(self) -> dict:
        return {
            "shape_error": self.shape_error,
            "trend_error": self.trend_error,
            "column_errors": self.column_errors,
            "pair_errors": self.pair_errors,
            "rows": self.rows,
            **({"not_measured": self.not_measured} if self.not_measured else {}),
        }


@dataclass(frozen=True)
class Detection:
    auc: float
    rows_per_side: int
    column_auc: dict[str, float] = field(default_factory=dict)
    not_measured: str | None = None
    """Why no classifier could be trained (no scored column): the AUC is NaN."""

    def to_dict(self) -> dict:
        return {
            "auc": self.auc,
            "rows_per_side": self.rows_per_side,
            "column_auc": self.column_auc,
            **({"not_measured": self.not_measured} if self.not_measured else {}),
        }


def detection(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    max_rows: int = DETECTION_MAX_ROWS,
    per_column: bool = True,
) -> Detection:
    """Cross-validated ROC AUC of a classifier telling `real` rows from `synthetic` rows."""
    rng = np.random.default_rng(seed)
    size = min(len(real), len(synthetic), max_rows)
    real = real.iloc[np.sort(rng.choice(len(real), size, replace=False))]
    synthetic = synthetic.iloc[np.sort(rng.choice(len(synthetic), size, replace=False))]
    columns = scored_columns(contract)
    (x_real, x_synthetic), categorical = tree_matrices([real, synthetic], columns)
    features = np.vstack([x_real, x_synthetic])
    labels = np.r_[np.zeros(size), np.ones(size)]
    folds = min(DETECTION_FOLDS, size)
    if not columns:
        reason = "the contract has no scored column (identifiers and personal data are not compared)"
        return Detection(auc=float("nan"), rows_per_side=size, not_measured=reason)
    if folds < 2:
        return Detection(auc=float("nan"), rows_per_side=size)
    auc = _detection_auc(features, labels, categorical, folds, seed, max_iter=100)
    column_auc = {}
    if per_column:
        for j, column in enumerate(columns):
            column_auc[column.name] = _detection_auc(
                features[:, [j]], labels, [categorical[j]], folds, seed, max_iter=30
            )
    return Detection(auc=auc, rows_per_side=size, column_auc=column_auc)


def _detection_auc(
    features: np.ndarray, labels: np.ndarray, categorical: list[bool], folds: int, seed: int, max_iter: int
) -> float:
    model = HistGradientBoostingClassifier(
        max_iter=max_iter, categorical_features=categorical, random_state=seed
    )
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings(), model_threads(len(labels)):
        warnings.simplefilter("ignore", UserWarning)  # e.g. a category column with >255 levels
        scores = cross_val_predict(model, features, labels, cv=splits, method="predict_proba")[:, 1]
    return round(float(roc_auc_score(labels, scores)), 4)


def fidelity(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    max_rows: int | None = FIDELITY_MAX_ROWS,
) -> Fidelity:
    """Shape and trend errors (percent) of `synthetic` against `real`; per column and per pair too.

    A side with more than `max_rows` rows is scored on a seeded sample of that many (None: every row).
    """
    from sdmetrics.reports import QualityReport

    rng = np.random.default_rng(seed)
    sampled = max_rows is not None and max(len(real), len(synthetic)) > max_rows
    real, synthetic = _capped(real, max_rows, rng), _capped(synthetic, max_rows, rng)
    columns = sdv_columns(contract)
    metadata = {"tables": {_TABLE: {"columns": columns}}}
    names = list(columns)
    plain_real, plain_synthetic = _for_sdmetrics(real[names]), _for_sdmetrics(synthetic[names])
    report = QualityReport()
    # Score every pair, as the papers' SDMetrics did: since 0.2x SDMetrics skips pairs whose real
    # correlation is below 0.5 (Cramér's V below 0.3), which on Adult leaves 13 of 105 pairs.
    report.real_correlation_threshold = 0
    report.real_association_threshold = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SDMetrics warns per pair it cannot score (e.g. constant columns)
        report.generate(
            {_TABLE: plain_real},
            {_TABLE: plain_synthetic},
            metadata,
            verbose=False,
        )
    scores = dict(zip(report.get_properties()["Property"], report.get_properties()["Score"], strict=True))
    shapes = report.get_details("Column Shapes")
    column_scores = {row.Column: float(row.Score) for row in shapes.itertuples()}
    lost = [
        name
        for name, score in column_scores.items()
        if np.isnan(score) and plain_real[name].notna().any() and plain_synthetic[name].isna().all()
    ]
    shape = scores["Column Shapes"]
    if lost:  # the report leaves a column it cannot score out of its average: a lost column scores 0
        column_scores.update(dict.fromkeys(lost, 0.0))
        shape = float(np.nanmean(list(column_scores.values())))
    pairs = _pair_scores(report.get_details("Column Pair Trends"), plain_real, plain_synthetic, columns)
    measured_pairs = [v for v in pairs.values() if not np.isnan(v)]
    trend = float(np.mean(measured_pairs)) if measured_pairs else float("nan")
    not_measured = {}
    if pd.isna(shape):
        no_values = "no scored column has a value in the real data"
        not_measured["shape"] = no_values if names else "the contract has no scored column"
    if np.isnan(trend):
        not_measured["trend"] = (
            "no pair of scored columns can be compared in the real data (fewer than two scored columns "
            "that vary)"
        )
    return Fidelity(
        shape_error=_error(shape),
        trend_error=_error(trend),
        column_errors={name: _error(score) for name, score in column_scores.items()},
        pair_errors={f"{a} ~ {b}": _error(score) for (a, b), score in pairs.items()},
        rows={"real": len(real), "synthetic": len(synthetic), "sampled": sampled},
        not_measured=not_measured,
    )


def _pair_scores(
    details: pd.DataFrame, real: pd.DataFrame, synthetic: pd.DataFrame, columns: dict[str, dict]
) -> dict[tuple[str, str], float]:
    """The report's pair scores, with number × category pairs rescored on the real data's bins."""
    from sdmetrics.column_pairs import ContingencySimilarity

    continuous = {name for name, meta in columns.items() if meta["sdtype"] in ("numerical", "datetime")}
    real, synthetic = _numbers_for_bins(real, continuous), _numbers_for_bins(synthetic, continuous)
    scores = {}
    for a, b, score in zip(details["Column 1"], details["Column 2"], details["Score"], strict=True):
        binned = a if a in continuous else b
        if (a in continuous) != (b in continuous) and pd.notna(score) and real[binned].notna().any():
            score = ContingencySimilarity.compute(
                real[[a, b]], synthetic[[a, b]], continuous_column_names=[binned], num_discrete_bins=10
            )
        score = float(score)
        if np.isnan(score) and _lost_pair(real[[a, b]], synthetic[[a, b]]):
            score = 0.0
        scores[(a, b)] = score
    return scores


def _lost_pair(real: pd.DataFrame, synthetic: pd.DataFrame) -> bool:
    """Real rows hold both values of the pair together (it could be scored) and no synthetic row does."""
    return len(real.dropna()) >= 2 and synthetic.dropna().empty


def _numbers_for_bins(frame: pd.DataFrame, continuous: set[str]) -> pd.DataFrame:
    """Numbers as float and datetimes as float microseconds (nulls NaN): what the bins are cut on.
    Microseconds hold every year from 1 to 9999, whichever unit a frame holds its datetimes in."""
    out = frame.copy()
    for name in continuous:
        values = out[name]
        if pd.api.types.is_datetime64_any_dtype(values):
            micros = values.to_numpy(dtype="datetime64[us]").view("int64").astype("float64")
            out[name] = pd.Series(np.where(values.isna(), np.nan, micros), index=values.index)
        else:
            out[name] = pd.to_numeric(values, errors="coerce").astype("float64")
    return out


def _capped(frame: pd.DataFrame, max_rows: int | None, rng: np.random.Generator) -> pd.DataFrame:
    """`frame` itself when it fits, else a seeded sample of `max_rows` rows in their original order."""
    if max_rows is None or len(frame) <= max_rows:
        return frame
    return frame.iloc[np.sort(rng.choice(len(frame), max_rows, replace=False))]


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
