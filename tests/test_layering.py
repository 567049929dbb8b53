"""DESIGN.md's import rules, enforced: data_contracts ← generators, validators ← pipelines ← flows.

(ruff's banned-api rule also bans prefect outside flows/ and torch outside generators/; this test adds
the package layering that ruff cannot express.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OURS = {"synthwright", "data_contracts", "generators", "validators", "pipelines", "flows"}
ALLOWED = {
    "synthwright": {"synthwright"},
    "data_contracts": {"synthwright", "data_contracts"},
    "generators": {"synthwright", "data_contracts", "generators"},
    "validators": {"synthwright", "data_contracts", "validators"},
    "pipelines": {"synthwright", "data_contracts", "generators", "validators", "pipelines"},
    "flows": OURS,
}
THIRD_PARTY_OWNERS = {"prefect": {"flows"}, "torch": {"generators"}}
EXCEPTIONS = {  # the CLI commands that drive flows: run, serve, deploy, approve, reject; augment
    ("pipelines/cli.py", "flows"),
    ("pipelines/cli_augment.py", "flows"),
}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package):
    problems = []
    for path in sorted((REPO / package).rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        for name in _imports(path):
            if name in OURS and name not in ALLOWED[package] and (relative, name) not in EXCEPTIONS:
                problems.append(f"{relative} imports {name}")
            owners = THIRD_PARTY_OWNERS.get(name)
            if owners is not None and package not in owners:
                problems.append(f"{relative} imports {name}, reserved to {sorted(owners)}")
    assert problems == []
