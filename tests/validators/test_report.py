"""The HTML report: self-contained, verdict first, every user string escaped, written atomically.

The evaluations here are built by hand from fixed figures (running `evaluate` takes seconds): the
report only renders what it is given, so what matters is the shape of those figures.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators import report as report_module
from synthwright.validators import report_plots
from synthwright.validators.contract import CheckResult, ContractReport
from synthwright.validators.evaluate import Evaluation
from synthwright.validators.features import scored_columns
from synthwright.validators.fidelity import Detection, Fidelity
from synthwright.validators.gates import Gates, score
from synthwright.validators.lift import Lift
from synthwright.validators.privacy import Privacy
from synthwright.validators.report import render_report, write_report
from synthwright.validators.utility import Utility

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TITLE = "mixed: synthetic data report"


def build_evaluation(
    contract: Contract,
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    gates: Gates | None = None,
    with_utility: bool = True,
    failed_checks: Sequence[CheckResult] = (),
    lift: Lift | None = None,
) -> Evaluation:
    """An Evaluation with plausible fixed figures for every scored column and pair."""
    names = [c.name for c in scored_columns(contract)]
    fidelity = Fidelity(
        shape_error=6.0,
        trend_error=12.0,
        column_errors={name: 3.0 + i for i, name in enumerate(names)},
        pair_errors={
            f"{a} ~ {b}": 10.0 * (i % 5) for i, (a, b) in enumerate(itertools.combinations(names, 2))
        }
        | {f"{names[0]} ~ {names[1]}": float("nan")},
    )
    rng = np.random.default_rng(0)
    privacy = Privacy(
        dcr_share=0.52,
        dcr_share_interval=(0.47, 0.57),
        exact_match_train=0.0,
        exact_match_holdout=0.0,
        nndr_median=0.9,
        nndr_median_holdout=0.88,
        mia_auc=0.51,
        pii_verbatim={},
        rows={"synthetic": len(synthetic), "train": 60, "holdout": 60, "attack": 60, "sampled": True},
        dcr_train=rng.gamma(2.0, 0.2, len(synthetic)),
        dcr_holdout=rng.gamma(2.0, 0.2, len(synthetic)),
    )
    utility = (
        Utility(
            target="colour",
            task="classification",
            real={"roc_auc": 0.81, "macro_f1": 0.62},
            synthetic={"roc_auc": 0.77, "macro_f1": 0.55},
        )
        if with_utility
        else None
    )
    checks = [CheckResult("parse_as_integer", "age", True, "column 'age': every value reads as integer")]
    contract_report = ContractReport("synthetic output", len(synthetic), checks + list(failed_checks))
    detection = Detection(auc=0.62, rows_per_side=60, column_auc={name: 0.55 for name in names})
    reference = Fidelity(shape_error=2.0, trend_error=4.0)
    scorecard = score(
        gates or Gates(),
        fidelity,
        contract_report,
        reference,
        detection=detection,
        privacy=privacy,
        utility=utility,
    )
    return Evaluation(
        scorecard=scorecard,
        contract_report=contract_report,
        fidelity=fidelity,
        reference=reference,
        detection=detection,
        privacy=privacy,
        utility=utility,
        rows={"train": len(train), "holdout": 60, "synthetic": len(synthetic)},
        seconds={"fidelity": 0.5, "privacy": 0.1},
        lift=lift,
    )


def mixed_inputs(**options) -> tuple[Evaluation, pd.DataFrame, pd.DataFrame, Contract]:
    contract = mixed_contract()
    train, synthetic = make_mixed_frame(120, 0), make_mixed_frame(100, 5)
    return build_evaluation(contract, train, synthetic, **options), train, synthetic, contract


def render(**options) -> str:
    evaluation, train, synthetic, contract = mixed_inputs(**options)
    return render_report(evaluation, train, synthetic, contract, title=TITLE)


def images(document: str) -> list[bytes]:
    """The decoded bytes of every <img>, failing if one is not an inline base64 PNG."""
    tags = re.findall(r"<img\b[^>]*>", document)
    out = []
    for tag in tags:
        source = re.search(r'\bsrc="data:image/png;base64,([A-Za-z0-9+/=]+)"', tag)
        assert source, f"image without an inline PNG: {tag[:120]}"
        assert re.search(r'\balt="[^"]+"', tag), "image without alt text"
        out.append(base64.b64decode(source.group(1), validate=True))
    return out


@pytest.fixture(scope="module")
def document() -> str:
    return render()


def test_the_report_is_one_self_contained_html_document(document):
    assert document.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in document
    assert "http://" not in document and "https://" not in document
    assert "<script" not in document.lower() and "@import" not in document and "url(" not in document
    for link in re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', document):
        assert link.startswith("data:"), link
    pictures = images(document)
    # distributions, pair associations, pair-trend errors, DCR histograms, utility bars
    assert len(pictures) == 5
    assert all(p.startswith(PNG_SIGNATURE) and len(p) > 2_000 for p in pictures)


def test_sections_come_in_order_with_the_verdict_first(document):
    anchors = ["verdict", "scorecard", "columns", "pairs", "privacy", "utility", "contract"]
    positions = [document.index(f'id="{anchor}"') for anchor in anchors]
    assert positions == sorted(positions)
    scorecard = document[positions[1] : positions[2]]
    for group in ("fidelity", "privacy", "utility", "contract"):
        assert f'<th colspan="8">{group}</th>' in scorecard
    assert "0.470–0.570" in scorecard  # the DCR share's interval
    assert "not gated" in scorecard  # nndr_median is reported only


def test_verdict_passes_when_every_gate_passes(document):
    verdict = _verdict_of(document)
    assert '<p class="banner">PASSED</p>' in verdict and "REJECTED" not in document
    assert "All 9 gates passed" in verdict


def test_a_relaxed_or_switched_off_gate_is_said_in_the_banner():
    verdict = _verdict_of(render(gates=Gates(detection_auc_max=None, shape_error_max=30)))
    assert '<p class="banner">PASSED (relaxed gates)</p>' in verdict
    assert "detection_auc off" in verdict and "shape_error ≤ 30 (default 20)" in verdict
    assert "Not gated: detection_auc" in verdict


def test_verdict_rejects_and_names_the_failing_gates():
    broken = CheckResult(
        "column_values_to_be_between",
        "age",
        False,
        "column 'age': 3 value(s) outside [18, 79], e.g. <5>",
        3,
        [5],
    )
    document = render(gates=Gates(detection_auc_max=0.6), failed_checks=[broken])
    verdict = _verdict_of(document)
    assert '<p class="banner">REJECTED</p>' in verdict and "PASSED" not in document
    assert "<b>detection_auc</b>" in verdict and "<b>contract_violations</b>" in verdict
    assert "<b>shape_error</b>" not in verdict
    assert "2 of 9 gates failed" in verdict and "do not look like the real ones" in verdict
    contract = document[document.index('id="contract"') :]
    assert "1 of 2 checks failed" in contract and "e.g. &lt;5&gt;" in contract


def test_user_strings_are_escaped():
    contract = mixed_contract()
    renamed = {"colour": "<b>x</b>", "income": "price $ & <i>"}
    columns = [c.model_copy(update={"name": renamed.get(c.name, c.name)}) for c in contract.columns]
    contract = contract.model_copy(update={"columns": columns})
    train = make_mixed_frame(80, 0).rename(columns=renamed)
    synthetic = make_mixed_frame(80, 1).rename(columns=renamed)
    evaluation = build_evaluation(contract, train, synthetic)
    document = render_report(
        evaluation,
        train,
        synthetic,
        contract,
        title="<script>alert(1)</script>",
        details={"source": '"quoted" <path>'},
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in document and "<b>x</b>" not in document
    assert "price $ &amp; &lt;i&gt;" in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document and "<script" not in document
    assert "&quot;quoted&quot; &lt;path&gt;" in document
    assert len(images(document)) == 5


def test_odd_names_and_values_draw_without_warnings():
    """`$` would start mathtext and a CJK glyph is missing from the font: both must render quietly."""
    contract = Contract(
        columns=[
            Column(name="价格 $ usd $", kind=ColumnKind.FLOAT),
            Column(name="city\nname", kind=ColumnKind.CATEGORICAL, nullable=True),
        ]
    )
    frame = pd.DataFrame(
        {"价格 $ usd $": np.linspace(0, 1, 40), "city\nname": ["東京", "$a$", None, "x" * 80] * 10}
    )
    evaluation = build_evaluation(contract, frame, frame, with_utility=False)
    document = render_report(evaluation, frame, frame, contract, title="odd")  # filterwarnings = error
    assert len(images(document)) == 4
    assert "价格 $ usd $" in document


def test_without_utility_or_lift_the_report_says_so_without_guessing_why():
    document = render(with_utility=False)
    utility = document[document.index('id="utility"') : document.index('id="contract"')]
    assert "Utility was not measured for this run" in utility and "name a target column" in utility
    assert "no target column was" not in utility  # the report cannot know that there was none
    assert "<img" not in utility
    assert len(images(document)) == 4
    assert "useful for a model" not in _verdict_of(document)


def test_pair_section_shows_the_real_and_the_synthetic_associations(monkeypatch):
    drawn = []
    original = report_module.association_figure

    def spy(names, real, synthetic):
        drawn.append((names, real, synthetic))
        return original(names, real, synthetic)

    monkeypatch.setattr(report_module, "association_figure", spy)
    evaluation, train, synthetic, contract = mixed_inputs()
    document = render_report(evaluation, train, synthetic, contract, title=TITLE)
    pairs = document[document.index('id="pairs"') : document.index('id="privacy"')]
    alts = re.findall(r'alt="([^"]*)"', pairs)
    assert alts == [
        "Heatmaps of column-pair association over 6 columns: real (train) on the left, synthetic on the "
        "right, same colour scale",
        "Heatmap of pair-trend errors (percent) over 6 columns",
    ]
    for measure in ("Spearman", "Cramér&#x27;s V", "correlation ratio η"):
        assert measure in pairs
    (names, real, fake), scored = drawn[0], scored_columns(contract)
    assert names == [c.name for c in scored]
    assert np.array_equal(real, report_plots.association_matrix(train, scored), equal_nan=True)
    assert np.array_equal(fake, report_plots.association_matrix(synthetic, scored), equal_nan=True)
    assert not np.array_equal(real, fake, equal_nan=True)


def test_privacy_section_explains_the_shapes_and_counts_rows_at_distance_zero():
    evaluation, train, synthetic, contract = mixed_inputs()
    to_train, to_holdout = np.full(100, 0.4), np.full(100, 0.4)
    to_train[:7], to_holdout[:2] = 0.0, 0.0
    private = dataclasses.replace(evaluation.privacy, dcr_train=to_train, dcr_holdout=to_holdout)
    document = render_report(
        dataclasses.replace(evaluation, privacy=private), train, synthetic, contract, title=TITLE
    )
    privacy = document[document.index('id="privacy"') : document.index('id="utility"')]
    assert "bump at 0 on the train curve only" in privacy and "bump at 0 on both curves" in privacy
    assert "second bump" in privacy
    assert (
        "7 of 100 (7 %) synthetic rows to a train row, 2 of 100 (2 %) to a holdout row. "
        "5 more to train than to holdout" in privacy
    )


def _lift(smote: bool = True) -> Lift:
    scores = {"minority_f1": 0.4, "roc_auc": 0.8, "balanced_accuracy": 0.7}
    return Lift(
        target="colour",
        minority="blue",
        real=scores,
        augmented={k: v + 0.03 for k, v in scores.items()},
        smote={k: v + 0.01 for k, v in scores.items()} if smote else None,
        rows={"train": 120, "synthetic": 100, "holdout": 60},
        notes=[] if smote else ["SMOTE had no class to grow"],
    )


def test_lift_without_utility_gets_its_own_section():
    document = render(with_utility=False, lift=_lift(smote=False))
    utility = document[document.index('id="utility"') : document.index('id="contract"')]
    assert "<h2>Utility lift: does adding the synthetic rows help a model?</h2>" in utility
    assert "not measured" not in utility
    for fact in ("&#x27;colour&#x27;", "&#x27;blue&#x27;", "120 train, 100 synthetic, 60 holdout"):
        assert fact in utility
    assert "HistGradientBoosting" in utility  # the model
    assert "<li>SMOTE had no class to grow</li>" in utility
    assert re.findall(r'alt="([^"]*)"', utility) == [
        "Bar charts of minority-class F1, ROC AUC, balanced accuracy predicting colour when trained on "
        "real rows only, on real + synthetic rows"
    ]
    assert "<th>real + SMOTE</th>" not in utility
    assert '<td>ROC AUC</td><td class="num">0.800</td><td class="num">0.830 (+0.030)</td>' in utility
    assert len(images(document)) == 5


def test_utility_and_lift_are_both_shown_when_both_were_measured():
    document = render(lift=_lift())
    utility = document[document.index('id="utility"') : document.index('id="contract"')]
    assert "<h2>Utility: train on synthetic, test on real</h2>" in utility
    assert "<h3>Utility lift: does adding the synthetic rows help a model?</h3>" in utility
    assert "<th>real + SMOTE</th>" in utility
    assert len(re.findall(r"<img\b", utility)) == 2


def test_many_columns_plot_the_most_detectable_and_say_so(monkeypatch):
    monkeypatch.setattr(report_module, "MAX_PLOTTED_COLUMNS", 3)
    monkeypatch.setattr(report_module, "PANELS_PER_FIGURE", 2)
    monkeypatch.setattr(report_module, "PLOT_ROWS", 50)
    evaluation, train, synthetic, contract = mixed_inputs(with_utility=False)
    auc = {"age": 0.9, "income": 0.5, "colour": 0.8, "member": 0.5, "start_date": 0.7, "end_date": 0.6}
    evaluation = dataclasses.replace(evaluation, detection=Detection(0.7, 60, auc))
    document = render_report(evaluation, train, synthetic, contract, title="capped")
    columns = document[document.index('id="columns"') : document.index('id="pairs"')]
    assert "6 scored columns: plotted are the 3" in columns
    assert "seeded sample of at most 50 rows" in columns
    alts = re.findall(r'alt="([^"]*)"', columns)
    assert alts == [
        "Real (train) vs synthetic distributions, part 1: age, colour",
        "Real (train) vs synthetic distributions, part 2: start_date",
    ]
    listed = re.findall(r"<tr><td><code>([^<]*)</code>", columns)  # every column, most detectable first
    assert listed[:3] == ["age", "colour", "start_date"] and len(listed) == 6
    pairs = document[document.index('id="pairs"') : document.index('id="privacy"')]
    assert "Shown: the 3 columns plotted above." in pairs


def test_category_shares_keep_the_top_categories_then_others_then_missing(monkeypatch):
    monkeypatch.setattr(report_plots, "TOP_CATEGORIES", 3)
    real = pd.Series(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d", "e"] + [None] * 2, dtype=object)
    synthetic = pd.Series(["b"] * 6 + ["z"] * 4, dtype=object)
    labels, (real_shares, synthetic_shares) = report_plots._category_shares(real, synthetic)
    assert labels == ["a", "b", "c", "3 others", "missing"]
    assert real_shares == pytest.approx([5 / 16, 4 / 16, 3 / 16, 2 / 16, 2 / 16])
    assert synthetic_shares == pytest.approx([0, 0.6, 0, 0.4, 0])


def test_write_report_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch, document):
    evaluation, train, synthetic, contract = mixed_inputs()
    target = tmp_path / "out" / "report.html"
    written = write_report(target, evaluation, train, synthetic, contract, title=TITLE)
    assert written == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    assert target.read_text(encoding="utf-8") == document  # rendering is deterministic, too
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert target.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # the umask's, not 0600

    def refuse(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(report_module, "render_report", lambda *_args, **_kwargs: "<p>second</p>")
    monkeypatch.setattr(report_module.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_report(target, evaluation, train, synthetic, contract, title="second")
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]
    assert target.read_text(encoding="utf-8") == document


def _verdict_of(document: str) -> str:
    return document[document.index('id="verdict"') : document.index('id="scorecard"')]
