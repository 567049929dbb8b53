"""Degenerate but legal data: `run` and `evaluate` handle it (exit 0, 1 or a clean 2), never crash (3).

Two kinds of hostile table, built in code in tmp_path (issue 23):

- data a figure cannot be measured on (a one-class target, a column with one value in train and none
  in the holdout, more classes than holdout rows, all-null or constant columns, tiny tables): handled,
  and a figure the data cannot give is shown as "not measured" with the reason, never as a pass of 0;
- duplicated rows: counted at ingest, and kept on one side of the split, so a generator that copies
  training rows cannot hide behind their twins in the holdout.

Each case is a `pytest.param` in `CASES` (counted elsewhere); a case that runs a pipeline asks for the
Prefect test server itself. Runs use the copula (fast) unless the case is about another generator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import Result, cli

CASES: list = []


def case(case_id: str, *, server: bool = False) -> Callable:
    """Register `check(capsys, tmp, logs)`; `server`: it runs a pipeline (needs the Prefect test
    server). Log lines are read from `logs` (a `Logs`): Prefect's logging set-up hides them from caplog."""

    def register(check: Callable) -> Callable:
        CASES.append(pytest.param(check, server, id=case_id))
        return check

    return register


def put(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rows(count: int, start: int = 0, label: Callable[[int], str] = lambda i: "xy"[i % 2]) -> str:
    """`a,b,label` rows: a number, a category and a label."""
    return "".join(f"{(i * 7) % 23},{'pqr'[i % 3]},{label(i)}\n" for i in range(start, start + count))


def flat(text: str) -> str:
    """Console output with its line wrapping undone."""
    return " ".join(text.split())


def assert_handled(result: Result, *codes: int) -> str:
    """Exit in `codes` (default: passed or rejected), no traceback; the output, unwrapped."""
    assert result.code in (codes or (0, 1)), result
    assert "Traceback" not in result.err + result.out and "internal error" not in result.err
    return flat(result.out + result.err)


def evaluate(capsys, tmp: Path, train: str, holdout: str, synthetic: str, *options: str) -> Result:
    files = [
        put(tmp / f"{name}.csv", text)
        for name, text in zip(("t", "h", "s"), (train, holdout, synthetic), strict=True)
    ]
    args = ["evaluate", "--train", files[0], "--holdout", files[1], "--synthetic", files[2]]
    return cli(capsys, *args, "--report", tmp / "report.html", *options)


def run(capsys, tmp: Path, data: str, *sets: str, extra: str = "") -> Result:
    source = put(tmp / "data.csv", data)
    spec = put(tmp / "spec.yaml", f"dataset: degenerate\nsource: {{path: {source}}}\n{extra}")
    overrides = [f"output.root={tmp / 'out'}", "sample.rows=60", "generator.name=copula", *sets]
    return cli(capsys, "run", spec, *(a for s in overrides for a in ("--set", s)))


ONE_CLASS = "utility_gap n/a — not measured: 'label' has one class ('x') in the real training rows"


# ---- class 5: figures the data cannot give -------------------------------------------------------------


@case("evaluate-one-class-target")  # not a 0.000 gap that passes: not measured, and the verdict says so
def _(capsys, tmp, logs):
    one = lambda i: "x"  # noqa: E731
    header = "a,b,label\n"
    result = evaluate(
        capsys,
        tmp,
        header + rows(60, 0, one),
        header + rows(20, 60, one),
        header + rows(60, 80, one),
        "--target",
        "label",
    )
    out = assert_handled(result)
    assert ONE_CLASS in out
    assert "relaxed gates: utility_gap, utility_f1_gap not measured" in out
    assert "✗ utility" not in out and "✓ utility" not in out


@case("evaluate-target-with-no-holdout-value")
def _(capsys, tmp, logs):
    header = "a,b,label\n"
    holdout = header + "".join(f"{i},p,\n" for i in range(20))
    result = evaluate(capsys, tmp, header + rows(60), holdout, header + rows(60, 80), "--target", "label")
    assert "utility_gap n/a — not measured: the real holdout has no value of 'label'" in assert_handled(
        result
    )


@case("evaluate-one-train-value-none-in-holdout")  # as a feature and as a regression target
def _(capsys, tmp, logs):
    header = "a,b,rare\n"
    train = header + "".join(f"{i % 9},{'pq'[i % 2]},{'4.5' if i == 3 else ''}\n" for i in range(60))
    holdout = header + "".join(f"{i % 9},{'pq'[i % 2]},\n" for i in range(20))
    for target in ([], ["--target", "rare"]):
        out = assert_handled(evaluate(capsys, tmp, train, holdout, train, *target))
        if target:
            assert "utility_gap n/a — not measured: the real holdout has no value of 'rare'" in out


@case("evaluate-constant-regression-target-in-holdout")
def _(capsys, tmp, logs):
    header = "a,b,y\n"
    train = header + "".join(f"{i % 9},{'pq'[i % 2]},{i % 5}\n" for i in range(60))
    holdout = header + "".join(f"{i % 9},{'pq'[i % 2]},2\n" for i in range(20))
    out = assert_handled(evaluate(capsys, tmp, train, holdout, train, "--target", "y"))
    assert "utility_gap n/a — not measured: 'y' has one value (2) in the real holdout" in out


@case("evaluate-synthetic-column-all-null")  # the lost column counts: it is not left out of the shape
def _(capsys, tmp, logs):
    header = "a,b,label\n"
    synthetic = header + "".join(f",{'pqr'[i % 3]},{'xy'[i % 2]}\n" for i in range(60))
    result = evaluate(capsys, tmp, header + rows(60), header + rows(20, 60), synthetic)
    assert "✗ shape_error" in assert_handled(result, 1)


@case("evaluate-constant-boolean-and-datetime-columns")
def _(capsys, tmp, logs):
    header = "a,flag,day,label\n"
    body = lambda n, s: "".join(f"{(i * 7) % 23},true,2024-01-01,{'xy'[i % 2]}\n" for i in range(s, s + n))  # noqa: E731
    assert_handled(evaluate(capsys, tmp, header + body(60, 0), header + body(20, 60), header + body(60, 80)))
    one = "utility_gap n/a — not measured: 'flag' has one class"
    result = evaluate(
        capsys, tmp, header + body(60, 0), header + body(20, 60), header + body(60, 80), "--target", "flag"
    )
    assert one in assert_handled(result)


@case("evaluate-all-null-column")
def _(capsys, tmp, logs):
    header = "a,b,empty,label\n"
    body = lambda n, s: "".join(f"{(i * 7) % 23},{'pqr'[i % 3]},,{'xy'[i % 2]}\n" for i in range(s, s + n))  # noqa: E731
    result = evaluate(
        capsys, tmp, header + body(60, 0), header + body(20, 60), header + body(60, 80), "--target", "label"
    )
    assert_handled(result)


@case("evaluate-tiny-tables")  # 5 train rows, 2 holdout rows, a holdout class seen once
def _(capsys, tmp, logs):
    header = "a,b,label\n"
    result = evaluate(
        capsys, tmp, header + rows(5), header + rows(2, 5), header + rows(5, 7), "--target", "label"
    )
    assert_handled(result)


@case("run-one-class-target", server=True)
def _(capsys, tmp, logs):
    out = assert_handled(
        run(capsys, tmp, "a,b,label\n" + rows(80, label=lambda i: "x"), extra="target: label\n")
    )
    assert ONE_CLASS in out


@case("run-more-classes-than-holdout-rows", server=True)  # 10 classes, 6 holdout rows: unstratified
def _(capsys, tmp, logs):
    data = "a,b,label\n" + rows(30, label=lambda i: f"c{i % 10}")
    assert_handled(run(capsys, tmp, data, extra="target: label\n"))
    assert "not stratifying by label: 10 classes, but the holdout has only 6 rows" in logs.text


@case("run-one-train-value-none-in-holdout", server=True)
def _(capsys, tmp, logs):
    data = "a,b,rare\n" + "".join(
        f"{(i * 7) % 23},{'pq'[i % 2]},{'4.5' if i == 0 else ''}\n" for i in range(80)
    )
    assert_handled(run(capsys, tmp, data))
    assert_handled(run(capsys, tmp / "target", data, "target=rare"))


# ---- class 8: duplicated rows --------------------------------------------------------------------------


@case("run-duplicates-are-reported-at-ingest", server=True)
def _(capsys, tmp, logs):
    body = rows(40)
    assert_handled(run(capsys, tmp, "a,b,label\n" + body + body[: body.index("\n", 30) + 1]))
    assert "repeat an earlier row in every column" in logs.text


@case("run-every-row-twice-copier-is-rejected", server=True)  # its twins in the holdout no longer hide it
def _(capsys, tmp, logs):
    body = "".join(f"{i},{'pqr'[i % 3]},{'xy'[i % 2]}\n" for i in range(50))
    result = run(
        capsys, tmp, "a,b,label\n" + body + body, "generator.name=bootstrap", extra="target: label\n"
    )
    out = assert_handled(result, 1)
    assert "50 of 100 rows repeat another row (50 distinct)" in logs.text
    failed = out.split("failed the gate(s) ", 1)[1].split(";", 1)[0].split(", ")
    assert "exact_match_excess" in failed, out


@case("run-one-distinct-row-is-a-clean-error", server=True)
def _(capsys, tmp, logs):
    result = run(capsys, tmp, "a,b,label\n" + "1,p,x\n" * 40)
    assert_handled(result, 2)
    assert "1 distinct row(s)" in flat(result.err)


class Logs(logging.Handler):
    """The messages of the `synthwright` loggers while a case runs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.mark.parametrize("check, server", [c for c in CASES if not c.values[1]])
def test_degenerate_data_is_handled(check, server, tmp_path, capsys):
    check_case(check, tmp_path, capsys)


@pytest.mark.parametrize("check, server", [c for c in CASES if c.values[1]])
def test_degenerate_runs_are_handled(check, server, prefect_api_url, tmp_path, capsys):
    check_case(check, tmp_path, capsys)


def check_case(check: Callable, tmp_path: Path, capsys) -> None:
    tmp_path.joinpath("target").mkdir()
    logger, logs = logging.getLogger("synthwright"), Logs()
    level = logger.level
    logger.addHandler(logs)
    logger.setLevel(logging.INFO)
    try:
        check(capsys, tmp_path, logs)
    finally:
        logger.removeHandler(logs)
        logger.setLevel(level)


def test_there_are_enough_cases():
    assert len(CASES) >= 10
