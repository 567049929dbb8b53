"""The report's figures: matplotlib drawings of one evaluation, and each as an inline PNG `<img>`.

`synthwright.validators.report` builds the HTML page; this module draws what goes in it (the column-by-column
distribution grid, the pair-trend heatmap, the distance-to-closest-record histograms, the utility bars)
and owns the number formatting and text-safety rules that figures and page share, so the page module
holds no plotting code and the plots can change without touching the HTML. Plots are drawn on
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
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib import colormaps, font_manager
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator

from synthwright.data_contracts.model import Column, ColumnKind
from synthwright.validators.evaluate import Evaluation
from synthwright.validators.gates import format_number

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
    values = [_as_numbers(real, column), _as_numbers(synthetic, column)]
    finite = [v[np.isfinite(v)] for v in values]
    both = np.concatenate(finite)
    if both.size == 0:
        ax.text(0.5, 0.5, "no values", ha="center", va="center", transform=ax.transAxes)
    else:
        edges = _bin_edges(both, column, _bin_count(min(len(v) for v in finite if len(v))))
        for kept, colour, label in zip(
            finite, (REAL_COLOUR, SYNTHETIC_COLOUR), (REAL_LABEL, SYNTHETIC_LABEL), strict=True
        ):
            if kept.size:
                density, _ = np.histogram(kept, bins=edges, density=True)
                ax.stairs(density, edges, fill=True, alpha=0.35, color=colour, label=label)
                ax.stairs(density, edges, color=colour, linewidth=1.3)
        if column.kind is ColumnKind.DATETIME:
            locator = AutoDateLocator(maxticks=5)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        else:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
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
    ax.set_yticks([])
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right", "left"]].set_visible(False)


def _as_numbers(series: pd.Series, column: Column) -> np.ndarray:
    """float64, NaN for nulls; datetimes as matplotlib date numbers (days), so date axes work."""
    if column.kind is ColumnKind.DATETIME:
        stamps = pd.to_datetime(series, errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(None)
        return np.asarray(date2num(stamps.to_numpy(dtype="datetime64[ns]")), dtype="float64")
    return pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(na_value=np.nan)


def _bin_count(rows: int) -> int:
    """√rows bins, 10 to 40: enough for a shape, few enough that small samples are not all noise."""
    return int(min(max(math.sqrt(rows), 10), HISTOGRAM_BINS))


def _bin_edges(values: np.ndarray, column: Column, bins: int) -> np.ndarray:
    """Equal bins over both sides; integers get whole-number widths (no comb of empty bins)."""
    low, high = float(values.min()), float(values.max())
    if low == high:
        return np.array([low - 0.5, high + 0.5])
    if column.kind is ColumnKind.INTEGER:
        step = max(1, math.ceil((high - low + 1) / bins))
        return np.arange(low - 0.5, high + step, step)
    return np.histogram_bin_edges(values, bins=bins, range=(low, high))


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
    ax.yaxis.set_major_formatter(lambda value, _: f"{100 * value:.0f} %")
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


def _heatmap(names: list[str], matrix: np.ndarray) -> Figure:
    """Square cells, margins measured from the labels (a layout engine misplaces fixed-aspect axes)."""
    n = len(names)
    cell = min(max(7.0 / n, 0.16), 0.45)
    size = 9 if n <= 15 else 7 if n <= 30 else 5.5
    labels = [_label(name, 24) for name in names]
    longest = max(_text_inches(label, size) for label in labels)
    left, bottom = longest + 0.2, longest * math.sin(math.radians(50)) + 0.35
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


def dcr_figure(train: np.ndarray, holdout: np.ndarray, share: float, interval: tuple[float, float]) -> Figure:
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
        ax.stairs(counts / max(len(values), 1), edges, fill=True, alpha=0.3, color=colour)
        ax.stairs(counts / max(len(values), 1), edges, color=colour, linewidth=1.5, label=label)
    ax.set_title(
        f"DCR share {format_number(share)} "
        f"(95 % interval {format_number(interval[0])}–{format_number(interval[1])}; "
        "0.5 ideal): share of synthetic rows closer to train than to holdout",
        fontsize=10,
        loc="left",
    )
    ax.set_xlabel("distance from a synthetic row to its closest real row", fontsize=9)
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
    ax.set_xticks(x, [_metric_name(m) for m in metrics], fontsize=9)
    values = [v for v in [*real.values(), *synthetic.values()] if not math.isnan(v)]
    low = min(0.0, *values) if values else 0.0
    ax.set_ylim(low * 1.15, max(1.0, *values) * 1.12 if values else 1.0)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_title(
        f"predicting {_label(target, 30)} on the real holdout: {_metric_name(headline)} gap "
        f"(TRTR − TSTR) {format_number(gap)}",
        fontsize=10,
        loc="left",
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def _metric_name(name: str) -> str:
    return {"roc_auc": "ROC AUC", "macro_f1": "macro F1", "r2": "R²"}.get(name, name.replace("_", " "))


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
