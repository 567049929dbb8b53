"""Running `synthwright` in-process in tests (importable as `cli_support`): results, logging, errors."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from synthwright.pipelines.cli import main


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """`main` adds log filters and a stderr handler; put the loggers back as they were."""
    names = ["", "synthwright", "prefect", "prefect.flow_runs", "prefect.task_runs"]
    saved = {n: (logging.getLogger(n).level, list(logging.getLogger(n).handlers)) for n in names}
    filters = {n: list(logging.getLogger(n).filters) for n in names}
    try:
        yield
    finally:
        for name in names:
            logger = logging.getLogger(name)
            logger.setLevel(saved[name][0])
            logger.handlers[:] = saved[name][1]
            logger.filters[:] = filters[name]


@dataclass
class Result:
    code: int
    out: str
    err: str


def exit_code(args: list) -> int:
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    code = info.value.code
    return 0 if code is None else code


def cli(capsys, *args) -> Result:
    """Run `synthwright ARGS` in this process."""
    capsys.readouterr()
    code = exit_code(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def cli_captured(*args) -> Result:
    """Run `synthwright ARGS` in this process, outside a test (in a module fixture: no capsys)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with logging_restored(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        logging.getLogger("synthwright").handlers[:] = []  # as in a new process (flow tests leave theirs)
        code = exit_code(list(args))
    return Result(code, stdout.getvalue(), stderr.getvalue())


def assert_clean_user_error(result: Result, *needles: str) -> None:
    """Exit 2, one `error:` line naming what is wrong, a `fix:` line, and no traceback."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith("error: "), result.err
    assert sum(line.startswith("error:") for line in lines) == 1, result.err
    assert any(line.strip().startswith("fix: ") for line in lines[1:]), result.err
    assert "Traceback" not in result.err and "Traceback" not in result.out
    assert "internal error" not in result.err
    for needle in needles:
        assert needle in lines[0], (needle, result.err)
