"""The house's import rules (docs/design.md, "Rooms"), enforced:

    synthwright (core) ← data_contracts ← generators, validators ← pipelines ← flows

Every import of our code goes through the one package, `synthwright.<room>`. A bare `import pipelines`
(or generators, validators, flows, data_contracts) would work from the root of a checkout and load a
second copy of every module, so it fails here wherever it is written: in the rooms, the tests or the
benchmarks. ruff's banned-api rule also bans prefect outside flows/ and torch outside generators/; this
test adds the layering that ruff cannot express.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOMS = ("data_contracts", "generators", "validators", "pipelines", "flows")
CORE = "synthwright"
ALLOWED = {
    CORE: {CORE},
    "data_contracts": {CORE, "data_contracts"},
    "generators": {CORE, "data_contracts", "generators"},
    "validators": {CORE, "data_contracts", "validators"},
    "pipelines": {CORE, "data_contracts", "generators", "validators", "pipelines"},
    "flows": {CORE, *ROOMS},
}
THIRD_PARTY_OWNERS = {"prefect": {"flows"}, "torch": {"generators"}}
EXCEPTIONS = {  # the CLI's orchestration group drives the flows: run, augment, serve, deploy, approve, reject
    ("pipelines/cli/orchestrate.py", "flows"),
}
CODE = [
    path
    for path in sorted(REPO.rglob("*.py"))
    if not {".venv", ".venv-bench", ".git", "build"} & set(path.relative_to(REPO).parts)
]


def _room_of(module: str) -> str | None:
    """`synthwright.pipelines.steps` → pipelines; `synthwright.errors` → the core; others → None."""
    parts = module.split(".")
    if parts[0] != CORE:
        return None
    return parts[1] if len(parts) > 1 and parts[1] in ROOMS else CORE


def _imports(path: Path) -> tuple[set[str], set[str], list[str]]:
    """(our rooms imported, third-party top-level names imported, bare imports of a room's folder)."""
    rooms, others, bare = set(), set(), []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
            if node.module == CORE:  # `from synthwright import pipelines`
                modules += [f"{CORE}.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] in ROOMS:
                bare.append(f"line {node.lineno}: {module}")
            room = _room_of(module)
            if room is not None:
                rooms.add(room)
            else:
                others.add(module.split(".")[0])
    return rooms, others, bare


def _room_of_file(path: Path) -> str | None:
    top = path.relative_to(REPO).parts[0]
    return top if top in ALLOWED else None


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_each_room_imports_only_what_it_may(room):
    problems = []
    for path in CODE:
        if _room_of_file(path) != room:
            continue
        relative = path.relative_to(REPO).as_posix()
        rooms, others, _ = _imports(path)
        for name in rooms:
            if name not in ALLOWED[room] and (relative, name) not in EXCEPTIONS:
                problems.append(f"{relative} imports {name}")
        for name in others:
            owners = THIRD_PARTY_OWNERS.get(name)
            if owners is not None and room not in owners:
                problems.append(f"{relative} imports {name}, reserved to {sorted(owners)}")
    assert problems == []


def test_no_code_imports_a_room_by_its_folder_name():
    problems = [
        f"{path.relative_to(REPO)} {line}: write synthwright.{line.split(': ')[1]}"
        for path in CODE
        for line in _imports(path)[2]
    ]
    assert problems == []


def test_no_module_imports_another_modules_private_names():
    """In the rooms, a name with a leading underscore is its module's own: share it under a public name
    or not at all. (Tests and benchmarks may look inside what they test; each room's `__init__` calls
    the core's `_as_subpackage` guard.)"""
    problems = []
    for path in CODE:
        if _room_of_file(path) is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == CORE:
                private = [a.name for a in node.names if _private(a.name) and a.name != "_as_subpackage"]
                if private:
                    problems.append(f"{path.relative_to(REPO)}: {node.module} {private}")
    assert problems == []


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_every_exception_names_a_module_that_exists():
    assert all((REPO / path).is_file() for path, _ in EXCEPTIONS)
