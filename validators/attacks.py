"""Privacy attacks: how much more can an attacker who holds the synthetic data learn about the people
it was learned from than about people it never saw?

The three attacks of anonymeter (Giomi et al. 2022, "A Unified Framework for Quantifying Privacy Risk
in Synthetic Data"), the three risks the EU's Article 29 working party names, written here on the
contract's columns. Each attack runs three times:

- **main**: with the synthetic data, against the training rows (the people the generator learned);
- **control**: the same attack against the holdout (people the generator never saw): what the
  synthetic data teaches about the population, which is its purpose, not a leak;
- **baseline**: a naive attacker who guesses at random; a main attack no better than it says nothing.

Success rates are Wilson score estimates; the **risk** is the excess of the main attack over the
control, as a share of what the control left to gain: (main − control) / (1 − control), its 95 %
interval propagated from both rates' errors, and both clipped to [0, 1] (anonymeter's definitions).
0: the synthetic data tells no more about the training rows than about anyone else; 1: every attack
on a training row that failed on an unseen one succeeded.

- **Singling out**: predicates built from synthetic rows that match exactly one synthetic row: a rare
  value, a numeric column's extreme, a single null (univariate), or a combination of `n_cols` (3) of
  a row's values, "≥" for numbers above the median and "≤" below it, "=" for categories
  (multivariate). Success: the predicate matches exactly one row of the target table (duplicate rows
  counted once). The target tables are whole, train against holdout, so the control's count is
  scaled to the train's size by a model of how singling out depends on table size, fitted on
  subsets of the holdout (anonymeter's procedure; see `_size_correction` for the model). The figure
  is the worse of the two kinds; `parts` holds both. `n_attacks` is the predicates found, fewer than
  asked when the synthetic table holds fewer.
- **Linkability**: the scored columns split into two halves (first and second half, or `aux_cols`),
  as if two tables held them. For each target row the nearest synthetic rows on each half are found;
  success: one synthetic row is among the `n_neighbors` (1) nearest on both halves, so it links them.
- **Attribute inference**: for each secret column, the attacker knows a target's other columns,
  takes the nearest synthetic row and guesses its secret value. Correct: equal (categories, dates,
  nulls), or within 5 % of the guess (numbers). The figure is the most exposed secret's (the
  maximum; with several secrets it runs above zero by chance alone, ≈ 0.05–0.15 at 300 attacks);
  `parts` holds each column's.

Targets for linkability and inference are `n_attacks` rows sampled from train and from the holdout;
synthetic rows are capped at 100,000. Nearest rows are searched in `features.DistanceSpace` (every
column weighs the same; a null is a value); ties go to one fixed random order of the synthetic rows.

Where this differs from anonymeter 1.1, on purpose: distances are Euclidean over the distance space,
not its Gower-like L1 (which also counts two nulls as a mismatch); the 5 % tolerance is taken on the
guess's magnitude (anonymeter divides by the signed guess, so every negative guess is "correct");
a number secret is always scored with the tolerance (anonymeter 1.1 defaults to exact equality);
singling out treats dates as ordered values like numbers (anonymeter compares them with strings);
rates are taken over the attacks made; and the size model (above).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import OptimizeWarning, curve_fit

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators.features import DistanceSpace, as_float, as_labels, is_categorical, scored_columns

MAX_ROWS = 100_000
"""Synthetic rows (and each whole target table singling out runs on) are sampled down to this many."""
MAX_SECRETS = 8
"""Secret columns attribute inference tries when none are named: spread evenly over the scored columns."""
N_COLS = 3
"""Columns a multivariate singling-out predicate combines (anonymeter's default)."""
TOLERANCE = 0.05
"""A numeric guess is correct within this share of the guessed value (anonymeter's default)."""
MAX_QUERY_ATTEMPTS = 1000
"""Multivariate predicates tried per attack wanted before giving up (anonymeter tries up to 10 million)."""
CONFIDENCE = 0.95
SizeModel = Literal["saturating", "anonymeter"]
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
_BIG = np.finfo("float64").max
"""Upper end of "≥ v": every number, but not a null (nulls are +inf in the encoding below)."""
_BATCH = 1_000
_CANDIDATE_BUDGET = 2_000_000
_NAN = float("nan")


@dataclass(frozen=True)
class AttackRisk:
    """One attack's result; rates are Wilson estimates, the risk is clipped to [0, 1] (NaN: not run)."""

    risk: float
    interval: tuple[float, float]
    main_rate: float
    control_rate: float
    baseline_rate: float
    n_attacks: int
    parts: dict[str, AttackRisk] = field(default_factory=dict)
    """The sub-attacks this record is the worst of, each a record of its own: per secret column
    (attribute inference), per predicate kind (singling out: univariate, multivariate)."""
    note: str | None = None

    @property
    def part_risks(self) -> dict[str, float]:
        """Risk per part: per secret column for attribute inference."""
        return {name: part.risk for name, part in self.parts.items()}

    def to_dict(self) -> dict:
        out: dict = {
            "risk": self.risk,
            "interval": list(self.interval),
            "main_rate": self.main_rate,
            "control_rate": self.control_rate,
            "baseline_rate": self.baseline_rate,
            "n_attacks": self.n_attacks,
            "note": self.note,
        }
        if self.parts:
            out["parts"] = {name: part.to_dict() for name, part in self.parts.items()}
        return out


@dataclass(frozen=True)
class Attacks:
    singling_out: AttackRisk
    linkability: AttackRisk
    attribute_inference: AttackRisk
    rows: dict[str, int]
    """Rows used: synthetic, train and holdout (singling out, after dropping duplicates), targets (per
    side, linkability and inference)."""

    def to_dict(self) -> dict:
        return {
            "singling_out": self.singling_out.to_dict(),
            "linkability": self.linkability.to_dict(),
            "attribute_inference": self.attribute_inference.to_dict(),
            "rows": dict(self.rows),
        }


def attack_risks(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    seed: int = 0,
    n_attacks: int = 500,
    secrets: Sequence[str] | None = None,
    aux_cols: tuple[Sequence[str], Sequence[str]] | None = None,
    n_neighbors: int = 1,
    n_cols: int = N_COLS,
    max_secrets: int = MAX_SECRETS,
    size_model: SizeModel = "saturating",
) -> Attacks:
    """Singling-out, linkability and attribute-inference risk of `synthetic` (learned from `train`).

    `secrets`: the columns attribute inference tries to guess (default: the scored columns, at most
    `max_secrets` of them, spread evenly); its risk is the maximum over them. `aux_cols`: the two
    halves linkability splits the columns into (default: first and second half of the scored ones).
    `size_model`: how singling out scales the control's count to the train's size (see
    `_size_correction`; "anonymeter" reproduces anonymeter's model).
    """
    columns = scored_columns(contract)
    names = [c.name for c in columns]
    by_name = {c.name: c for c in columns}
    for name in [*(secrets or ()), *(n for half in (aux_cols or ()) for n in half)]:
        if name not in by_name:
            raise ValueError(f"{name!r} is not a scored column of the contract: {names}")
    if n_attacks < 1 or n_neighbors < 1 or n_cols < 1:
        raise ValueError("n_attacks, n_neighbors and n_cols must be at least 1")
    if size_model not in ("saturating", "anonymeter"):
        raise ValueError(f"size_model must be 'saturating' or 'anonymeter', not {size_model!r}")
    size = min(n_attacks, len(train), len(holdout))
    missing = _missing_input(columns, train, holdout, synthetic)
    if missing:
        empty = _not_run(missing)
        rows = {"synthetic": len(synthetic), "train": len(train), "holdout": len(holdout), "targets": size}
        return Attacks(empty, empty, empty, rows)

    sampling, singling, linking, inferring = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
    )
    # a random order of the synthetic rows: nearest-neighbour ties go to the first in it
    synthetic_rows = _sample(synthetic, min(len(synthetic), MAX_ROWS), sampling, keep_order=False)
    train_rows = _sample(train, min(len(train), MAX_ROWS), sampling)
    holdout_rows = _sample(holdout, min(len(holdout), MAX_ROWS), sampling)
    train_targets = _sample(train_rows, size, sampling)
    holdout_targets = _sample(holdout_rows, size, sampling)

    singling_out, rows = _singling_out(
        synthetic_rows, train_rows, holdout_rows, columns, n_attacks, n_cols, size_model, singling
    )
    if len(columns) < 2:
        linkability = _not_run("linkability needs at least two scored columns, one per auxiliary half")
        inference = _not_run("attribute inference needs at least two scored columns: a secret and a clue")
    else:
        blocks = _Blocks(columns, [synthetic_rows, train_targets, holdout_targets])
        halves = aux_cols or (names[: len(names) // 2], names[len(names) // 2 :])
        linkability = _linkability(blocks, [list(h) for h in halves], n_neighbors, linking)
        chosen = list(secrets) if secrets else _spread(names, max_secrets)
        inference = _attribute_inference(
            blocks, [by_name[n] for n in chosen], synthetic_rows, train_targets, holdout_targets, inferring
        )
    return Attacks(singling_out, linkability, inference, {**rows, "targets": size})


# -- statistics (anonymeter's stats.confidence, from its definitions) -------------------------------


def success_rate(successes: float, attempts: int) -> tuple[float, float]:
    """Wilson score estimate of a success rate and its 95 % half-width: (centre, error).

    The centre is the Wilson midpoint (successes + z²/2) / (n + z²), not successes / n: it stays
    inside (0, 1) at 0 or n successes, where the plain estimate's interval collapses.
    """
    if attempts <= 0:
        return (_NAN, _NAN)
    z2 = Z * Z
    denominator = attempts + z2
    centre = (successes + z2 / 2) / denominator
    spread = successes * (attempts - successes) / attempts + z2 / 4
    return (centre, Z / denominator * math.sqrt(max(spread, 0.0)))


def residual_risk(
    main: tuple[float, float], control: tuple[float, float]
) -> tuple[float, tuple[float, float]]:
    """(main − control) / (1 − control), error propagated to first order, point and interval clipped
    to [0, 1]: the share of what the control attack missed that the main attack got."""
    (m, dm), (c, dc) = main, control
    if not c < 1:
        return (_NAN, (_NAN, _NAN))
    value = (m - c) / (1 - c)
    error = math.hypot(dm / (1 - c), dc * (m - 1) / (1 - c) ** 2)
    return (_clip(value), (_clip(value - error), _clip(value + error)))


def _record(
    successes: float,
    control: float,
    baseline: float,
    attempts: int,
    note: str | None = None,
) -> AttackRisk:
    main_rate, control_rate = success_rate(successes, attempts), success_rate(control, attempts)
    risk, (low, high) = residual_risk(main_rate, control_rate)
    if math.isnan(risk) and attempts > 0:
        note = "the control attack always succeeds: no excess risk can be measured"
    return AttackRisk(
        risk=_rounded(risk),
        interval=(_rounded(low), _rounded(high)),
        main_rate=_rounded(main_rate[0]),
        control_rate=_rounded(control_rate[0]),
        baseline_rate=_rounded(success_rate(baseline, attempts)[0]),
        n_attacks=attempts,
        note=note,
    )


def _worst(records: dict[str, AttackRisk]) -> AttackRisk:
    """The record of the highest risk, every part attached."""
    scored = [r for r in records.values() if not math.isnan(r.risk)]
    if not scored:
        notes = sorted({r.note for r in records.values() if r.note})
        return replace(_not_run("; ".join(notes) or "no attack could be made"), parts=dict(records))
    return replace(max(scored, key=lambda r: r.risk), parts=dict(records))


def _not_run(note: str) -> AttackRisk:
    return AttackRisk(_NAN, (_NAN, _NAN), _NAN, _NAN, _NAN, 0, note=note)


# -- singling out ------------------------------------------------------------------------------------
# Every column is a float: numbers and dates as numbers, categories as codes of one vocabulary, and a
# null as +inf. Every predicate term is then an interval [low, high] on one column ("= v": [v, v];
# "≥ v": [v, max float], which leaves nulls out; "is null": [inf, inf]), optionally negated (the
# baseline's "≠"). A query is `terms` such intervals, all of which must hold.


@dataclass(frozen=True)
class _Queries:
    columns: np.ndarray  # (q, terms) int
    low: np.ndarray  # (q, terms) float
    high: np.ndarray
    negated: np.ndarray | None = None  # (q, terms) bool; the baseline's "≠"

    def __len__(self) -> int:
        return len(self.columns)

    def take(self, index: np.ndarray) -> _Queries:
        negated = None if self.negated is None else self.negated[index]
        return _Queries(self.columns[index], self.low[index], self.high[index], negated)


class _Table:
    """Rows encoded for counting interval queries: each column's sorted values and its row order."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.matrix = matrix
        self.by_column = np.ascontiguousarray(matrix.T)
        self.order = np.argsort(self.by_column, axis=1, kind="stable")
        self.sorted = np.take_along_axis(self.by_column, self.order, axis=1)

    def __len__(self) -> int:
        return len(self.matrix)

    def count(self, queries: _Queries) -> np.ndarray:
        """How many rows each (un-negated) query matches.

        Each term's matching rows are a contiguous run of its column's sorted order (two binary
        searches); only the rows of each query's shortest run are checked against its other terms.
        """
        key, start, run = self._shortest_runs(queries)
        if queries.columns.shape[1] == 1:
            return run
        return self._matches(queries, np.flatnonzero(run > 0), key, start, run, run)

    def singles_out(self, queries: _Queries) -> np.ndarray:
        """Whether each (un-negated) query matches exactly one row; the same answer as `count(q) == 1`.

        Faster where most queries match many rows (a random three-column predicate matches hundreds
        on Adult): rows spread evenly over each shortest run are checked first, 64 then 1,024 of
        them, and a query with two matches among those is rejected without counting the rest.
        """
        key, start, run = self._shortest_runs(queries)
        alive = run >= 1
        if queries.columns.shape[1] > 1:
            for sample in (64, 1024):
                todo = np.flatnonzero(alive & (run > sample))
                sizes = np.full(len(run), sample)
                alive[todo[self._matches(queries, todo, key, start, run, sizes)[todo] >= 2]] = False
        todo = np.flatnonzero(alive)
        counts = self._matches(queries, todo, key, start, run, run) if queries.columns.shape[1] > 1 else run
        return alive & (counts == 1)

    def _shortest_runs(self, queries: _Queries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per query: the column of its shortest run, where the run starts in that column's sorted
        order, and its length (the matches of that term alone)."""
        q, terms = queries.columns.shape
        starts = np.zeros((q, terms), dtype="int64")
        stops = np.zeros((q, terms), dtype="int64")
        for column in np.unique(queries.columns):
            at = queries.columns == column
            starts[at] = np.searchsorted(self.sorted[column], queries.low[at], side="left")
            stops[at] = np.searchsorted(self.sorted[column], queries.high[at], side="right")
        lengths = stops - starts
        shortest = lengths.argmin(axis=1) if terms else np.zeros(q, dtype="int64")
        rows = np.arange(q)
        return queries.columns[rows, shortest], starts[rows, shortest], lengths[rows, shortest]

    def _matches(
        self,
        queries: _Queries,
        todo: np.ndarray,
        key: np.ndarray,
        start: np.ndarray,
        run: np.ndarray,
        sizes: np.ndarray,
    ) -> np.ndarray:
        """Per query in `todo`: how many of `sizes` rows spread evenly over its shortest run match
        every term (the whole run where sizes == run); 0 for the others."""
        counts = np.zeros(len(run), dtype="int64")
        terms = queries.columns.shape[1]
        sizes = np.minimum(sizes, run)
        first = 0
        while first < len(todo):
            # as many queries as keep the candidate rows under the budget (at least one)
            cumulative = np.cumsum(sizes[todo[first:]])
            last = first + max(1, int(np.searchsorted(cumulative, _CANDIDATE_BUDGET, side="right")))
            batch = todo[first:last]
            first = last
            size = sizes[batch]
            owner = np.repeat(np.arange(len(batch)), size)
            offsets = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
            positions = start[batch][owner] + offsets * run[batch][owner] // size[owner]
            rows = self.order[key[batch][owner], positions]
            keep = np.ones(len(rows), dtype=bool)
            for term in range(terms):
                column = queries.columns[batch, term][owner]
                values = self.matrix[rows, column]
                keep &= values >= queries.low[batch, term][owner]
                keep &= values <= queries.high[batch, term][owner]
            counts[batch] = np.bincount(owner, weights=keep, minlength=len(batch)).astype("int64")
        return counts

    def count_dense(self, queries: _Queries) -> np.ndarray:
        """How many rows each query matches, negated terms included: every row against every query
        (for the baseline's few hundred queries)."""
        counts = np.zeros(len(queries), dtype="int64")
        negated = queries.negated if queries.negated is not None else np.zeros(queries.columns.shape, bool)
        chunk = max(1, 4_000_000 // max(len(self), 1))
        for start in range(0, len(queries), chunk):
            part = slice(start, start + chunk)
            match = np.ones((len(queries.columns[part]), len(self)), dtype=bool)
            for term in range(queries.columns.shape[1]):
                values = self.by_column[queries.columns[part, term]]
                inside = (values >= queries.low[part, term, None]) & (
                    values <= queries.high[part, term, None]
                )
                flip = negated[part, term, None]
                match &= np.where(flip, ~inside & np.isfinite(values), inside)
            counts[part] = match.sum(axis=1)
        return counts


def _singling_out(
    synthetic: pd.DataFrame,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    columns: list[Column],
    n_attacks: int,
    n_cols: int,
    size_model: SizeModel,
    rng: np.random.Generator,
) -> tuple[AttackRisk, dict[str, int]]:
    matrices = _encode([synthetic, train, holdout], columns)
    syn, ori, control = (_Table(_distinct(m)) for m in matrices)
    rows = {"synthetic": len(syn), "train": len(ori), "holdout": len(control)}
    categorical = [is_categorical(c) for c in columns]
    records = {}
    for mode in ("univariate", "multivariate"):
        if mode == "univariate":
            terms, queries = 1, _univariate_queries(syn, categorical, n_attacks, rng)
        else:
            terms = min(n_cols, len(columns))
            queries = _multivariate_queries(syn, categorical, terms, n_attacks, rng)
        if len(queries) == 0:
            records[mode] = _not_run(f"no {mode} predicate singles out a synthetic row")
            continue
        main = int(ori.singles_out(queries).sum())
        controls, note = float(control.singles_out(queries).sum()), None
        if len(control) != len(ori) and controls > 0:
            scale, note = _size_correction(control, queries, len(ori), size_model, rng)
            controls = min(controls * scale, float(len(queries)))
        baseline = _random_queries(syn, len(queries), terms, categorical, rng)
        guessed = int((ori.count_dense(baseline) == 1).sum())
        records[mode] = _record(main, controls, guessed, len(queries), note=note)
    return _worst(records), rows


def _encode(frames: list[pd.DataFrame], columns: list[Column]) -> list[np.ndarray]:
    """Each frame as a float matrix: numbers and dates as numbers, categories as shared codes, nulls +inf."""
    out = [np.empty((len(f), len(columns)), dtype="float64") for f in frames]
    for j, column in enumerate(columns):
        if is_categorical(column):
            labels = [_labels(f[column.name]) for f in frames]
            vocabulary = pd.Index(sorted(set().union(*(set(s.dropna()) for s in labels))))
            for matrix, series in zip(out, labels, strict=True):
                codes = vocabulary.get_indexer(series).astype("float64")
                matrix[:, j] = np.where(series.isna().to_numpy(), np.inf, codes)
        else:
            for matrix, frame in zip(out, frames, strict=True):
                values = as_float(frame[column.name], column)
                matrix[:, j] = np.where(np.isfinite(values), values, np.inf)
    return out


def _distinct(matrix: np.ndarray) -> np.ndarray:
    """Rows without repeats, in first-seen order: two equal rows are one record to single out."""
    if len(matrix) == 0:
        return matrix
    _, first = np.unique(matrix, axis=0, return_index=True)
    return matrix[np.sort(first)]


def _univariate_queries(
    syn: _Table, categorical: list[bool], n_attacks: int, rng: np.random.Generator
) -> _Queries:
    """One-term predicates that match exactly one synthetic row: a value held once (a null included),
    a numeric column's smallest or largest value. Shuffled, the first `n_attacks` distinct ones."""
    columns, lows, highs = [], [], []
    for j in range(syn.matrix.shape[1]):
        values, counts = np.unique(syn.by_column[j], return_counts=True)
        once = values[counts == 1]
        columns.append(np.full(len(once), j))
        lows.append(once)
        highs.append(once)
        finite = values[np.isfinite(values)]
        if finite.size and not categorical[j]:
            columns.append(np.array([j, j]))
            lows.append(np.array([-np.inf, finite[-1]]))
            highs.append(np.array([finite[0], _BIG]))
    queries = _Queries(
        np.concatenate(columns)[:, None].astype("int64"),
        np.concatenate(lows)[:, None],
        np.concatenate(highs)[:, None],
    )
    queries = queries.take(rng.permutation(len(queries)))
    queries = queries.take(_first_distinct(queries))
    return _keep_singling(syn, queries, n_attacks)


def _multivariate_queries(
    syn: _Table, categorical: list[bool], terms: int, n_attacks: int, rng: np.random.Generator
) -> _Queries:
    """Predicates from random synthetic rows on `terms` random columns: "= value" for categories and
    nulls, "≥ value" for numbers above the column's median, "≤ value" below it. Tried in batches
    until `n_attacks` distinct ones single out a synthetic row, or the attempts run out: at most
    `MAX_QUERY_ATTEMPTS` per attack wanted, and 20 per predicate there is (rows × column choices),
    which ends the search early on small tables that hold fewer singling-out predicates than wanted."""
    n, width = syn.matrix.shape
    if n == 0:
        return _empty_queries(terms)
    medians = np.array([np.median(c[np.isfinite(c)]) if np.isfinite(c).any() else 0.0 for c in syn.by_column])
    is_category = np.asarray(categorical)
    found: list[_Queries] = []
    seen: set[bytes] = set()
    total = 0
    attempts = min(MAX_QUERY_ATTEMPTS * n_attacks, 20 * n * math.comb(width, terms))
    for _ in range(0, max(attempts, 1), _BATCH):
        rows = rng.integers(0, n, _BATCH)
        chosen = np.argsort(rng.random((_BATCH, width)), axis=1)[:, :terms]
        chosen.sort(axis=1)
        values = syn.matrix[rows[:, None], chosen]
        exact = is_category[chosen] | ~np.isfinite(values)
        upper = values > medians[chosen]
        low = np.where(exact | upper, values, -np.inf)
        high = np.where(exact | ~upper, values, _BIG)
        batch = _Queries(chosen.astype("int64"), low, high)
        batch = batch.take(np.flatnonzero(syn.singles_out(batch)))
        keys = _query_keys(batch)
        fresh = []
        for i, key in enumerate(keys):
            if key not in seen and total + len(fresh) < n_attacks:
                seen.add(key)
                fresh.append(i)
        found.append(batch.take(np.asarray(fresh, dtype="int64")))
        total += len(fresh)
        if total >= n_attacks:
            break
    return _Queries(*(np.concatenate([getattr(q, f) for q in found]) for f in ("columns", "low", "high")))


def _random_queries(
    syn: _Table, n_queries: int, terms: int, categorical: list[bool], rng: np.random.Generator
) -> _Queries:
    """The baseline: random columns, each with a random value the synthetic column holds and a random
    operator (=, ≠ for categories; =, ≠, <, >, ≤, ≥ for numbers; "is / is not null" for a null)."""
    width = syn.matrix.shape[1]
    uniques = [np.unique(c) for c in syn.by_column]
    columns = np.sort(np.argsort(rng.random((n_queries, width)), axis=1)[:, :terms], axis=1)
    low = np.empty(columns.shape)
    high = np.empty(columns.shape)
    negated = np.zeros(columns.shape, dtype=bool)
    for index in np.ndindex(columns.shape):
        j = columns[index]
        value = uniques[j][rng.integers(len(uniques[j]))]
        operator = rng.integers(2 if categorical[j] else 6)  # 0 =, 1 ≠, 2 <, 3 >, 4 ≤, 5 ≥
        if not np.isfinite(value):
            low[index], high[index] = (np.inf, np.inf) if operator == 0 else (-np.inf, _BIG)
            continue
        low[index], high[index] = {
            0: (value, value),
            1: (value, value),
            2: (-np.inf, np.nextafter(value, -np.inf)),
            3: (np.nextafter(value, np.inf), _BIG),
            4: (-np.inf, value),
            5: (value, _BIG),
        }[int(operator)]
        negated[index] = operator == 1
    return _Queries(columns.astype("int64"), low, high, negated)


def _keep_singling(syn: _Table, queries: _Queries, n_attacks: int) -> _Queries:
    """The first `n_attacks` of `queries` (in order) that match exactly one synthetic row."""
    kept = []
    for start in range(0, len(queries), 20 * _BATCH):
        part = np.arange(start, min(start + 20 * _BATCH, len(queries)))
        kept.extend(part[syn.singles_out(queries.take(part))][: n_attacks - len(kept)])
        if len(kept) >= n_attacks:
            break
    return queries.take(np.asarray(kept, dtype="int64"))


def _query_keys(queries: _Queries) -> list[bytes]:
    stacked = np.hstack([queries.columns.astype("float64"), queries.low, queries.high])
    return [row.tobytes() for row in stacked]


def _first_distinct(queries: _Queries) -> np.ndarray:
    stacked = np.hstack([queries.columns.astype("float64"), queries.low, queries.high])
    if len(stacked) == 0:
        return np.zeros(0, dtype="int64")
    _, first = np.unique(stacked, axis=0, return_index=True)
    return np.sort(first)


def _empty_queries(terms: int) -> _Queries:
    return _Queries(np.zeros((0, terms), "int64"), np.zeros((0, terms)), np.zeros((0, terms)))


def _size_correction(
    control: _Table, queries: _Queries, target_rows: int, model: SizeModel, rng: np.random.Generator
) -> tuple[float, str | None]:
    """Factor that turns the control's singling-out count into its expected count at the train's size.

    How often a predicate singles out depends on how many rows it is tried on, so a holdout smaller
    than train would bias the control attack. As anonymeter does: count the predicates that single
    out in random subsets of the control (10 sizes from min(1000, half) up to all of it, 5 draws
    each), fit a model of that count against size, and take its ratio at the train's size to the
    control's. Each predicate of weight w (its chance to match a random row) singles out of n rows
    with chance n·w·(1 − w)ⁿ⁻¹; the models differ in how the weights are spread:

    - "anonymeter": uniformly on [0, w_max], fitted as c·∫₀^w_max n·v·(1 − v)ⁿ⁻¹ dv. Its curve peaks
      and turns down just past sizes it was fitted on, so extrapolated four-fold (80/20 splits) it
      shrinks the control: on Adult's copula 0.5–0.75 for multivariate predicates, where the train's
      own subsets show ≈ 1.1–1.3, which reads as a risk of ≈ 0.08 for a generator with none.
    - "saturating" (the default): density ∝ 1/w up to w_max, so the count is s·(1 − (1 − w_max)ⁿ)/w_max:
      linear in n for rare predicates, flattening for common ones, never turning down. On the same
      data it scales the control to 0.9–1.1 of what the train subsets show.
    """
    n = len(control)
    low = min(1000, max(n // 2, 1))
    sizes, counts = [], []
    for size in np.linspace(low, n, 10).astype(int):
        for _ in range(5):
            subset = _Table(control.matrix[np.sort(rng.choice(n, size, replace=False))])
            sizes.append(size)
            counts.append(int(subset.singles_out(queries).sum()))
    x, y = np.asarray(sizes, dtype="float64"), np.asarray(counts, dtype="float64")
    if model == "anonymeter":
        curve, p0, bounds = (
            _uniform_weights,
            (1 / x.max(), 1 / _uniform_integral(x.max(), 1 / x.max())),
            (0, (1, np.inf)),
        )
    else:
        curve, p0, bounds = (
            _inverse_weights,
            (max(y.mean(), 1.0) / x.mean(), 1 / x.max()),
            ((0, 1e-12), (np.inf, 1)),
        )
    failed = "the control's size correction could not be fitted; its count is used as it is"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            parameters, _ = curve_fit(curve, x, y, p0=p0, bounds=bounds, maxfev=5000)
    except (RuntimeError, ValueError, OptimizeWarning):
        return 1.0, failed
    at_control = float(curve(float(n), *parameters))
    if not at_control > 0:
        return 1.0, failed
    return float(curve(float(target_rows), *parameters)) / at_control, None


def _uniform_integral(n: float | np.ndarray, w: float) -> float | np.ndarray:
    """∫₀ʷ n·v·(1 − v)ⁿ⁻¹ dv."""
    return (1 - (n * w + 1) * (1 - w) ** n) / (n + 1)


def _uniform_weights(n: float | np.ndarray, w_max: float, scale: float) -> float | np.ndarray:
    return scale * _uniform_integral(n, w_max)


def _inverse_weights(n: float | np.ndarray, slope: float, w_max: float) -> float | np.ndarray:
    """slope · (1 − (1 − w_max)ⁿ) / w_max: slope · n while n·w_max is small."""
    return slope * -np.expm1(n * np.log1p(-w_max)) / w_max


# -- linkability and attribute inference --------------------------------------------------------------


class _Blocks:
    """Synthetic rows, train targets and holdout targets as distance-space points, with each column's
    slice of the point known, so any subset of columns is a subset of point coordinates."""

    def __init__(self, columns: list[Column], frames: list[pd.DataFrame]) -> None:
        reference = pd.concat(frames, ignore_index=True)
        parts: list[list[np.ndarray]] = [[] for _ in frames]
        self.slices: dict[str, slice] = {}
        one_hot = []
        for column in columns:
            space = DistanceSpace(reference, [column])
            for points, frame in zip(parts, frames, strict=True):
                points.append(space.transform(frame))
            width = parts[0][-1].shape[1]
            start = sum(len(s) for s in one_hot)
            self.slices[column.name] = slice(start, start + width)
            one_hot.append(np.full(width, is_categorical(column)))
        self.one_hot = np.concatenate(one_hot)
        """Coordinates that are one-hot category slots (0 or √½); the others are numbers and null flags."""
        self.synthetic, self.train, self.holdout = (np.hstack(p) for p in parts)

    def mask(self, names: Sequence[str]) -> np.ndarray:
        keep = np.zeros(self.synthetic.shape[1], dtype=bool)
        for name in names:
            keep[self.slices[name]] = True
        return keep

    def split(self, points: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kept coordinates as (category slots as exact 0/1 in float32, the rest in float64)."""
        slots, numbers = keep & self.one_hot, keep & ~self.one_hot
        return (points[:, slots] > 0).astype("float32"), points[:, numbers].astype("float64")


def _nearest(
    queries: tuple[np.ndarray, np.ndarray], reference: tuple[np.ndarray, np.ndarray], k: int
) -> np.ndarray:
    """Indices of the k nearest reference points of each query, nearest first, shape (n, k); ties go
    to the lowest index (the reference rows are in a random order, so that is a random tie-break).

    Points come as `_Blocks.split` gives them. Ranked by ‖r‖² − 2 q·r like `features.nearest_distances`,
    with the category part counted exactly (0/1 slots: a mismatch is 2, halved to the space's 1) and
    the numbers in float64: all in float32, a row equal to the query loses to one a few fnlwgt units
    away (2 % of a copier's targets on Adult).
    """
    (query_slots, query_numbers), (slots, numbers) = queries, reference
    k = min(k, len(slots))
    found = np.empty((len(query_slots), k), dtype="int64")
    reference_sq = 0.5 * slots.sum(axis=1, dtype="float64") + np.einsum("ij,ij->i", numbers, numbers)
    chunk_rows = max(1, 4_000_000 // max(len(slots), 1))  # 32 MB of distances at a time
    for start in range(0, len(query_slots), chunk_rows):
        part = slice(start, start + chunk_rows)
        partial = (query_slots[part] @ slots.T).astype("float64")  # matching categories, exact
        partial += 2.0 * (query_numbers[part] @ numbers.T)
        partial *= -1.0
        partial += reference_sq[None, :]
        rows = np.arange(len(partial))
        for j in range(k):
            nearest = partial.argmin(axis=1)
            found[part, j] = nearest
            partial[rows, nearest] = np.inf
    return found


def _linkability(
    blocks: _Blocks, halves: list[list[str]], n_neighbors: int, rng: np.random.Generator
) -> AttackRisk:
    if any(not half for half in halves) or len(halves) != 2:
        return _not_run("linkability needs two non-empty auxiliary halves")
    masks = [blocks.mask(half) for half in halves]
    n_syn, n = len(blocks.synthetic), len(blocks.train)
    k = min(n_neighbors, n_syn)

    references = [blocks.split(blocks.synthetic, m) for m in masks]

    def links(targets: np.ndarray) -> int:
        first, second = (
            _nearest(blocks.split(targets, m), r, k) for m, r in zip(masks, references, strict=True)
        )
        return sum(bool(set(a) & set(b)) for a, b in zip(first, second, strict=True))

    guesses = [
        bool(set(rng.choice(n_syn, k, replace=False)) & set(rng.choice(n_syn, k, replace=False)))
        for _ in range(n)
    ]
    return _record(links(blocks.train), links(blocks.holdout), sum(guesses), n)


def _attribute_inference(
    blocks: _Blocks,
    secrets: list[Column],
    synthetic: pd.DataFrame,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    rng: np.random.Generator,
) -> AttackRisk:
    records = {}
    names = list(blocks.slices)
    random_rows = rng.integers(0, len(synthetic), len(train))
    for secret in secrets:
        keep = blocks.mask([n for n in names if n != secret.name])
        reference = blocks.split(blocks.synthetic, keep)
        guessed = {
            side: _nearest(blocks.split(points, keep), reference, 1)[:, 0]
            for side, points in (("train", blocks.train), ("holdout", blocks.holdout))
        }
        truth_syn = synthetic[secret.name]
        main = _correct(truth_syn.iloc[guessed["train"]], train[secret.name], secret).sum()
        control = _correct(truth_syn.iloc[guessed["holdout"]], holdout[secret.name], secret).sum()
        baseline = _correct(truth_syn.iloc[random_rows], train[secret.name], secret).sum()
        records[secret.name] = _record(int(main), int(control), int(baseline), len(train))
    return _worst(records)


def _correct(guesses: pd.Series, secrets: pd.Series, column: Column) -> np.ndarray:
    """Per target: the guess equals the secret (both null counts), or, for numbers, lies within 5 % of
    the guess (anonymeter's relative tolerance, taken on the guess's magnitude)."""
    if column.kind in (ColumnKind.INTEGER, ColumnKind.FLOAT):
        guess, truth = as_float(guesses, column), as_float(secrets, column)
        with np.errstate(invalid="ignore"):
            close = np.abs(guess - truth) <= TOLERANCE * np.abs(guess)
        return close | (np.isnan(guess) & np.isnan(truth))
    if column.kind is ColumnKind.DATETIME:
        guess, truth = as_float(guesses, column), as_float(secrets, column)
        return (guess == truth) | (np.isnan(guess) & np.isnan(truth))
    guess, truth = _labels(guesses).to_numpy(), _labels(secrets).to_numpy()
    return np.array([g == t for g, t in zip(guess, truth, strict=True)], dtype=bool)


# -- helpers -------------------------------------------------------------------------------------------


def _missing_input(columns: list[Column], *frames: pd.DataFrame) -> str | None:
    if not columns:
        return "the contract has no scored columns to attack"
    if any(len(f) == 0 for f in frames):
        return "train, holdout and synthetic data must each have rows"
    return None


def _labels(series: pd.Series) -> pd.Series:
    """`features.as_labels`, worked out once per distinct value instead of once per row."""
    codes, uniques = pd.factorize(series.reset_index(drop=True), use_na_sentinel=True)
    mapped = np.append(as_labels(pd.Series(uniques, dtype=object)).to_numpy(dtype=object), None)
    return pd.Series(mapped[codes], dtype=object)


def _spread(names: list[str], count: int) -> list[str]:
    """`count` names evenly spread over `names` (first and last included), in their order."""
    if len(names) <= count:
        return list(names)
    return [names[i] for i in np.unique(np.linspace(0, len(names) - 1, count).round().astype(int))]


def _sample(
    frame: pd.DataFrame, size: int, rng: np.random.Generator, keep_order: bool = True
) -> pd.DataFrame:
    if keep_order and len(frame) <= size:
        return frame.reset_index(drop=True)
    chosen = rng.choice(len(frame), size, replace=False)
    return frame.iloc[np.sort(chosen) if keep_order else chosen].reset_index(drop=True)


def _clip(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _rounded(value: float) -> float:
    return round(float(value), 4)
