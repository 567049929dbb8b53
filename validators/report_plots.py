"""The report's figures: matplotlib drawings of one evaluation, and each as an inline PNG `<img>`.

`synthwright.validators.report` builds the HTML page; this module draws what goes in it (the
column-by-column distribution grid, the real and synthetic association matrices and the pair-trend
heatmap, the distance-to-closest-record histograms, the utility and utility-lift bars) and owns the
number formatting and text-safety rules that figures and page share, so the page module holds no
plotting code and the plots can change without touching the HTML. Plots are drawn on
`matplotlib.figure.Figure` objects, never through pyplot, so no global figure state leaks between calls
or threads.
"""

from __future__ import annotations

import base64
import html
import io
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib import colormaps, font_manager
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Patch
from matplotlib.scale import LogTransform, SymmetricalLogTransform
from matplotlib.textpath import text_to_path
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, SymmetricalLogLocator
from matplotlib.transforms import Transform

from synthwright.data_contracts.model import Column, ColumnKind
from synthwright.validators.evaluate import Evaluation
from synthwright.validators.features import as_float, is_categorical
from synthwright.validators.gates import format_number
from synthwright.validators.lift import Lift

GRID_COLUMNS = 4
TOP_CATEGORIES = 20
HISTOGRAM_BINS = 40
ANNOTATE_BELOW = 20
"""Heatmap cells carry their number when there are fewer columns than this (more would not fit)."""
DPI = 96
PANEL_WIDTH, PANEL_HEIGHT = 3.08, 2.9
"""Inches per distribution panel, margins included: four panels fill the page at 96 dpi, unscaled."""
PANEL_TOP, PANEL_BOTTOM, LEGEND_HEIGHT = 0.5, 0.85, 0.4
REAL_LABEL, SYNTHETIC_LABEL = "real (train)", "synthetic"
REAL_COLOUR, SYNTHETIC_COLOUR, HOLDOUT_COLOUR = "#3b6ea8", "#e07b39", "#5a9e5a"
NUMERIC_KINDS = (ColumnKind.INTEGER, ColumnKind.FLOAT, ColumnKind.DATETIME)


# ---------------------------------------------------------------- numbers, shared with the page


def format_percent(value: float | None) -> str:
    text = format_number(value)
    return text if text == "n/a" else f"{text} %"


# ---------------------------------------------------------------- distributions


def distribution_figure(
    columns: Sequence[Column], real: pd.DataFrame, synthetic: pd.DataFrame, evaluation: Evaluation
) -> Figure:
    """A grid of panels with fixed margins (a layout engine would cost seconds on wide tables)."""
    ncols = min(GRID_COLUMNS, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    width, height = PANEL_WIDTH * ncols, PANEL_HEIGHT * nrows + LEGEND_HEIGHT
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(
        left=0.6 / width,
        right=1 - 0.15 / width,
        top=1 - (LEGEND_HEIGHT + PANEL_TOP) / height,
        bottom=PANEL_BOTTOM / height,
        wspace=0.4,
        hspace=(PANEL_TOP + PANEL_BOTTOM) / (PANEL_HEIGHT - PANEL_TOP - PANEL_BOTTOM),
    )
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, column in zip(axes, columns, strict=False):
        if column.kind in NUMERIC_KINDS:
            _numeric_panel(ax, column, real[column.name], synthetic[column.name])
        else:
            _category_panel(ax, column, real[column.name], synthetic[column.name])
        _panel_title(ax, column, evaluation)
    for ax in axes[len(columns) :]:
        ax.set_axis_off()
    handles = [
        Patch(facecolor=REAL_COLOUR, alpha=0.6, label=REAL_LABEL),
        Patch(facecolor=SYNTHETIC_COLOUR, alpha=0.6, label=SYNTHETIC_LABEL),
    ]
    figure.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.05 / height),
        ncols=2,
        fontsize=11,
        frameon=False,
    )
    return figure


def _panel_title(ax: Axes, column: Column, evaluation: Evaluation) -> None:
    error = evaluation.fidelity.column_errors.get(column.name)
    auc = evaluation.detection.column_auc.get(column.name)
    scores = f"shape error {format_percent(error)} · AUC {format_number(auc)}"
    ax.set_title(_label(column.name, 40), fontsize=10, fontweight="bold", loc="left", pad=14)
    worrying = (error is not None and error >= 20) or (auc is not None and auc >= 0.75)
    ax.text(0.0, 1.02, scores, transform=ax.transAxes, fontsize=8, color="#b3261e" if worrying else "#555555")


def _numeric_panel(ax: Axes, column: Column, real: pd.Series, synthetic: pd.Series) -> None:
    """Share of rows per bin, on bins both sides share; a heavy tail changes the x-axis (see NumericAxis)."""
    values = [_as_numbers(real, column), _as_numbers(synthetic, column)]
    finite = [v[np.isfinite(v)] for v in values]
    if not any(v.size for v in finite):
        ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
    else:
        axis = numeric_axis(finite[0], finite[1], column)
        edges = _bin_edges(axis, column, _bin_count(min(len(v) for v in finite if len(v))))
        outside = []
        for kept, total, colour, label in zip(
            finite, values, (REAL_COLOUR, SYNTHETIC_COLOUR), (REAL_LABEL, SYNTHETIC_LABEL), strict=True
        ):
            inside = (kept >= edges[0]) & (kept <= edges[-1])
            outside.append(float((~inside).sum()) / max(len(total), 1))
            if kept.size:
                share = np.histogram(kept[inside], bins=edges)[0] / len(total)
                ax.stairs(share, edges, fill=True, alpha=0.35, color=colour, label=label)
                ax.stairs(share, edges, color=colour, linewidth=1.3)
        _draw_numeric_axis(ax, axis, column, edges, outside)
    nulls = [float(np.isnan(v).mean()) if v.size else 0.0 for v in values]
    if any(nulls):
        ax.text(
            0.98,
            0.95,
            f"missing: real {100 * nulls[0]:.1f} %, synthetic {100 * nulls[1]:.1f} %",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
            color="#555555",
        )
    _share_axis(ax)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)


@dataclass(frozen=True)
class NumericAxis:
    """How a numeric panel's x-axis is drawn, and the words the panel says about it.

    The rule (`numeric_axis`), on the finite values of both sides together:

    - linear, as they are, when there are at most FEW_DISTINCT distinct values (every bar is exact);
    - heavy-tailed when the middle 90 % of values (p5–p95) spans less than HEAVY_BODY_SHARE of the
      full range, or p1 or p99 lies more than TAIL_REACH interquartile ranges from the median: on a
      linear axis such a column is one spike and a long, nearly empty tail. Else linear.
    - a heavy-tailed column goes on a log axis if at least ONE_SIDED of its non-zero values have one
      sign and their magnitudes reach over a decade (p99 ≥ LOG_REACH × p25 of |value|): log when
      every value is positive, else symlog (linear around 0, log beyond, so zeros and the few values
      of the other sign keep their place);
    - otherwise a few values lie far out: the axis is clipped to p1–p99 of the real values, on each
      side whose outskirts are wider than that whole window, and the panel says which share of each
      table's rows lies outside; if neither side is, it stays linear. Dates are never drawn on a log
      axis; they may be clipped.
    """

    scale: Literal["linear", "log", "symlog"]
    low: float
    high: float
    clipped: tuple[bool, bool] = (False, False)
    """Whether the low and the high end were cut at a percentile of the real values."""
    linear_within: float = 1.0
    """symlog only: the axis is linear in ±this: the power of ten at or below p1 of the real values'
    non-zero magnitudes, so the bulk of the tail is on the log part."""

    @property
    def note(self) -> str:
        """What the panel says about its x-axis, in a few words ("" for a plain linear axis)."""
        if self.scale == "log":
            return "log scale"
        if self.scale == "symlog":
            return f"symlog scale (linear within ±{_short_number(self.linear_within)})"
        if self.clipped == (True, True):
            return "clipped to p1–p99 of real"
        if self.clipped[1]:
            return "clipped above p99 of real"
        if self.clipped[0]:
            return "clipped below p1 of real"
        return ""


FEW_DISTINCT = 10
HEAVY_BODY_SHARE = 0.2
"""Heavy-tailed when the middle 90 % of values fills less than a fifth of the x range (a normal sample
of 40,000 fills about 40 %, an exponential one 28 %, a lognormal with σ = 1 10–25 %, by sample size)."""
TAIL_REACH = 5.0
"""... or when p1 or p99 lies more than 5 interquartile ranges from the median, whatever the sample size
(normal 1.7, exponential 3.6, lognormal with σ = 1 6.4; every column whose quartiles are equal)."""
LOG_REACH = 10.0
"""A log axis when non-zero magnitudes reach from p25 to p99 over a decade (lognormal σ = 1: 20×;
a normal centred on 0: 8×, which clipping shows better)."""
ONE_SIDED = 0.9
"""Log scales only for values (nearly) all on one side of 0: a symmetric spread around 0 is clipped."""
CLIP_QUANTILES = (0.01, 0.99)


def numeric_axis(real: np.ndarray, synthetic: np.ndarray, column: Column) -> NumericAxis:
    """The x-axis for these finite values: linear, log, symlog or clipped (the rule: `NumericAxis`)."""
    both = np.concatenate([real, synthetic])
    low, high = float(both.min()), float(both.max())
    linear = NumericAxis("linear", low, high)
    if np.unique(both).size <= FEW_DISTINCT:
        return linear
    p1, p5, p25, p50, p75, p95, p99 = np.quantile(both, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    reach = max(p99 - p50, p50 - p1)
    long_tail = reach > TAIL_REACH * (p75 - p25)
    if p95 - p5 >= HEAVY_BODY_SHARE * (high - low) and not long_tail:
        return linear
    nonzero = both[both != 0]
    positive = float((nonzero > 0).mean()) if nonzero.size else 0.0
    one_sided = positive >= ONE_SIDED or positive <= 1 - ONE_SIDED
    if column.kind is not ColumnKind.DATETIME and one_sided and nonzero.size > 1:
        magnitudes = np.abs(nonzero[(nonzero > 0) == (positive >= ONE_SIDED)])
        small, large = np.quantile(magnitudes, [0.25, 0.99])
        if large >= LOG_REACH * small:
            if low > 0:
                return NumericAxis("log", low, high)
            reference = real[(real != 0) & ((real > 0) == (positive >= ONE_SIDED))]
            smallest = float(np.quantile(np.abs(reference) if reference.size else magnitudes, 0.01))
            return NumericAxis("symlog", low, high, linear_within=10.0 ** math.floor(math.log10(smallest)))
    first, last = (float(q) for q in np.quantile(real if real.size else both, CLIP_QUANTILES))
    window = last - first
    cut = (window > 0 and first - low > window, window > 0 and high - last > window)
    if not any(cut):
        return linear
    return NumericAxis("linear", first if cut[0] else low, last if cut[1] else high, clipped=cut)


def _draw_numeric_axis(
    ax: Axes, axis: NumericAxis, column: Column, edges: np.ndarray, outside: list[float]
) -> None:
    """Scale, ticks and the axis note; a clipped axis also says how much of each side it leaves out."""
    ax.set_xlim(edges[0], edges[-1])
    if axis.scale == "log":
        ax.set_xscale("log", base=10)
        ax.xaxis.set_major_locator(LogLocator(base=10, numticks=6))
    elif axis.scale == "symlog":
        ax.set_xscale("symlog", base=10, linthresh=axis.linear_within, linscale=1)
        locator = SymmetricalLogLocator(linthresh=axis.linear_within, base=10)
        locator.set_params(numticks=5)
        ax.xaxis.set_major_locator(locator)
    elif column.kind is ColumnKind.DATETIME:
        locator = AutoDateLocator(minticks=3, maxticks=6)  # maxticks=5 alone warns for 2.5- and 3-year spans
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if column.kind is not ColumnKind.DATETIME:
        ax.xaxis.set_major_formatter(lambda value, _: _short_number(value))
        ax.xaxis.set_minor_formatter(NullFormatter())
    note = axis.note
    if any(axis.clipped):
        note += f"\noutside: real {_share_text(outside[0])}, synthetic {_share_text(outside[1])}"
    if note:
        ax.set_xlabel(note, fontsize=7, color="#555555", labelpad=2)


def _share_axis(ax: Axes) -> None:
    """A y-axis of shares of rows, in percent with as many decimals as the tick step needs."""
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))

    def percent(value: float, _: object) -> str:
        ticks = np.diff(ax.yaxis.get_majorticklocs())
        step = 100 * float(ticks.min()) if ticks.size else 1.0
        decimals = next((d for d in range(4) if abs(step * 10**d - round(step * 10**d)) < 1e-6), 4)
        return f"{100 * value:.{decimals}f} %"

    ax.yaxis.set_major_formatter(percent)
    ax.set_ylabel("share of rows", fontsize=8, labelpad=2)


def _share_text(share: float) -> str:
    """A share of rows as a percentage that never reads 0 % when some rows are there."""
    if share == 0:
        return "0 %"
    return "< 0.1 %" if share < 0.001 else f"{100 * share:.1f} %"


def _short_number(value: float) -> str:
    """Tick labels: 0, 0.01, 250, 10k, 1.2M, never an offset like "1e6" in the corner (a minus sign)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else ""
    for size, suffix, start in ((1e9, "G", 1e9), (1e6, "M", 1e6), (1e3, "k", 1e4)):  # 2024, not 2.024k
        if abs(value) >= start:
            return f"{value / size:.4g}{suffix}".replace("-", "−")
    return f"{value:.6g}".replace("-", "−")


def _as_numbers(series: pd.Series, column: Column) -> np.ndarray:
    """float64, NaN for nulls; datetimes as matplotlib date numbers (days), so date axes work."""
    if column.kind is ColumnKind.DATETIME:
        stamps = pd.to_datetime(series, errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(None)
        return np.asarray(date2num(stamps.to_numpy(dtype="datetime64[us]")), dtype="float64")
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def _bin_count(rows: int) -> int:
    """√rows bins, 10 to 40: enough for a shape, few enough that small samples are not all noise."""
    return int(min(max(math.sqrt(rows), 10), HISTOGRAM_BINS))


def _bin_edges(axis: NumericAxis, column: Column, bins: int) -> np.ndarray:
    """Bins of equal width on the drawn axis, one set for both sides; integers get whole-number edges
    (no comb of empty bins)."""
    low, high = axis.low, axis.high
    integer = column.kind is ColumnKind.INTEGER
    if low == high:
        return np.array([low - 0.5, high + 0.5])
    if axis.scale == "linear":
        if integer:
            step = max(1, math.ceil((high - low + 1) / bins))
            return np.arange(math.floor(low) - 0.5, high + step, step)
        return np.histogram_bin_edges([low, high], bins=bins, range=(low, high))
    if integer:
        low, high = low - 0.5, high + 0.5
    transform = _scale_transform(axis)
    ends = transform.transform(np.array([low, high]))
    edges = transform.inverted().transform(np.linspace(ends[0], ends[1], bins + 1))
    if integer:
        edges = np.unique(np.floor(edges) + 0.5)
    edges[0], edges[-1] = low, high  # exactly, whatever the round trip through the transform
    return edges


def _scale_transform(axis: NumericAxis) -> Transform:
    if axis.scale == "log":
        return LogTransform(base=10)
    return SymmetricalLogTransform(base=10, linthresh=axis.linear_within, linscale=1)


def _category_panel(ax: Axes, column: Column, real: pd.Series, synthetic: pd.Series) -> None:
    labels, shares = _category_shares(real, synthetic)
    x = np.arange(len(labels))
    width = 0.4
    for offset, share, colour, label in (
        (-width / 2, shares[0], REAL_COLOUR, REAL_LABEL),
        (width / 2, shares[1], SYNTHETIC_COLOUR, SYNTHETIC_LABEL),
    ):
        ax.bar(x + offset, share, width, color=colour, alpha=0.8, label=label)
    size = 8 if len(labels) <= 8 else 7 if len(labels) <= 14 else 6
    ax.set_xticks(
        x, [_label(v, 16) for v in labels], rotation=55, ha="right", rotation_mode="anchor", fontsize=size
    )
    ax.set_xlim(-0.6, len(labels) - 0.4)
    _share_axis(ax)
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def _category_shares(real: pd.Series, synthetic: pd.Series) -> tuple[list[str], tuple[np.ndarray, ...]]:
    """Category labels (top ones by real share, then 'N others', then 'missing') and both sides' shares."""
    counts = [_label_counts(real), _label_counts(synthetic)]
    order = list(counts[0].index) + [v for v in counts[1].index if v not in counts[0].index]
    kept, rest = order[:TOP_CATEGORIES], order[TOP_CATEGORIES:]
    missing = [float(side.isna().mean()) if len(side) else 0.0 for side in (real, synthetic)]
    labels = list(kept) + ([f"{len(rest)} others"] if rest else []) + (["missing"] if any(missing) else [])
    shares = []
    for side, count, gap in zip((real, synthetic), counts, missing, strict=True):
        total = max(len(side), 1)
        row = list(count.reindex(kept, fill_value=0) / total)
        if rest:
            row.append(count.reindex(rest, fill_value=0).sum() / total)
        if any(missing):
            row.append(gap)
        shares.append(np.asarray(row, dtype="float64"))
    return labels, tuple(shares)


def _label_counts(series: pd.Series) -> pd.Series:
    """Non-null counts per category as text (so True and "True" meet), most common first."""
    counts = series.value_counts(dropna=True)
    counts = counts[counts > 0]  # a pandas Categorical lists unused categories too
    counts.index = counts.index.map(str)
    return counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")


# ---------------------------------------------------------------- pairs, privacy, utility


def pair_trend_heatmap(pair_errors: dict[str, float], names: list[str]) -> Figure:
    """The pair-trend errors between `names` as a heatmap, in percent (grey: not scored)."""
    return _heatmap(*_pair_matrix(pair_errors, names))


def _pair_matrix(pair_errors: dict[str, float], names: list[str]) -> tuple[list[str], np.ndarray]:
    """Symmetric matrix of the pair errors between `names` (NaN: not scored)."""
    index = {name: i for i, name in enumerate(names)}
    matrix = np.full((len(names), len(names)), np.nan)
    for a in names:
        for b in names:
            value = pair_errors.get(f"{a} ~ {b}")
            if value is not None:
                matrix[index[a], index[b]] = matrix[index[b], index[a]] = value
    return names, matrix


ASSOCIATION_CATEGORIES = 50
"""Categories beyond a column's 50 most common are pooled into one when measuring associations."""


def association_matrix(frame: pd.DataFrame, columns: Sequence[Column]) -> np.ndarray:
    """How strongly each pair of `columns` is related in `frame`: a symmetric matrix, NaN on the diagonal
    and where a pair cannot be measured (a constant column, fewer than 3 rows with both values).

    Numbers (dates too) with numbers: Spearman's rank correlation, −1 to 1, robust to heavy tails
    (each column ranked once over its present values). Categories (booleans too) with categories:
    Cramér's V, bias-corrected, 0 to 1. A number with a category: the correlation ratio η, 0 to 1 (the
    square root of the share of the number's spread that the category explains). Missing values are
    left out of each pair.
    """
    n = len(columns)
    matrix = np.full((n, n), np.nan)
    numeric = [i for i, c in enumerate(columns) if not is_categorical(c)]
    prepared = {
        i: _category_codes(frame[c.name]) if is_categorical(c) else as_float(frame[c.name], c)
        for i, c in enumerate(columns)
    }
    if len(numeric) > 1:
        ranks = np.column_stack([pd.Series(prepared[i]).rank().to_numpy() for i in numeric])
        matrix[np.ix_(numeric, numeric)] = _pairwise_correlation(ranks)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = columns[i], columns[j]
            if is_categorical(a) and is_categorical(b):
                matrix[i, j] = _cramers_v(prepared[i], prepared[j])
            elif is_categorical(a) != is_categorical(b):
                codes, values = (
                    (prepared[i], prepared[j]) if is_categorical(a) else (prepared[j], prepared[i])
                )
                matrix[i, j] = _correlation_ratio(codes, values)
            else:
                continue
            matrix[j, i] = matrix[i, j]
    np.fill_diagonal(matrix, np.nan)
    return matrix


def _pairwise_correlation(values: np.ndarray) -> np.ndarray:
    """Pearson correlation of every pair of columns over the rows where both are present (NaN: absent),
    as a few matrix products instead of one pass per pair."""
    present = np.isfinite(values).astype("float64")
    x = np.where(present > 0, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = present.T @ present
        sums = x.T @ present  # [i, j]: sum of column i over the rows where j is present
        squares = (x * x).T @ present
        products = x.T @ x
        covariance = products - sums * sums.T / rows
        spread = squares - sums * sums / rows
        result = covariance / np.sqrt(spread * spread.T)
    result[(rows < 3) | ~np.isfinite(result)] = np.nan
    return np.clip(result, -1.0, 1.0)


def _category_codes(series: pd.Series) -> np.ndarray:
    """0..k−1 by frequency (the most common ASSOCIATION_CATEGORIES, then one for the rest), −1 missing."""
    codes, _ = pd.factorize(series, use_na_sentinel=True)
    counts = np.bincount(codes[codes >= 0])
    order = np.argsort(-counts, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    pooled = np.minimum(rank, ASSOCIATION_CATEGORIES)
    return np.where(codes >= 0, pooled[np.maximum(codes, 0)], -1) if len(order) else codes


def _cramers_v(first: np.ndarray, second: np.ndarray) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two code arrays, over rows where both are present."""
    both = (first >= 0) & (second >= 0)
    a, b = first[both], second[both]
    rows = len(a)
    if rows < 3:
        return math.nan
    width = int(b.max()) + 1
    table = np.bincount(a * width + b, minlength=(int(a.max()) + 1) * width).reshape(-1, width)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0].astype("float64")
    r, k = table.shape
    if r < 2 or k < 2:
        return math.nan
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / rows
    phi2 = float(((table - expected) ** 2 / expected).sum()) / rows
    phi2 = max(0.0, phi2 - (r - 1) * (k - 1) / (rows - 1))
    r_corrected = r - (r - 1) ** 2 / (rows - 1)
    k_corrected = k - (k - 1) ** 2 / (rows - 1)
    denominator = min(r_corrected, k_corrected) - 1
    return math.nan if denominator <= 0 else min(1.0, math.sqrt(phi2 / denominator))


def _correlation_ratio(codes: np.ndarray, values: np.ndarray) -> float:
    """η: √(spread between category means / total spread) of `values`, over rows where both are present."""
    both = (codes >= 0) & np.isfinite(values)
    groups, x = codes[both], values[both]
    if len(x) < 3:
        return math.nan
    total = float(((x - x.mean()) ** 2).sum())
    if total == 0 or np.unique(groups).size < 2:
        return math.nan
    counts = np.bincount(groups)
    present = counts > 0
    means = np.bincount(groups, weights=x)[present] / counts[present]
    between = float((counts[present] * (means - x.mean()) ** 2).sum())
    return min(1.0, math.sqrt(between / total))


def association_figure(names: list[str], real: np.ndarray, synthetic: np.ndarray) -> Figure:
    """The real and the synthetic association matrices side by side, on one colour scale (−1 to 1)."""
    n = len(names)
    cell = min(max(4.6 / n, 0.1), 0.42)
    labels, size, left, bottom = _matrix_labels(names)
    top, gap, right = 0.45, 0.35, 1.3  # titles above; the colour bar, its ticks and its label on the right
    width, height = left + 2 * n * cell + gap + right, bottom + n * cell + top
    figure = Figure(figsize=(width, height))
    cmap = colormaps["RdBu_r"].with_extremes(bad="#e4e4e4")
    image = None
    for number, (matrix, title) in enumerate(((real, REAL_LABEL), (synthetic, SYNTHETIC_LABEL))):
        x0 = left + number * (n * cell + gap)
        ax = figure.add_axes((x0 / width, bottom / height, n * cell / width, n * cell / height))
        image = ax.imshow(
            np.ma.masked_invalid(matrix), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest", aspect="auto"
        )
        ax.set_title(title, fontsize=10, fontweight="bold", loc="left")
        ax.set_xticks(np.arange(n), labels, rotation=50, ha="right", rotation_mode="anchor", fontsize=size)
        ax.set_yticks(np.arange(n), labels if number == 0 else [], fontsize=size)
        ax.tick_params(length=0)
        ax.spines[:].set_visible(False)
        if n < ANNOTATE_BELOW:
            for (i, j), value in np.ndenumerate(matrix):
                if not math.isnan(value):
                    colour = "white" if abs(value) > 0.6 else "#222222"
                    text = f"{value:.2f}".replace("-", "−")
                    ax.text(
                        j, i, text, ha="center", va="center", fontsize=7 if cell >= 0.3 else 6, color=colour
                    )
    colour_bar = figure.add_axes(
        ((width - right + 0.25) / width, bottom / height, 0.18 / width, n * cell / height)
    )
    figure.colorbar(image, cax=colour_bar, label="association (0 = none, ±1 = complete)")
    colour_bar.tick_params(labelsize=8)
    return figure


def _matrix_labels(names: list[str]) -> tuple[list[str], float, float, float]:
    """Tick labels, their font size, and the left and bottom margins (inches) they need."""
    n = len(names)
    size = 9 if n <= 15 else 7 if n <= 30 else 5.5
    labels = [_label(name, 24) for name in names]
    longest = max(_text_inches(label, size) for label in labels)
    return labels, size, longest + 0.2, longest * math.sin(math.radians(50)) + 0.35


def _heatmap(names: list[str], matrix: np.ndarray) -> Figure:
    """Square cells, margins measured from the labels (a layout engine misplaces fixed-aspect axes)."""
    n = len(names)
    cell = min(max(7.0 / n, 0.16), 0.45)
    labels, size, left, bottom = _matrix_labels(names)
    top, right = 0.2, 1.3  # the colour bar, its ticks and its label
    width, height = left + n * cell + right, bottom + n * cell + top
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((left / width, bottom / height, n * cell / width, n * cell / height))
    colour_bar = figure.add_axes(
        ((left + n * cell + 0.25) / width, bottom / height, 0.18 / width, n * cell / height)
    )
    cmap = colormaps["YlOrRd"].with_extremes(bad="#e4e4e4")
    image = ax.imshow(
        np.ma.masked_invalid(matrix), cmap=cmap, vmin=0, vmax=100, interpolation="nearest", aspect="auto"
    )
    ax.set_xticks(np.arange(n), labels, rotation=50, ha="right", rotation_mode="anchor", fontsize=size)
    ax.set_yticks(np.arange(n), labels, fontsize=size)
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    if n < ANNOTATE_BELOW:
        for (i, j), value in np.ndenumerate(matrix):
            if not math.isnan(value):
                colour = "white" if value > 55 else "#222222"
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=8, color=colour)
    figure.colorbar(image, cax=colour_bar, label="pair-trend error, % (0 = perfect)")
    colour_bar.tick_params(labelsize=8)
    return figure


def _text_inches(text: str, size: float) -> float:
    width, _, _ = text_to_path.get_text_width_height_descent(
        text, font_manager.FontProperties(size=size), ismath=False
    )
    return width / 72


def zero_distances(distances: np.ndarray) -> int:
    """Synthetic rows at distance exactly 0 from their closest real row: equal to a real row in every
    scored column (the distances are computed exactly, so equal rows give 0.0)."""
    return int(np.count_nonzero(np.asarray(distances) == 0))


def dcr_figure(train: np.ndarray, holdout: np.ndarray, share: float, interval: tuple[float, float]) -> Figure:
    """Both distance histograms on shared bins; the legend counts the rows at distance 0, which the
    first bin would otherwise blur with near neighbours."""
    figure = _fixed_margins(Figure(figsize=(9.0, 3.8)), left=0.85, right=0.2, top=0.4, bottom=0.6)
    ax = figure.subplots()
    both = np.concatenate([train, holdout])
    both = both[np.isfinite(both)]
    high = float(both.max()) if both.size else 1.0
    edges = np.linspace(0.0, high if high > 0 else 1.0, 51)
    for values, colour, label in (
        (train, REAL_COLOUR, "closest row in train (sample)"),
        (holdout, HOLDOUT_COLOUR, "closest row in holdout"),
    ):
        counts, _ = np.histogram(values[np.isfinite(values)], bins=edges)
        zeros = zero_distances(values)
        at_zero = f"{zeros:,} at distance 0 ({_share_text(zeros / max(len(values), 1))})"
        ax.stairs(counts / max(len(values), 1), edges, fill=True, alpha=0.3, color=colour)
        ax.stairs(
            counts / max(len(values), 1), edges, color=colour, linewidth=1.5, label=f"{label}: {at_zero}"
        )
    ax.set_title(
        f"DCR share {format_number(share)} "
        f"(95 % interval {format_number(interval[0])}–{format_number(interval[1])}; "
        "0.5 ideal): share of synthetic rows closer to train than to holdout",
        fontsize=10,
        loc="left",
    )
    ax.set_xlabel("distance from a synthetic row to its closest real row (0 = an identical row)", fontsize=9)
    ax.set_ylabel("share of synthetic rows", fontsize=9)
    ax.yaxis.set_major_formatter(lambda value, _: f"{100 * value:.0f} %")
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=9, frameon=False)
    return figure


def utility_figure(
    real: dict[str, float], synthetic: dict[str, float], target: str, gap: float, headline: str
) -> Figure:
    metrics = list(real)
    figure = Figure(figsize=(2.0 * len(metrics) + 3.4, 3.6))
    figure = _fixed_margins(figure, left=0.6, right=2.3, top=0.4, bottom=0.45)  # the legend sits right
    ax = figure.subplots()
    x = np.arange(len(metrics))
    width = 0.38
    for offset, scores, colour, label in (
        (-width / 2, real, REAL_COLOUR, "trained on real (TRTR)"),
        (width / 2, synthetic, SYNTHETIC_COLOUR, "trained on synthetic (TSTR)"),
    ):
        values = np.array([scores.get(m, np.nan) for m in metrics], dtype="float64")
        bars = ax.bar(x + offset, np.nan_to_num(values), width, color=colour, alpha=0.85, label=label)
        ax.bar_label(bars, labels=[format_number(v) for v in values], fontsize=8, padding=2)
    ax.set_xticks(x, [metric_name(m) for m in metrics], fontsize=9)
    values = [v for v in [*real.values(), *synthetic.values()] if not math.isnan(v)]
    low = min(0.0, *values) if values else 0.0
    ax.set_ylim(low * 1.15, max(1.0, *values) * 1.12 if values else 1.0)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_title(
        f"predicting {_label(target, 30)} on the real holdout: {metric_name(headline)} gap "
        f"(TRTR − TSTR) {format_number(gap)}",
        fontsize=10,
        loc="left",
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


LIFT_VARIANTS = (
    ("real", "real only", REAL_COLOUR),
    ("augmented", "real + synthetic", SYNTHETIC_COLOUR),
    ("smote", "real + SMOTE", "#8c8c8c"),
)
LOWER_IS_BETTER = frozenset({"mae", "rmse", "mse", "log_loss", "brier"})
METRIC_NAMES = {
    "roc_auc": "ROC AUC",
    "macro_f1": "macro F1",
    "minority_f1": "minority-class F1",
    "balanced_accuracy": "balanced accuracy",
    "accuracy": "accuracy",
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
}


def lift_figure(lift: Lift) -> Figure:
    """One small chart per metric (their scales differ: an MAE is not a share), each with a bar per
    training set: real only, real + synthetic and, when SMOTE ran, real + SMOTE, scored on the real
    holdout. Bars with extra rows carry their difference to real only."""
    metrics = list(lift.real)
    variants = [
        (key, label, colour) for key, label, colour in LIFT_VARIANTS if getattr(lift, key) is not None
    ]
    panels = max(len(metrics), 1)
    width, height = min(max(2.3 * panels + 0.9, 6.0), 12.5), 3.3
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(
        left=0.55 / width, right=1 - 0.2 / width, top=1 - 1.1 / height, bottom=0.2 / height, wspace=0.45
    )
    axes = figure.subplots(1, panels, squeeze=False).ravel()
    minority = f" (minority class {_label(lift.minority, 24)})" if lift.minority else ""
    figure.suptitle(
        f"predicting {_label(lift.target, 30)}{minority} on the real holdout",
        fontsize=10,
        x=0.55 / width,
        ha="left",
        y=1 - 0.1 / height,
        va="top",
    )
    for ax, metric in zip(axes, metrics, strict=False):
        baseline = lift.real.get(metric, math.nan)
        scores = np.array(
            [getattr(lift, key).get(metric, math.nan) for key, _, _ in variants], dtype="float64"
        )
        bars = ax.bar(
            np.arange(len(variants)),
            np.nan_to_num(scores),
            0.7,
            color=[c for _, _, c in variants],
            alpha=0.85,
        )
        texts = [format_number(scores[0])] + [
            f"{format_number(v)}\n({signed(v - baseline)})" for v in scores[1:]
        ]
        ax.bar_label(bars, labels=texts, fontsize=7.5, padding=2)
        finite = [v for v in scores if not math.isnan(v)]
        low, high = min(0.0, *finite) if finite else 0.0, max(0.0, *finite) if finite else 1.0
        ax.set_ylim(low * 1.3, high * 1.3 if high > 0 else 1.0)
        ax.axhline(0, color="#888888", linewidth=0.8)
        ax.set_xticks([])
        ax.set_title(metric_name(metric).replace(" (", "\n("), fontsize=9, fontweight="bold")
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[len(metrics) :]:
        ax.set_axis_off()
    handles = [Patch(facecolor=colour, alpha=0.85, label=label) for _, label, colour in variants]
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.55 / width, 1 - 0.35 / height),
        ncols=3,
        fontsize=8.5,
        frameon=False,
    )
    return figure


def signed(value: float) -> str:
    return "n/a" if math.isnan(value) else ("+" if value >= 0 else "−") + format_number(abs(value))


def metric_name(name: str) -> str:
    """A metric's name for people; "(lower is better)" where a smaller score is the better one."""
    text = METRIC_NAMES.get(name, name.replace("_", " "))
    return f"{text} (lower is better)" if name in LOWER_IS_BETTER else text


# ---------------------------------------------------------------- figures as embedded PNGs


def _fixed_margins(figure: Figure, *, left: float, right: float, top: float, bottom: float) -> Figure:
    """Margins in inches: a layout engine would measure every label again, for the same result."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    return figure


def embed(figure: Figure, alt: str) -> str:
    """The figure as an inline PNG `<img>`; the figure is cleared afterwards, freeing its memory."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        figure.clear()
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = html.escape(alt, quote=True)
    return f'<figure><img src="data:image/png;base64,{encoded}" alt="{text}"></figure>'


def _label(text: object, limit: int) -> str:
    """User text made safe to draw: one line, shortened, `$` not read as maths, no glyph the font lacks.

    matplotlib warns for each character its font cannot draw; such characters become '?' (the HTML
    tables carry the exact names).
    """
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    drawable = "".join(ch if _has_glyph(ch) else "?" for ch in value)
    return drawable.replace("$", r"\$")


@lru_cache(maxsize=4096)
def _has_glyph(character: str) -> bool:
    if character.isascii() and character.isprintable():
        return True
    if unicodedata.category(character).startswith("C"):
        return False
    return _font().get_char_index(ord(character)) != 0


@lru_cache(maxsize=1)
def _font() -> FT2Font:
    return font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=["sans-serif"])))
