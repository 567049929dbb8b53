"""What the hostile-input corpora in tests/reliability/ share (importable as `hostile_support`): writing
inputs exactly, registering cases, and the outcomes they assert."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_support import Result, cli


def put(path: Path, content: str | bytes) -> Path:
    """Write text exactly as given (no newline translation) or bytes."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def registrar(cases: list) -> Callable[..., Callable[[Callable], Callable]]:
    """A decorator factory that appends each case to `cases` as a pytest.param under its id; `xfail`
    (what the product does now) marks it xfail(strict=True), to be removed when the product is fixed."""

    def case(case_id: str, xfail: str | None = None) -> Callable[[Callable], Callable]:
        def register(check: Callable) -> Callable:
            marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
            cases.append(pytest.param(check, id=case_id, marks=marks))
            return check

        return register

    return case


def round_trip(capsys, tmp: Path, data: Path, *options: str) -> dict:
    """`contract infer` succeeds, and the contract it wrote accepts the very file it came from."""
    contract = tmp / "inferred.yaml"
    inferred = cli(capsys, "contract", "infer", data, "--out", contract, *options)
    assert inferred.code == 0, inferred
    checked = cli(capsys, "contract", "check", data, "--contract", contract, *options)
    assert checked.code == 0, checked
    return yaml.safe_load(contract.read_text(encoding="utf-8"))


def column(contract: dict, name: str) -> dict:
    return next(c for c in contract["columns"] if c["name"] == name)


def assert_clean_run_error(result: Result, *needles: str) -> str:
    """Exit 2, one `error:` line naming the problem, a `fix:` after it, no traceback; the flow's own log
    lines may come before the error (as tests/flows/test_augment.py allows). Returns the error line."""
    assert result.code == 2, result
    assert "Traceback" not in result.err + result.out and "internal error" not in result.err
    lines = result.err.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, result.err[-3000:]
    assert any(line.strip().startswith("fix: ") for line in lines[errors[0] + 1 :]), result.err[-3000:]
    for needle in needles:
        assert needle in lines[errors[0]], (needle, lines[errors[0]])
    return lines[errors[0]]
