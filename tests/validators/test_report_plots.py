"""The report's figures, inspected as matplotlib objects: which axis a column gets and why, what the
pair, DCR and lift figures put side by side. Seeded frames whose right answer is known."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch
from test_report import build_evaluation

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators import report_plots
from synthwright.validators.lift import Lift

ROWS = 3000
COLUMNS = [
    Column(name="lognormal", kind=ColumnKind.FLOAT),
    Column(name="gains", kind=ColumnKind.INTEGER),
    Column(name="outliers", kind=ColumnKind.FLOAT),
    Column(name="normal", kind=ColumnKind.FLOAT),
    Column(name="balance", kind=ColumnKind.FLOAT),
]


def _frame(seed: int) -> pd.DataFrame:
    """A lognormal column, one 90 % zeros with a Pareto tail, a normal one with five values 5,000σ
    out (real side only), a plain normal one, and balances: mostly positive and heavy, a few negative."""
    rng = np.random.default_rng(seed)
    gains = np.zeros(ROWS)
    tail = rng.random(ROWS) < 0.1
    gains[tail] = np.round((rng.pareto(1.16, tail.sum()) + 1) * 100)
    outliers = rng.normal(100, 1, ROWS)
    if seed == 0:
        outliers[:5] = 5000
    balance = rng.lognormal(6, 1.5, ROWS)
    balance[: ROWS // 10] *= -0.05
    return pd.DataFrame(
        {
            "lognormal": rng.lognormal(3, 1, ROWS),
            "gains": pd.array(gains.astype("int64"), dtype="Int64"),
            "outliers": outliers,
            "normal": rng.normal(0, 1, ROWS),
            "balance": balance,
        }
    )


@pytest.fixture(scope="module")
def panels() -> dict[str, Axes]:
    real, synthetic = _frame(0), _frame(1)
    evaluation = build_evaluation(Contract(columns=COLUMNS), real, synthetic, with_utility=False)
    figure = report_plots.distribution_figure(COLUMNS, real, synthetic, evaluation)
    return {column.name: ax for column, ax in zip(COLUMNS, figure.axes, strict=False)}


def _edges(ax: Axes) -> list[np.ndarray]:
    return [patch.get_data().edges for patch in ax.patches if isinstance(patch, StepPatch)]


def test_a_lognormal_column_is_drawn_on_a_log_axis_and_says_so(panels):
    ax = panels["lognormal"]
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "log scale"
    assert ax.get_ylabel() == "share of rows"
    edges = _edges(ax)[0]
    widths = np.diff(np.log10(edges))
    assert widths == pytest.approx(np.full_like(widths, widths[0]))  # equal bins on the drawn axis


def test_a_mostly_zero_column_with_a_pareto_tail_is_drawn_on_symlog(panels):
    ax = panels["gains"]
    assert ax.get_xscale() == "symlog"
    assert ax.get_xlabel().startswith("symlog scale (linear within ±100)")
    edges = _edges(ax)[0]
    assert np.all(np.mod(edges, 1) == 0.5)  # integers: whole-number bins, no comb of empty ones
    assert edges[0] == -0.5 and edges[-1] > 10_000


def test_a_few_far_outliers_clip_the_axis_and_the_panel_says_how_many_rows_are_outside(panels):
    ax = panels["outliers"]
    assert ax.get_xscale() == "linear"
    note = ax.get_xlabel()
    assert note.startswith("clipped above p99 of real")
    high = _edges(ax)[0][-1]
    assert high < 110 and ax.get_xlim()[1] == high
    beyond = (_frame(1)["outliers"] > high).mean()  # the real side: 1 % by the definition of p99
    assert f"outside: real 1.0 %, synthetic {100 * beyond:.1f} %" in note


def test_a_normal_column_stays_linear_with_a_share_axis(panels):
    ax = panels["normal"]
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == ""
    assert ax.get_ylabel() == "share of rows"
    shares = [patch.get_data().values for patch in ax.patches if isinstance(patch, StepPatch)]
    assert sum(shares[0]) == pytest.approx(1.0)  # share of the rows, not a density


def test_negative_values_with_a_heavy_positive_side_go_on_symlog(panels):
    assert panels["balance"].get_xscale() == "symlog"


def test_real_and_synthetic_are_drawn_on_identical_bins(panels):
    for name, ax in panels.items():
        edges = _edges(ax)
        assert len(edges) == 4, name  # a filled and an outlined step per side
        assert all(np.array_equal(edges[0], other) for other in edges[1:]), name


def test_the_axis_rule_on_its_own():
    rng = np.random.default_rng(3)
    number = Column(name="x", kind=ColumnKind.FLOAT)
    normal, exponential = rng.normal(5, 1, 2000), rng.exponential(1, 2000)
    assert report_plots.numeric_axis(normal, normal, number).scale == "linear"
    assert report_plots.numeric_axis(exponential, exponential, number).scale == "linear"
    assert (
        report_plots.numeric_axis(rng.lognormal(0, 1, 500), rng.lognormal(0, 1, 500), number).scale == "log"
    )
    symmetric = rng.standard_cauchy(2000)  # heavy on both sides of 0: clipped, not a mirrored log
    assert report_plots.numeric_axis(symmetric, symmetric, number).clipped == (True, True)
    flags = (rng.random(2000) < 0.03).astype(float)  # few distinct values: bars are exact as they are
    assert report_plots.numeric_axis(flags, flags, number) == report_plots.NumericAxis("linear", 0.0, 1.0)


def test_a_date_column_spanning_years_draws_without_warnings():
    """AutoDateLocator(maxticks=5) warned for spans of 2.5 to 3 years (and the suite turns warnings
    into errors)."""
    rng = np.random.default_rng(0)
    columns = [Column(name="when", kind=ColumnKind.DATETIME), Column(name="x", kind=ColumnKind.FLOAT)]
    frame = pd.DataFrame(
        {
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, 500), unit="D"),
            "x": rng.normal(0, 1, 500),
        }
    )
    evaluation = build_evaluation(Contract(columns=columns), frame, frame, with_utility=False)
    figure = report_plots.distribution_figure(columns, frame, frame, evaluation)
    figure.savefig(io.BytesIO(), format="png")


# ---------------------------------------------------------------- associations


def test_association_matrix_uses_the_measure_of_each_kind_of_pair():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 600)
    group = np.where(x > 0, "high", "low").astype(object)
    frame = pd.DataFrame(
        {
            "x": x,
            "x_cubed": x**3,  # monotone: rank correlation 1 though not linear
            "minus_x": -x,
            "group": group,
            "same_group": group.copy(),
            "noise": rng.choice(["a", "b", "c"], 600).astype(object),
            "level": np.where(group == "high", 10.0, 0.0) + rng.normal(0, 0.01, 600),
        }
    )
    frame.loc[:9, "x_cubed"] = np.nan  # missing values are left out of each pair
    columns = [Column(name=name, kind=ColumnKind.FLOAT) for name in ("x", "x_cubed", "minus_x", "level")] + [
        Column(name=name, kind=ColumnKind.CATEGORICAL) for name in ("group", "same_group", "noise")
    ]
    matrix = report_plots.association_matrix(frame, columns)
    index = {c.name: i for i, c in enumerate(columns)}

    def value(a: str, b: str) -> float:
        assert matrix[index[a], index[b]] == matrix[index[b], index[a]]
        return float(matrix[index[a], index[b]])

    assert value("x", "x_cubed") == pytest.approx(1.0, abs=1e-3)  # ranks over each column: near 1
    assert value("x", "minus_x") == pytest.approx(-1.0)
    assert value("group", "same_group") == pytest.approx(1.0, abs=0.01)  # Cramér's V
    assert value("group", "noise") < 0.1
    assert value("level", "group") == pytest.approx(1.0, abs=0.01)  # correlation ratio
    assert value("x", "noise") < 0.15
    assert all(math.isnan(matrix[i, i]) for i in range(len(columns)))


def test_association_figure_puts_real_and_synthetic_side_by_side_on_one_scale():
    names = ["a", "b", "c"]
    real = np.array([[np.nan, 0.8, -0.2], [0.8, np.nan, 0.1], [-0.2, 0.1, np.nan]])
    synthetic = np.array([[np.nan, 0.3, 0.0], [0.3, np.nan, 0.5], [0.0, 0.5, np.nan]])
    figure = report_plots.association_figure(names, real, synthetic)
    heatmaps = [ax for ax in figure.axes if ax.images]
    assert len(heatmaps) == 2
    assert [ax.get_title(loc="left") for ax in heatmaps] == ["real (train)", "synthetic"]
    assert all(ax.images[0].get_clim() == (-1, 1) for ax in heatmaps)
    assert "0.80" in {t.get_text() for t in heatmaps[0].texts}
    assert "0.30" in {t.get_text() for t in heatmaps[1].texts}
    assert [t.get_text() for t in heatmaps[0].get_xticklabels()] == names


# ---------------------------------------------------------------- DCR


def test_dcr_figure_labels_its_axes_and_counts_rows_at_distance_zero():
    rng = np.random.default_rng(0)
    train, holdout = rng.gamma(2.0, 0.2, 200), rng.gamma(2.0, 0.2, 200)
    train[:7], holdout[:2] = 0.0, 0.0
    figure = report_plots.dcr_figure(train, holdout, 0.55, (0.5, 0.6))
    ax = figure.axes[0]
    assert ax.get_xlabel().startswith("distance from a synthetic row to its closest real row")
    assert ax.get_ylabel() == "share of synthetic rows"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "7 at distance 0 (3.5 %)" in legend[0] and "2 at distance 0 (1.0 %)" in legend[1]


# ---------------------------------------------------------------- utility lift


def make_lift(*, smote: bool = True, metrics: tuple[str, ...] = ()) -> Lift:
    real = {"minority_f1": 0.41, "roc_auc": 0.83, "balanced_accuracy": 0.7}
    augmented = {"minority_f1": 0.47, "roc_auc": 0.84, "balanced_accuracy": 0.72}
    with_smote = {"minority_f1": 0.45, "roc_auc": 0.82, "balanced_accuracy": 0.71}
    for i, name in enumerate(metrics):
        real[name], augmented[name], with_smote[name] = 100.0 + i, 90.0 + i, 95.0 + i
    return Lift(
        target="label",
        minority="rare",
        real=real,
        augmented=augmented,
        smote=with_smote if smote else None,
        rows={"train": 800, "synthetic": 400, "holdout": 200},
        notes=["SMOTE cannot grow a class with 1 training row(s); it was left as it is"] if not smote else [],
    )


def _bars(figure: Figure) -> list[list[BarContainer]]:
    return [[c for c in ax.containers if isinstance(c, BarContainer)] for ax in figure.axes if ax.containers]


def test_lift_figure_has_a_bar_per_training_set_for_each_metric_with_values():
    figure = report_plots.lift_figure(make_lift())
    bars = _bars(figure)
    assert len(bars) == 3 and all(len(containers) == 1 for containers in bars)
    assert all(len(containers[0].patches) == 3 for containers in bars)
    titles = [ax.get_title() for ax in figure.axes if ax.containers]
    assert titles == ["minority-class F1", "ROC AUC", "balanced accuracy"]
    first = [t.get_text() for t in figure.axes[0].texts]
    assert first == ["0.410", "0.470\n(+0.060)", "0.450\n(+0.040)"]
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert legend == ["real only", "real + synthetic", "real + SMOTE"]


def test_lift_figure_leaves_smote_out_when_it_did_not_run():
    figure = report_plots.lift_figure(make_lift(smote=False))
    assert all(len(containers[0].patches) == 2 for containers in _bars(figure))
    assert [t.get_text() for t in figure.legends[0].get_texts()] == ["real only", "real + synthetic"]


def test_lift_figure_follows_the_metrics_the_lift_has():
    """Regression metrics are coming (MAE: lower is better); unknown names fall back to the key."""
    figure = report_plots.lift_figure(make_lift(metrics=("r2", "mae", "pinball_loss")))
    titles = [ax.get_title() for ax in figure.axes if ax.containers]
    assert titles[3:] == ["R²", "MAE\n(lower is better)", "pinball loss"]
    assert len(_bars(figure)) == 6


def test_lift_figure_is_deterministic():
    pictures = {report_plots.embed(report_plots.lift_figure(make_lift()), "lift") for _ in range(2)}
    assert len(pictures) == 1
