"""The HTML report of one evaluation: the verdict, the scorecard, plots and the contract check.

A person decides from it whether to trust a synthetic table, often long after the run and offline, so
it is one self-contained HTML file: inline CSS, no JavaScript, every plot a PNG embedded as base64,
nothing fetched from anywhere. This module builds the page; the figures are drawn in
`synthwright.validators.report_plots`.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import Column, Contract
from synthwright.files import write_atomically
from synthwright.validators.evaluate import Evaluation
from synthwright.validators.features import scored_columns
from synthwright.validators.gates import Metric, Scorecard, format_number
from synthwright.validators.lift import Lift
from synthwright.validators.report_plots import (
    ASSOCIATION_CATEGORIES,
    CLIP_QUANTILES,
    FEW_DISTINCT,
    HEAVY_BODY_SHARE,
    LIFT_VARIANTS,
    TAIL_REACH,
    TOP_CATEGORIES,
    association_figure,
    association_matrix,
    dcr_figure,
    distribution_figure,
    embed,
    format_percent,
    lift_figure,
    metric_name,
    pair_trend_heatmap,
    signed,
    utility_figure,
    zero_distances,
)

PLOT_ROWS = 20_000
"""Rows of each frame (seeded sample) the distribution plots draw: plenty for a histogram, and fast."""
MAX_PLOTTED_COLUMNS = 60
PANELS_PER_FIGURE = 20
SEED = 0
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
        _pair_section(evaluation, contract, train, synthetic),
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
    return write_atomically(Path(path), document.encode("utf-8"))


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
    """The answer first: passed or rejected, which gates failed and what that means; a gate that was
    off or looser than its default is said in the banner itself."""
    scorecard = evaluation.scorecard
    gated = [m for m in scorecard.metrics if m.threshold is not None]
    relaxed = (
        f'<p class="relaxed">Judged with {_e(scorecard.relaxed_line)}; the default gates are stricter.</p>\n'
        if scorecard.relaxed
        else ""
    )
    if scorecard.passed:
        groups = {m.group for m in gated}
        qualities = [
            quality
            for group, quality in (
                ("fidelity", "faithful to the real data"),
                ("privacy", "private"),
                ("utility", "useful for a model"),
                ("contract", "within the contract"),
            )
            if group in groups
        ]
        ungated = [m.name for m in scorecard.metrics if m.threshold is None and m.name != "nndr_median"]
        meaning = (
            f"All {len(gated)} gates passed: by these thresholds the synthetic rows are "
            + (f"{', '.join(qualities[:-1])} and {qualities[-1]}" if len(qualities) > 1 else qualities[0])
            + "."
            + (f" Not gated: {', '.join(ungated)}." if ungated else "")
            if gated
            else "No gate is set: every figure below is reported, none was held to a threshold."
        )
        banner = "PASSED (relaxed gates)" if scorecard.relaxed else "PASSED"
        return (
            f'<section class="verdict passed" id="verdict">\n<p class="banner">{banner}</p>\n'
            f'<p class="meaning">{_e(meaning)}</p>\n{relaxed}</section>'
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
        f"{relaxed}</section>"
    )


def _failure_line(metric: Metric) -> str:
    if math.isnan(metric.value):
        found = "could not be computed"
    else:
        found = f"is {format_number(metric.value)}{metric.unit}"
    return f"<b>{_e(metric.name)}</b> ({_e(metric.group)}) {_e(found)}, the gate is {_e(_bound(metric))}" + (
        f' <span class="muted">(real holdout: {_e(_with_unit(metric.reference, metric))})</span>'
        if metric.reference is not None
        else ""
    )


def _with_unit(value: float | None, metric: Metric) -> str:
    if value is None:
        return "—"
    return "n/a" if math.isnan(value) else f"{format_number(value)}{metric.unit}"


def _bound(metric: Metric) -> str:
    return metric.bound or "not gated"


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
        else f"{format_number(metric.interval[0])}–{format_number(metric.interval[1])}{metric.unit}"
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
    low, high = (round(100 * q) for q in CLIP_QUANTILES)
    notes = [
        "Numbers and dates: the share of each table's rows in each bin, on bins both tables share. "
        f"Categories: share of rows per category (the {TOP_CATEGORIES} most common in the real data; the "
        "rest summed; missing values as their own bar). Each title gives the column's shape error "
        "(0 % = identical) and the ROC AUC of a classifier that tells real from synthetic rows by that "
        "column alone (0.5 = cannot tell).",
        f"Heavy tails: a number column with more than {FEW_DISTINCT} distinct values whose middle 90 % "
        f"(p5–p95) fills less than {100 * HEAVY_BODY_SHARE:.0f} % of its range, or whose p1 or p99 lies "
        f"more than {TAIL_REACH:g} interquartile ranges from the median, would be one spike on a plain "
        "axis. It is drawn on a log axis when its values reach over a decade (symlog, linear around 0, "
        f"when there are zeros or negatives), otherwise clipped to p{low}–p{high} of the real values, "
        "with the share of each table's rows left outside. The label under the panel says which.",
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
        figure = distribution_figure(chunk, real, fake, evaluation)
        listed = ", ".join(c.name for c in chunk)
        images.append(embed(figure, f"Real (train) vs synthetic distributions, part {number}: {listed}"))
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
        f'<td class="num">{_e(format_percent(errors.get(c.name)))}</td>'
        f'<td class="num">{_e(format_number(auc.get(c.name)))}</td></tr>'
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


def _pair_section(
    evaluation: Evaluation, contract: Contract, train: pd.DataFrame, synthetic: pd.DataFrame
) -> str:
    """How the columns relate, real beside synthetic, then how far off each pair's trend is."""
    heading = "Column-pair trends"
    columns = scored_columns(contract)
    shown = _columns_to_plot(columns, evaluation)
    names = [c.name for c in shown]
    if len(names) < 2:
        return _section("pairs", heading, "<p>Fewer than two scored columns: no pairs to compare.</p>")
    capped = f" Shown: the {len(shown)} columns plotted above." if len(shown) < len(columns) else ""
    real, fake = _sample(train, names), _sample(synthetic, names)
    association_note = (
        "How strongly each pair of columns is related, in the real training rows (left) and the synthetic "
        "rows (right), on one colour scale. Two numbers (dates count as numbers): Spearman's rank "
        "correlation, −1 to 1, the sign the direction. Two categories (booleans count as categories): "
        "Cramér's V, bias-corrected, 0 to 1. A number with a category: the correlation ratio η, 0 to 1 "
        "(how much of the number's spread the category explains). Missing values are left out of each "
        f"pair; categories beyond a column's {ASSOCIATION_CATEGORIES} most common are pooled. Grey: a "
        "column with itself, or a pair that cannot be measured (a constant column, too few rows)."
        + (
            f" Measured on a seeded sample of at most {PLOT_ROWS:,} rows of each table."
            if max(len(train), len(synthetic)) > PLOT_ROWS
            else ""
        )
        + capped
    )
    associations = association_figure(names, association_matrix(real, shown), association_matrix(fake, shown))
    association_alt = (
        f"Heatmaps of column-pair association over {len(names)} columns: real (train) on the left, "
        "synthetic on the right, same colour scale"
    )
    note = (
        "Error of each column pair's correlation (numbers) or contingency table (categories) between real "
        "and synthetic rows, in percent: 0 = the pair relates exactly as in the real data. Grey: not "
        "scored (SDMetrics leaves out pairs whose real relation is weak, and pairs it cannot compute)."
        + capped
    )
    figure = pair_trend_heatmap(evaluation.fidelity.pair_errors, names)
    alt = f"Heatmap of pair-trend errors (percent) over {len(names)} columns"
    return _section(
        "pairs",
        heading,
        f'<p class="muted">{_e(association_note)}</p>',
        embed(associations, association_alt),
        f'<p class="muted">{_e(note)}</p>',
        embed(figure, alt),
    )


def _privacy_section(evaluation: Evaluation) -> str:
    """The DCR histograms, with how to read their shapes and the rows at distance 0 on each side."""
    private = evaluation.privacy
    heading = "Distance to the closest real row"
    note = (
        "For every synthetic row, the distance to its closest row in a sample of the training data and "
        "in the holdout (real rows the generator never saw; equal sizes). A generator that learned the "
        "population, not its rows, gives two matching curves."
    )
    train, holdout = np.asarray(private.dcr_train, float), np.asarray(private.dcr_holdout, float)
    if train.size == 0 or holdout.size == 0:
        return _section("privacy", heading, "<p>No distances were measured.</p>")
    shapes = (
        "Reading the shapes: a bump at 0 on the train curve only = synthetic rows that copy training "
        "rows. A bump at 0 on both curves = the real data repeats its own rows, or the table has few "
        "distinct rows (a few low-cardinality columns), so plausible rows match real ones exactly; not "
        "a sign of copying by itself. A second bump further out = a group of synthetic rows from one "
        "cluster, all about as far from the real rows."
    )
    figure = dcr_figure(train, holdout, private.dcr_share, private.dcr_share_interval)
    alt = f"Histograms of distance to closest record, train vs holdout; DCR share {private.dcr_share}"
    rows = private.rows
    sampled = (
        f'<p class="muted">Rows compared: {rows.get("synthetic", 0):,} synthetic; {rows.get("train", 0):,} '
        f"sampled from train and {rows.get('holdout', 0):,} from the holdout.</p>"
    )
    return _section(
        "privacy",
        heading,
        f'<p class="muted">{_e(note)}</p>',
        sampled,
        f'<p class="muted">{_e(shapes)}</p>',
        f'<p class="zero-distance">{_e(_zero_distance_line(train, holdout))}</p>',
        embed(figure, alt),
    )


def _zero_distance_line(train: np.ndarray, holdout: np.ndarray) -> str:
    """How many synthetic rows equal a train row vs a holdout row: copying shows as the excess."""
    to_train, to_holdout = zero_distances(train), zero_distances(holdout)

    def part(count: int, total: int) -> str:
        return f"{count:,} of {total:,} ({format_percent(100 * count / max(total, 1))})"

    line = (
        f"At distance 0 (identical in every scored column): {part(to_train, len(train))} synthetic rows "
        f"to a train row, {part(to_holdout, len(holdout))} to a holdout row."
    )
    if to_train > to_holdout:
        line += (
            f" {to_train - to_holdout:,} more to train than to holdout: rows the generator may have copied."
        )
    elif to_train:
        line += " No more to train than to holdout: duplicates or few distinct rows, not copies."
    return line


def _utility_section(evaluation: Evaluation) -> str:
    """TRTR vs TSTR when a target was scored; the augmentation lift when one was measured; else why not."""
    useful, lift = evaluation.utility, evaluation.lift
    if useful is None:
        if lift is not None:
            return _section("utility", LIFT_HEADING, *_lift_parts(lift))
        return _section(
            "utility",
            "Utility: train on synthetic, test on real",
            "<p>Utility was not measured for this run (name a target column in the spec to compare a "
            "model trained on synthetic rows with one trained on real rows).</p>",
        )
    note = (
        f"One fixed model trained on the real training rows (TRTR) and, separately, on the synthetic rows "
        f"(TSTR); both predict {useful.target!r} on the real holdout. Model: {useful.model}."
    )
    figure = utility_figure(useful.real, useful.synthetic, useful.target, useful.gap, useful.headline)
    alt = f"Bar chart of TRTR vs TSTR scores predicting {useful.target}; gap {useful.gap}"
    parts = [f'<p class="muted">{_e(note)}</p>', embed(figure, alt)]
    if lift is not None:
        parts += [f"<h3>{_e(LIFT_HEADING)}</h3>", *_lift_parts(lift)]
    return _section("utility", "Utility: train on synthetic, test on real", *parts)


LIFT_HEADING = "Utility lift: does adding the synthetic rows help a model?"


def _lift_parts(lift: Lift) -> list[str]:
    """The lift's note, its bar chart, a table of the exact scores, and the notes of the measurement."""
    rows = lift.rows
    minority = (
        f" The minority class (the rarest in the training rows) is {lift.minority!r}."
        if lift.minority
        else ""
    )
    trained = ["the real training rows alone", "the real rows plus the synthetic rows"]
    if lift.smote is not None:
        trained.append(
            "the real rows plus as many SMOTE rows as there are synthetic rows (SMOTE: the classic "
            "oversampling baseline an augmentation has to beat)"
        )
    missing_smote = (
        ""
        if lift.smote is not None
        else " There is no SMOTE baseline" + (" (see the notes below)." if lift.notes else ".")
    )
    note = (
        f"One fixed model is trained on {', on '.join(trained[:-1])} and on {trained[-1]}; each predicts "
        f"{lift.target!r} on the real holdout, which none of them saw.{missing_smote}{minority} Rows: "
        f"{rows.get('train', 0):,} train, {rows.get('synthetic', 0):,} synthetic, "
        f"{rows.get('holdout', 0):,} holdout. In brackets: the change against real only. "
        f"Model: {lift.model}."
    )
    metrics = list(lift.real)
    alt = (
        f"Bar charts of {', '.join(metric_name(m) for m in metrics)} predicting {lift.target} when "
        "trained on real rows only, on real + synthetic rows"
        + (", and on real + SMOTE rows" if lift.smote is not None else "")
    )
    parts = [f'<p class="muted">{_e(note)}</p>', embed(lift_figure(lift), alt), _lift_table(lift)]
    if lift.notes:
        parts.append('<ul class="muted">' + "".join(f"<li>{_e(n)}</li>" for n in lift.notes) + "</ul>")
    return parts


def _lift_table(lift: Lift) -> str:
    """The scores behind the bars, exactly, with each variant's change against real only."""
    variants = [(key, label) for key, label, _ in LIFT_VARIANTS if getattr(lift, key) is not None]
    head = "".join(f"<th>{_e(label)}</th>" for _, label in variants)
    body = []
    for metric in lift.real:
        base = lift.real.get(metric, math.nan)
        cells = []
        for key, _ in variants:
            value = getattr(lift, key).get(metric, math.nan)
            change = "" if key == "real" else f" ({signed(value - base)})"
            cells.append(f'<td class="num">{_e(format_number(value) + change)}</td>')
        body.append(f"<tr><td>{_e(metric_name(metric))}</td>{''.join(cells)}</tr>")
    return (
        f'<table class="compact"><thead><tr><th>metric</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


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
.relaxed { color: #8a4b00; font-weight: 600; }
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
