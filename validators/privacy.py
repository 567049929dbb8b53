"""Privacy: do the synthetic rows give away the real rows they were learned from?

Every test compares the training rows with real rows the generator never saw (the holdout), at equal
size: a random sample of the training split as large as the holdout (both capped at `max_rows`). A
generator that learned the population, not its rows, treats both alike.

- **DCR share**: for each synthetic row, is its closest real row (distance to closest record) in the
  train sample or in the holdout? The share that is closer to train; 0.5 ideal, ties count half. A
  95 % bootstrap interval over synthetic rows comes with it. Only copies of the *sampled* train rows
  count as closer, so a pure copier scores about 0.5 + 0.5 × holdout/train (0.63 at 80/20, 0.55 at
  90/10): with a small holdout, exact matches and the attack below are the sharper tests.
- **Exact matches**: share of synthetic rows equal (in every scored column) to some train row, and the
  same against the holdout; the excess (train − holdout, percentage points) is what copying adds.
- **NNDR**: nearest / second-nearest train distance per synthetic row (median). Near 0: a synthetic
  row sits on one particular real row. Shown beside the holdout's own NNDR against train.
- **Membership inference**: an attacker who holds the synthetic data ranks real rows by their distance
  to the closest synthetic row, guessing "was in training" for the closest. ROC AUC of that guess on
  train sample (members) vs holdout (non-members); 0.5 = no better than a coin.
- **PII verbatim**: values of columns the contract marks as personal data that appear unchanged in the
  synthetic output (they must be faked, never copied).
- **Rare-value leaks**: synthetic cells of category, text and code (an integer column of at most
  `CODE_VALUES` distinct values) columns equal to a training value held by
  fewer than k training rows (the column's rare-value protection, `RareValues`) that the holdout does
  not hold either. Row-level tests cannot see these: a rare name copied into otherwise new rows passes
  all of them. Columns whose contract allows rare values (`rare: {min_rows: 1}`) are not counted.
- **Text copy rate**: per free-text column, the share of synthetic texts equal to some training text,
  beside the holdout's own share (real texts repeat: "n/a", templates); the excess is what copying adds.

Distances live in `features.DistanceSpace` (every column weighs the same; nulls are a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from synthwright.data_contracts.model import LABEL_KINDS, ColumnKind, Contract, RareValues, is_code
from synthwright.data_contracts.sdv_metadata import modelled
from synthwright.validators.features import DistanceSpace, nearest_distances, row_keys, scored_columns

MAX_ROWS = 100_000
"""Each side (train sample, holdout, synthetic) is sampled down to this many rows; the sizes are reported."""
ATTACK_ROWS = 10_000
"""Real rows per side the membership attack (and the holdout's own NNDR) is scored on: plenty for an
AUC (standard error under 0.005) and it keeps 100k-row evaluations to two full nearest-neighbour passes."""
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class Privacy:
    dcr_share: float
    dcr_share_interval: tuple[float, float]
    exact_match_train: float
    exact_match_holdout: float
    nndr_median: float
    nndr_median_holdout: float
    mia_auc: float
    pii_verbatim: dict[str, int]
    rows: dict[str, int]
    """Rows compared: synthetic, train (a sample as large as the holdout), holdout, attack (per side);
    `sampled`: some table was larger than `max_rows` and was sampled down to it."""
    dcr_train: np.ndarray = field(repr=False, compare=False)
    dcr_holdout: np.ndarray = field(repr=False, compare=False)
    rare_value_leaks: dict[str, int] = field(default_factory=dict)
    """Per protected category/text column: synthetic cells equal to a rare training value."""
    text_copies: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per free-text column: `synthetic` and `holdout` shares of texts equal to a training text."""

    @property
    def exact_match_excess(self) -> float:
        """Percentage points of synthetic rows that match training rows beyond what chance gives."""
        return round(100.0 * (self.exact_match_train - self.exact_match_holdout), 3)

    def to_dict(self) -> dict:
        return {
            "dcr_share": self.dcr_share,
            "dcr_share_interval": list(self.dcr_share_interval),
            "exact_match_train": self.exact_match_train,
            "exact_match_holdout": self.exact_match_holdout,
            "exact_match_excess_pp": self.exact_match_excess,
            "nndr_median": self.nndr_median,
            "nndr_median_holdout": self.nndr_median_holdout,
            "mia_auc": self.mia_auc,
            "pii_verbatim": self.pii_verbatim,
            "rare_value_leaks": self.rare_value_leaks,
            "text_copies": self.text_copies,
            "rows": self.rows,
        }


def privacy(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    max_rows: int = MAX_ROWS,
    rare_values: RareValues | None = None,
    whole: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> Privacy:
    """All privacy figures of `synthetic`, learned from `train`, with `holdout` as the unseen control.
    `rare_values` is the run's default protection (a column's `rare` entry wins). `whole`: the whole
    train and holdout splits when `train`/`holdout` are a part of them (an augmentation's group):
    a value is rare in what the generator learned from, not in the group it is compared with."""
    rng = np.random.default_rng(seed)
    size = min(len(train), len(holdout), max_rows)
    train_ref = _sample(train, size, rng)
    holdout_ref = _sample(holdout, size, rng)
    synthetic_rows = _sample(synthetic, min(len(synthetic), max_rows), rng)

    columns = scored_columns(contract)
    space = DistanceSpace(pd.concat([train_ref, holdout_ref], ignore_index=True), columns)
    train_points = space.transform(train_ref)
    holdout_points = space.transform(holdout_ref)
    synthetic_points = space.transform(synthetic_rows)

    to_train = nearest_distances(synthetic_points, train_points, k=2)
    to_holdout = nearest_distances(synthetic_points, holdout_points, k=1)[:, 0]
    closer = np.sign(to_holdout - to_train[:, 0])  # +1 closer to train, 0 tie, -1 closer to holdout
    counts = np.array([(closer > 0).sum(), (closer == 0).sum(), (closer < 0).sum()])
    attack_rows = rng.choice(size, min(size, ATTACK_ROWS), replace=False)
    holdout_to_train = nearest_distances(holdout_points[attack_rows], train_points, k=2)

    # membership inference: real rows closest to the synthetic data are guessed to be training rows
    members, non_members = train_points[attack_rows], holdout_points[attack_rows]
    attack = nearest_distances(np.vstack([members, non_members]), synthetic_points, k=1)[:, 0]
    membership = np.r_[np.ones(len(members)), np.zeros(len(non_members))]

    synthetic_keys = row_keys(synthetic_rows, columns)
    pii = [c.name for c in contract.columns if c.pii is not None]
    return Privacy(
        dcr_share=_share(counts),
        dcr_share_interval=_bootstrap_interval(counts, rng),
        exact_match_train=_rounded(np.isin(synthetic_keys, row_keys(train_ref, columns)).mean()),
        exact_match_holdout=_rounded(np.isin(synthetic_keys, row_keys(holdout_ref, columns)).mean()),
        nndr_median=_rounded(np.median(_nndr(to_train))),
        nndr_median_holdout=_rounded(np.median(_nndr(holdout_to_train))),
        mia_auc=_rounded(roc_auc_score(membership, -attack)),
        pii_verbatim=pii_verbatim(pd.concat([train[pii], holdout[pii]]), synthetic, contract),
        rare_value_leaks=rare_value_leaks(
            *(whole or (train, holdout)), synthetic, contract, rare_values or RareValues()
        ),
        text_copies=text_copies(*(whole or (train, holdout)), synthetic, contract),
        rows={
            "synthetic": len(synthetic_rows),
            "train": size,
            "holdout": size,
            "attack": len(attack_rows),
            "sampled": bool(max(len(synthetic), len(holdout), len(train)) > max_rows),
        },
        dcr_train=to_train[:, 0],
        dcr_holdout=to_holdout,
    )


def pii_verbatim(real: pd.DataFrame, synthetic: pd.DataFrame, contract: Contract) -> dict[str, int]:
    """Per personal-data column: how many synthetic values appear verbatim among the real values."""
    found = {}
    for column in contract.columns:
        if column.pii is None or column.name not in synthetic:
            continue
        real_values = set(real[column.name].dropna().astype(str))
        values = synthetic[column.name].dropna().astype(str)
        found[column.name] = int(values.isin(real_values).sum())
    return found


def rare_value_leaks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    default: RareValues,
) -> dict[str, int]:
    """Per category/text/code column under protection: synthetic cells equal to a value held by fewer
    than k training rows and by no holdout row (a code: an integer column of at most CODE_VALUES
    distinct training values)."""
    found = {}
    for column in contract.columns:
        policy = column.rare or default
        protected = column.kind in LABEL_KINDS or is_code(column, train[column.name])
        if not protected or not modelled(column) or policy.off:
            continue
        counts = train[column.name].dropna().astype(str).value_counts()
        rare = set(counts.index[counts < policy.min_rows]) - set(holdout[column.name].dropna().astype(str))
        found[column.name] = int(synthetic[column.name].dropna().astype(str).isin(rare).sum())
    return found


def text_copies(
    train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, contract: Contract
) -> dict[str, dict[str, float]]:
    """Per free-text column: shares of synthetic and of holdout texts that equal some training text."""
    found = {}
    for column in contract.columns:
        if column.kind is not ColumnKind.TEXT or not modelled(column):
            continue
        known = set(train[column.name].dropna().astype(str))
        shares = {}
        for side, frame in (("synthetic", synthetic), ("holdout", holdout)):
            texts = frame[column.name].dropna().astype(str)
            shares[side] = _rounded(texts.isin(known).mean()) if len(texts) else 0.0
        found[column.name] = shares
    return found


def _sample(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= size:
        return frame.reset_index(drop=True)
    return frame.iloc[np.sort(rng.choice(len(frame), size, replace=False))].reset_index(drop=True)


def _nndr(distances: np.ndarray) -> np.ndarray:
    """nearest / second nearest; 0 when the row sits exactly on a real row, 1 when both are equally far."""
    first, second = distances[:, 0], distances[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(second > 0, first / second, np.where(first > 0, 1.0, 0.0))
    return ratio


def _share(counts: np.ndarray) -> float:
    return _rounded((counts[0] + 0.5 * counts[1]) / max(int(counts.sum()), 1))


def _bootstrap_interval(counts: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95 % percentile interval of the DCR share, resampling synthetic rows (as category counts)."""
    total = int(counts.sum())
    if total == 0:
        return (float("nan"), float("nan"))
    draws = rng.multinomial(total, counts / total, size=BOOTSTRAP_RESAMPLES)
    shares = (draws[:, 0] + 0.5 * draws[:, 1]) / total
    low, high = np.percentile(shares, [2.5, 97.5])
    return (_rounded(low), _rounded(high))


def _rounded(value: float) -> float:
    return round(float(value), 4)
