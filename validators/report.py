"""The HTML report of one evaluation: the verdict, the scorecard, plots and the contract check.

A person decides from it whether to trust a synthetic table, often long after the run and offline, so
it is one self-contained HTML file: inline CSS, no JavaScript, every plot a PNG embedded as base64,
nothing fetched from anywhere. Plots are drawn on `matplotlib.figure.Figure` objects, never through
pyplot, so no global figure state leaks between calls or threads.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

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

from data_contracts.model import Column, ColumnKind, Contract
from synthwright.files import fsync_path
from validators.evaluate import Evaluation
from validators.features import scored_columns
from validators.gates import Metric, Scorecard

PLOT_ROWS = 20_000
"""Rows of each frame (seeded sample) the distribution plots draw: plenty for a histogram, and fast."""
MAX_PLOTTED_COLUMNS = 60
PANELS_PER_FIGURE = 20
GRID_COLUMNS = 4
TOP_CATEGORIES = 20
HISTOGRAM_BINS = 40
ANNOTATE_BELOW = 20
"""Heatmap cells carry their number when there are fewer columns than this (more would not fit)."""
SEED = 0
DPI = 96
PANEL_WIDTH, PANEL_HEIGHT = 3.08, 2.9
"""Inches per distribution panel, margins included: four panels fill the page at 96 dpi, unscaled."""
PANEL_TOP, PANEL_BOTTOM, LEGEND_HEIGHT = 0.5, 0.85, 0.4
REAL_LABEL, SYNTHETIC_LABEL = "real (train)", "synthetic"
REAL_COLOUR, SYNTHETIC_COLOUR, HOLDOUT_COLOUR = "#3b6ea8", "#e07b39", "#5a9e5a"
NUMERIC_KINDS = (ColumnKind.INTEGER, ColumnKind.FLOAT, ColumnKind.DATETIME)
GROUPS = ("fidelity", "privacy", "utility", "contract")
FAILURE_MEANING = {
    "fidelity": "the synthetic rows do not look like the real ones",
    "privacy": "the synthetic rows may give away the real rows they were learned from",
    "utility": "a model trained on the synthetic rows does worse on real data than one trained on real rows",
    "contract": "the synthetic rows break the data contract",
}


def render_report(
    evaluation: Evaluation,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    title: str,
    details: dict[str, str] | None = None,
) -> str:
    """One self-contained HTML document: verdict first, then the scorecard, the plots, the contract."""
    body = [
        _header(title, details or {}, evaluation),
        _verdict(evaluation),
        _scorecard_section(evaluation.scorecard),
        _distribution_section(evaluation, train, synthetic, contract),
        _pair_section(evaluation, contract),
        _privacy_section(evaluation),
        _utility_section(evaluation),
        _contract_section(evaluation),
        _footer(evaluation),
    ]
    return _page(title, "\n".join(body))


def write_report(
    path: str | os.PathLike[str],
    evaluation: Evaluation,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    contract: Contract,
    *,
    title: str,
    details: dict[str, str] | None = None,
) -> Path:
    """Render and write atomically: a reader (or a crash) never sees half a report."""
    document = render_report(evaluation, train, synthetic, contract, title=title, details=details)
    return _write_atomically(Path(path), document.encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> Path:
    """A temporary file beside the target, then os.replace.

    The file gets the umask's permissions like any other (mkstemp's 0600 would hide a published
    report from its readers).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
    return path


# ---------------------------------------------------------------- page, header, verdict, scorecard


def _section(anchor: str, title: str, *parts: str) -> str:
    """`<section>` with an `<h2>`; `parts` are HTML already escaped."""
    return (
        f'<section id="{anchor}"><h2>{_e(title)}</h2>\n' + "\n".join(p for p in parts if p) + "\n</section>"
    )


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'  # else a browser asks the server for /favicon.ico
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n"
        "</main>\n</body>\n</html>\n"
    )


def _header(title: str, details: dict[str, str], evaluation: Evaluation) -> str:
    rows = evaluation.rows
    facts = {
        **details,
        "rows": " · ".join(f"{name} {count:,}" for name, count in rows.items()),
    }
    listed = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts.items())
    return f'<header><h1>{_e(title)}</h1>\n<dl class="details">{listed}</dl></header>'


def _verdict(evaluation: Evaluation) -> str:
    """The answer first: passed or rejected, which gates failed and what that means."""
    scorecard = evaluation.scorecard
    gated = [m for m in scorecard.metrics if m.threshold is not None]
    if scorecard.passed:
        qualities = ["faithful to the real data", "private"]
        if evaluation.utility is not None:
            qualities.append("useful for a model")
        qualities.append("within the contract")
        meaning = (
            f"All {len(gated)} gates passed: by these thresholds the synthetic rows are "
            f"{', '.join(qualities[:-1])} and {qualities[-1]}."
            if gated
            else "No gate is set: every figure below is reported, none was held to a threshold."
        )
        return (
            '<section class="verdict passed" id="verdict">\n<p class="banner">PASSED</p>\n'
            f'<p class="meaning">{_e(meaning)}</p>\n</section>'
        )
    failures = scorecard.failures
    groups = [g for g in GROUPS if any(m.group == g for m in failures)]
    meaning = (
        f"{len(failures)} of {len(gated)} gates failed: "
        + "; ".join(FAILURE_MEANING[g] for g in groups)
        + ". Do not use or publish these rows as they are."
    )
    items = "".join(f"<li>{_failure_line(m)}</li>" for m in failures)
    return (
        '<section class="verdict rejected" id="verdict">\n<p class="banner">REJECTED</p>\n'
        f'<p class="meaning">{_e(meaning)}</p>\n<p>Failed gates:</p>\n<ul class="failed">{items}</ul>\n'
        "</section>"
    )


def _failure_line(metric: Metric) -> str:
    if math.isnan(metric.value):
        found = "could not be computed"
    else:
        found = f"is {_number(metric.value)}{metric.unit}"
    return f"<b>{_e(metric.name)}</b> ({_e(metric.group)}) {_e(found)}, the gate is {_e(_bound(metric))}" + (
        f' <span class="muted">(real holdout: {_e(_with_unit(metric.reference, metric))})</span>'
        if metric.reference is not None
        else ""
    )


def _number(value: float | None) -> str:
    """Counts as integers, percentages with one decimal, AUCs and shares with three (as gates' lines)."""
    if value is None or math.isnan(value):
        return "n/a"
    if float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}" if abs(value) >= 1 else f"{value:.3f}"


def _percent(value: float | None) -> str:
    text = _number(value)
    return text if text == "n/a" else f"{text} %"


def _with_unit(value: float | None, metric: Metric) -> str:
    if value is None:
        return "—"
    return "n/a" if math.isnan(value) else f"{_number(value)}{metric.unit}"


def _bound(metric: Metric) -> str:
    if metric.threshold is None:
        return "not gated"
    return f"{'≤' if metric.direction == 'max' else '≥'} {_number(metric.threshold)}{metric.unit}"


def _scorecard_section(scorecard: Scorecard) -> str:
    head = (
        "<tr><th></th><th>metric</th><th>value</th><th>gate</th><th>real holdout</th>"
        "<th>95 % interval</th><th>ideal</th><th>what it measures</th></tr>"
    )
    rows = []
    for group in GROUPS:
        metrics = [m for m in scorecard.metrics if m.group == group]
        if not metrics:
            continue
        rows.append(f'<tr class="group"><th colspan="8">{_e(group)}</th></tr>')
        rows += [_scorecard_row(m) for m in metrics]
    note = (
        '<p class="muted">"real holdout" is the same metric for real rows the generator never saw, scored '
        "against train: the value that sampling noise alone gives.</p>"
    )
    table = (
        f'<table class="scorecard">\n<thead>{head}</thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table>"
    )
    return _section("scorecard", "Scorecard", note, table)


def _scorecard_row(metric: Metric) -> str:
    if metric.threshold is None:
        mark, status = '<span class="mark info" title="reported, not gated">·</span>', "info"
    elif metric.passed:
        mark, status = '<span class="mark pass" title="passed">✓</span>', "pass"
    else:
        mark, status = '<span class="mark fail" title="failed">✗</span>', "fail"
    interval = (
        "—"
        if metric.interval is None
        else f"{_number(metric.interval[0])}–{_number(metric.interval[1])}{metric.unit}"
    )
    cells = [
        _e(metric.name),
        _e(_with_unit(metric.value, metric)),
        _e(_bound(metric)),
        _e(_with_unit(metric.reference, metric)),
        _e(interval),
        _e(_with_unit(metric.ideal, metric)),
    ]
    numbers = "".join(f'<td class="num">{c}</td>' for c in cells[1:])
    return (
        f'<tr class="{status}"><td>{mark}</td><td><code>{cells[0]}</code></td>{numbers}'
        f'<td class="what">{_e(metric.description)}</td></tr>'
    )


# ---------------------------------------------------------------- distributions


def _distribution_section(
    evaluation: Evaluation, train: pd.DataFrame, synthetic: pd.DataFrame, contract: Contract
) -> str:
    """Real vs synthetic, one panel per scored column, on a seeded sample of each frame."""
    columns = scored_columns(contract)
    heading = "Real vs synthetic, column by column"
    if not columns:
        return _section("columns", heading, "<p>The contract has no scored columns.</p>")
    shown = _columns_to_plot(columns, evaluation)
    names = [c.name for c in shown]
    real, fake = _sample(train, names), _sample(synthetic, names)
    notes = [
        "Numbers and dates: density histograms on shared bins. Categories: share of rows per category "
        f"(the {TOP_CATEGORIES} most common in the real data; the rest summed; missing values as their "
        "own bar). Each title gives the column's shape error (0 % = identical) and the ROC AUC of a "
        "classifier that tells real from synthetic rows by that column alone (0.5 = cannot tell)."
    ]
    if len(train) > PLOT_ROWS or len(synthetic) > PLOT_ROWS:
        notes.append(f"Plotted on a seeded sample of at most {PLOT_ROWS:,} rows of each table.")
    if len(shown) < len(columns):
        notes.append(
            f"{len(columns)} scored columns: plotted are the {len(shown)} that a classifier tells apart "
            "best (highest single-column AUC); the table below lists all."
        )
    images = []
    for number, chunk in enumerate(_chunks(shown, PANELS_PER_FIGURE), start=1):
        figure = _distribution_figure(chunk, real, fake, evaluation)
        listed = ", ".join(c.name for c in chunk)
        images.append(_embed(figure, f"Real (train) vs synthetic distributions, part {number}: {listed}"))
    notes_html = "".join(f'<p class="muted">{_e(n)}</p>' for n in notes)
    return _section("columns", heading, notes_html, *images, _column_table(columns, evaluation))


def _columns_to_plot(columns: list[Column], evaluation: Evaluation) -> list[Column]:
    """All of them, or the MAX_PLOTTED_COLUMNS most detectable ones, in the contract's order."""
    if len(columns) <= MAX_PLOTTED_COLUMNS:
        return columns
    auc = evaluation.detection.column_auc

    def badness(column: Column) -> float:
        value = auc.get(column.name, float("nan"))
        return -1.0 if math.isnan(value) else value

    keep = {c.name for c in sorted(columns, key=badness, reverse=True)[:MAX_PLOTTED_COLUMNS]}
    return [c for c in columns if c.name in keep]


def _column_table(columns: list[Column], evaluation: Evaluation) -> str:
    """Every scored column, the most detectable first: where to look when the plots cannot show all."""
    errors, auc = evaluation.fidelity.column_errors, evaluation.detection.column_auc

    def key(column: Column) -> float:
        value = auc.get(column.name, float("nan"))
        return -math.inf if math.isnan(value) else value

    rows = "".join(
        f"<tr><td><code>{_e(c.name)}</code></td><td>{_e(c.kind.value)}</td>"
        f'<td class="num">{_e(_percent(errors.get(c.name)))}</td>'
        f'<td class="num">{_e(_number(auc.get(c.name)))}</td></tr>'
        for c in sorted(columns, key=key, reverse=True)
    )
    return (
        '<details class="columns"><summary>Every scored column, most detectable first</summary>'
        '<table class="compact"><thead><tr><th>column</th><th>kind</th><th>shape error</th>'
        f"<th>detection AUC</th></tr></thead><tbody>{rows}</tbody></table></details>"
    )


def _sample(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    if len(frame) <= PLOT_ROWS:
        return frame[names]
    rows = np.random.default_rng(SEED).choice(len(frame), PLOT_ROWS, replace=False)
    return frame[names].iloc[np.sort(rows)]


def _chunks(items: Sequence[Column], size: int) -> Iterator[Sequence[Column]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _distribution_figure(
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
    scores = f"shape error {_percent(error)} · AUC {_number(auc)}"
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


# ---------------------------------------------------------------- pairs, privacy, utility, contract


def _pair_section(evaluation: Evaluation, contract: Contract) -> str:
    heading = "Column-pair trends"
    columns = scored_columns(contract)
    shown = _columns_to_plot(columns, evaluation)
    names, matrix = _pair_matrix(evaluation.fidelity.pair_errors, [c.name for c in shown])
    if len(names) < 2:
        return _section("pairs", heading, "<p>Fewer than two scored columns: no pairs to compare.</p>")
    note = (
        "Error of each column pair's correlation (numbers) or contingency table (categories) between real "
        "and synthetic rows, in percent: 0 = the pair relates exactly as in the real data. Grey: not "
        "scored (SDMetrics leaves out pairs whose real relation is weak, and pairs it cannot compute)."
        + (f" Shown: the {len(shown)} columns plotted above." if len(shown) < len(columns) else "")
    )
    figure = _heatmap(names, matrix)
    alt = f"Heatmap of pair-trend errors (percent) over {len(names)} columns"
    return _section("pairs", heading, f'<p class="muted">{_e(note)}</p>', _embed(figure, alt))


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


def _privacy_section(evaluation: Evaluation) -> str:
    private = evaluation.privacy
    heading = "Distance to the closest real row"
    note = (
        "For every synthetic row, the distance to its closest row in a sample of the training data and "
        "in the holdout (real rows the generator never saw; equal sizes). A generator that learned the "
        "population, not its rows, gives two matching curves; copied rows pile up near 0 on the train curve."
    )
    train, holdout = np.asarray(private.dcr_train, float), np.asarray(private.dcr_holdout, float)
    if train.size == 0 or holdout.size == 0:
        return _section("privacy", heading, "<p>No distances were measured.</p>")
    figure = _dcr_figure(train, holdout, private.dcr_share, private.dcr_share_interval)
    alt = f"Histograms of distance to closest record, train vs holdout; DCR share {private.dcr_share}"
    rows = private.rows
    sampled = (
        f'<p class="muted">Rows compared: {rows.get("synthetic", 0):,} synthetic; {rows.get("train", 0):,} '
        f"sampled from train and {rows.get('holdout', 0):,} from the holdout.</p>"
    )
    return _section("privacy", heading, f'<p class="muted">{_e(note)}</p>', sampled, _embed(figure, alt))


def _dcr_figure(
    train: np.ndarray, holdout: np.ndarray, share: float, interval: tuple[float, float]
) -> Figure:
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
        f"DCR share {_number(share)} (95 % interval {_number(interval[0])}–{_number(interval[1])}; "
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


def _utility_section(evaluation: Evaluation) -> str:
    heading = "Utility: train on synthetic, test on real"
    useful = evaluation.utility
    if useful is None:
        return _section(
            "utility",
            heading,
            "<p>Utility was not measured: no target column was given (name one to compare a model "
            "trained on synthetic rows with one trained on real rows).</p>",
        )
    note = (
        f"One fixed model trained on the real training rows (TRTR) and, separately, on the synthetic rows "
        f"(TSTR); both predict {useful.target!r} on the real holdout. Model: {useful.model}."
    )
    figure = _utility_figure(useful.real, useful.synthetic, useful.target, useful.gap, useful.headline)
    alt = f"Bar chart of TRTR vs TSTR scores predicting {useful.target}; gap {useful.gap}"
    return _section("utility", heading, f'<p class="muted">{_e(note)}</p>', _embed(figure, alt))


def _utility_figure(
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
        ax.bar_label(bars, labels=[_number(v) for v in values], fontsize=8, padding=2)
    ax.set_xticks(x, [_metric_name(m) for m in metrics], fontsize=9)
    values = [v for v in [*real.values(), *synthetic.values()] if not math.isnan(v)]
    low = min(0.0, *values) if values else 0.0
    ax.set_ylim(low * 1.15, max(1.0, *values) * 1.12 if values else 1.0)
    ax.axhline(0, color="#888888", linewidth=0.8)
    ax.set_title(
        f"predicting {_label(target, 30)} on the real holdout: {_metric_name(headline)} gap "
        f"(TRTR − TSTR) {_number(gap)}",
        fontsize=10,
        loc="left",
    )
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def _metric_name(name: str) -> str:
    return {"roc_auc": "ROC AUC", "macro_f1": "macro F1", "r2": "R²"}.get(name, name.replace("_", " "))


def _contract_section(evaluation: Evaluation) -> str:
    report = evaluation.contract_report
    heading = "Contract check of the synthetic rows"
    checks = len(report.results)
    if report.passed:
        return _section(
            "contract", heading, f'<p class="ok">All {checks} checks passed on {report.rows:,} rows.</p>'
        )
    rows = "".join(
        f"<tr><td><code>{_e(v.check)}</code></td><td>{_e(v.column or 'table')}</td>"
        f'<td class="num">{_e("—" if v.unexpected_count is None else f"{v.unexpected_count:,}")}</td>'
        f"<td>{_e(v.message)}</td></tr>"
        for v in report.violations
    )
    summary = (
        f'<p class="bad">{len(report.violations)} of {checks} checks failed on {report.rows:,} rows:</p>'
    )
    table = (
        '<table class="compact"><thead><tr><th>check</th><th>column</th><th>rows</th><th>what failed</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
    return _section("contract", heading, summary, table)


def _footer(evaluation: Evaluation) -> str:
    if not evaluation.seconds:
        return ""
    spent = " · ".join(f"{name} {seconds:.1f} s" for name, seconds in evaluation.seconds.items())
    return f'<footer class="muted">Measured in: {_e(spent)}.</footer>'


# ---------------------------------------------------------------- figures as embedded PNGs


def _fixed_margins(figure: Figure, *, left: float, right: float, top: float, bottom: float) -> Figure:
    """Margins in inches: a layout engine would measure every label again, for the same result."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    return figure


def _embed(figure: Figure, alt: str) -> str:
    """The figure as an inline PNG `<img>`; the figure is cleared afterwards, freeing its memory."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    finally:
        figure.clear()
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{encoded}" alt="{_e(alt)}"></figure>'


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


_CSS = """
:root { color-scheme: light; --ok: #1e7b34; --bad: #b3261e; --muted: #5f6368; --line: #dadce0; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #202124;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 8px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.details { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0;
  font-size: 14px; }
.details dt { color: var(--muted); }
.details dd { margin: 0; overflow-wrap: anywhere; }
.verdict { margin: 20px 0; padding: 16px 22px; border-radius: 8px; border: 2px solid; }
.verdict.passed { border-color: var(--ok); background: #e8f5ea; }
.verdict.rejected { border-color: var(--bad); background: #fcebea; }
.banner { margin: 0; font-size: 40px; font-weight: 800; letter-spacing: 0.06em; }
.passed .banner { color: var(--ok); }
.rejected .banner { color: var(--bad); }
.meaning { font-size: 17px; margin: 6px 0; }
.failed { margin: 4px 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: #f1f3f4; font-weight: 600; white-space: nowrap; }
tr.group th { background: #e8eaed; text-transform: uppercase; font-size: 12px; letter-spacing: 0.08em; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.what { color: var(--muted); font-size: 13px; }
tr.fail td { background: #fdf0ef; }
.mark { font-weight: 700; font-size: 16px; }
.mark.pass, .ok { color: var(--ok); }
.mark.fail, .bad { color: var(--bad); }
.mark.info { color: var(--muted); }
.muted { color: var(--muted); font-size: 14px; }
table.compact { width: auto; font-size: 13px; }
details.columns { margin: 10px 0; }
summary { cursor: pointer; color: #1a57b5; }
figure { margin: 14px 0; }
figure img { display: block; max-width: 100%; height: auto; }
footer { margin-top: 32px; }
"""
