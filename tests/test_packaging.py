"""The distribution installs one import package, `synthwright`, and nothing else.

Its subpackages keep their own folders at the top of the checkout (pipelines/, flows/, validators/, …)
and pyproject.toml maps them under `synthwright.` with an explicit package list. These tests prove it
the way a user meets it:

* the wheel that `pip wheel .` builds holds only `synthwright/` (and its `.dist-info`): every listed
  subpackage, every module of their folders, the package data (example YAML, flows/prefect.yaml), and
  no tests or benchmarks;
* installed into a fresh virtualenv beside PyPI's `validators` and a user folder with its own `flows/`
  and `pipelines/` packages, both sides import: the bare names are the user's (or PyPI's), ours answer
  only under `synthwright.`, from the wheel's copy in the fresh venv (not the editable checkout);
* the console script runs from the fresh venv;
* the explicit package list names exactly the folders that hold an `__init__.py`.

The wheel is built from a copy of the source tree (without what .gitignore names): setuptools builds in
the project's own `build/` folder and ships whatever a previous build left in `build/lib`, so a build
in the checkout could pass or fail on stale files rather than on pyproject.toml.

Our heavy dependencies (pandas, prefect, torch, …) are not installed into the fresh venv: the wheel goes
in with `--no-deps` and a `.pth` file lists the test interpreter's site-packages AFTER the fresh venv's
own. A path line in a `.pth` file does not run the `.pth` files of the folder it adds, so the editable
install's finder there stays out, and the wheel's copy must be the one imported.

Needs PyPI (build isolation fetches setuptools; the venv gets `validators`): without it the tests fail.
"""

from __future__ import annotations

import configparser
import fnmatch
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS["package-dir"]
PACKAGE_DATA: dict[str, list[str]] = SETUPTOOLS.get("package-data", {})
TOP = "synthwright"
DIST_INFO = f"{TOP}-{VERSION}.dist-info"
NOT_SHIPPED = {"tests", "benchmarks"}  # top-level folders that must never be in the wheel
# The test interpreter's site-packages: the dev venv, with our dependencies and the editable install.
DEV_SITE = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})

# The user's repo: bare `flows` and `pipelines` packages of their own (a Prefect project's usual names).
USER_FILES = {
    "flows/__init__.py": 'WHO = "user"\n',
    "flows/synthesize.py": 'WHO = "user flows.synthesize"\n',
    "pipelines/__init__.py": 'WHO = "user"\n',
}
USER_MODULES = ("flows", "flows.synthesize", "pipelines")
OUR_MODULES = (
    "synthwright.validators.gates",
    "synthwright.pipelines.run",
    "synthwright.flows.synthesize",
    "synthwright.pipelines.cli",
)

# Runs inside the fresh venv, from the user folder (so `''`, the working directory, is sys.path[0]).
# argv: the JSON file to write, then a JSON list of [package, resource] pairs the wheel must ship.
PROBE = r"""
import importlib, importlib.metadata, importlib.resources, json, sys, traceback

out_path, resources = sys.argv[1], json.loads(sys.argv[2])
report = {"sys_path": sys.path, "modules": {}, "errors": {}}


def load(name):
    try:
        module = importlib.import_module(name)
    except BaseException:
        report["errors"][name] = traceback.format_exc()
        return None
    report["modules"][name] = {"file": getattr(module, "__file__", None), "who": getattr(module, "WHO", None)}
    return module


for name in USER_MODULES:
    load(name)
validators = load("validators")
if validators is not None:
    report["email_good"] = bool(validators.email("a@b.co"))
    report["email_bad"] = bool(validators.email("not an address"))
for name in OUR_MODULES:
    load(name)
# Importing ours must not have replaced the user's (or PyPI's) bare-named modules.
report["after"] = {
    name: getattr(sys.modules.get(name), "__file__", None) for name in (*USER_MODULES, "validators")
}
report["ours"] = {
    name: getattr(module, "__file__", None)
    for name, module in sys.modules.items()
    if name == "synthwright" or name.startswith("synthwright.")
}
report["editable"] = [name for name in sys.modules if "editable" in name.lower()] + [
    repr(finder) for finder in sys.meta_path if "editable" in repr(finder).lower()
]
dist = importlib.metadata.distribution("synthwright")
report["dist_site"] = str(dist.locate_file(""))
report["dist_version"] = dist.version
report["resources"] = {}
for package, resource in resources:
    try:
        found = importlib.resources.files(package).joinpath(resource).is_file()
    except BaseException:
        found = traceback.format_exc()
    report["resources"][f"{package}:{resource}"] = found
with open(out_path, "w") as handle:
    json.dump(report, handle)
"""


def _env(**extra: str) -> dict[str, str]:
    """The environment for a child process: no PYTHONPATH or venv of ours leaking in."""
    dropped = {"PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(PYTHONNOUSERSITE="1", PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **extra)
    return env


def _run(
    args: list[str], *, what: str, hint: str = "", cwd: Path | None = None, timeout: int = 300, **env: str
):
    result = subprocess.run(
        args, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {result.returncode}){f' -- {hint}' if hint else ''}\n"
            f"command: {' '.join(map(str, args))}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    return result


def _pip(*args: str) -> list[str]:
    # Short network timeouts: an unreachable PyPI fails in seconds, not after pip's default retries.
    return [sys.executable, "-m", "pip", *args, "--timeout", "30", "--retries", "2"]


def _ignored_names() -> list[str]:
    """What .gitignore names (simple patterns, matched at any depth) plus what never belongs in a build."""
    patterns = {".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc"}
    gitignore = REPO / ".gitignore"
    if gitignore.exists():
        for line in gitignore.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "!")):
                patterns.add(line.strip("/"))
    return sorted(patterns)


def _source_folder(package: str, root: Path) -> Path:
    """The folder that holds `package`, through [tool.setuptools.package-dir] (longest mapped prefix)."""
    parts = package.split(".")
    for cut in range(len(parts), 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in PACKAGE_DIR:
            return root.joinpath(PACKAGE_DIR[prefix], *parts[cut:])
    return root.joinpath(*parts)


def _package_data(root: Path) -> dict[str, list[str]]:
    """{package: [resource paths relative to it]} that the package-data globs match under `root`."""
    found: dict[str, list[str]] = {}
    for package, patterns in PACKAGE_DATA.items():
        folder = _source_folder(package, root)
        for pattern in patterns:
            matched = sorted(path.relative_to(folder).as_posix() for path in folder.glob(pattern))
            assert matched, f"package-data pattern {pattern!r} of {package} matches no file in {folder}"
            found.setdefault(package, []).extend(matched)
    return found


def _in_wheel(package: str, relative: str = "") -> str:
    return "/".join([*package.split("."), relative]) if relative else "/".join(package.split("."))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, the copy of the source tree it was built from): `pip wheel . --no-deps`."""
    base = tmp_path_factory.mktemp("wheel")
    source, out = base / "source", base / "dist"
    for attempt in range(3):  # another process may delete a file while it is copied: copy again
        try:
            shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*_ignored_names()))
            break
        except shutil.Error:
            shutil.rmtree(source, ignore_errors=True)
            if attempt == 2:
                raise
    _run(
        _pip("wheel", ".", "--no-deps", "--wheel-dir", str(out)),
        cwd=source,
        what="`pip wheel . --no-deps`",
        hint="build isolation fetches setuptools from PyPI: is PyPI reachable? (the test needs it)",
    )
    wheels = sorted(out.glob("*.whl"))
    assert [w.name for w in wheels] == [f"{TOP}-{VERSION}-py3-none-any.whl"], wheels
    return wheels[0], source


@pytest.fixture(scope="module")
def wheel_names(built) -> list[str]:
    with zipfile.ZipFile(built[0]) as archive:
        return archive.namelist()


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory, built) -> dict[str, Path]:
    """A new venv with PyPI's `validators`, our wheel (--no-deps) and the dev site-packages after its own."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], what="python -m venv")
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            what="asking the fresh venv for its site-packages",
        ).stdout.strip()
    )
    # The venv has no pip of its own: the test interpreter's pip installs into it (pip --python).
    _run(
        _pip("--python", str(python), "install", "validators"),
        what="installing PyPI's `validators` into the fresh venv",
        hint="this test needs PyPI (CI has it) and fails, never skips, without it: is PyPI reachable?",
    )
    _run(
        _pip("--python", str(python), "install", "--no-deps", str(built[0])),
        what="installing our wheel into the fresh venv",
    )
    (site / "zz_synthwright_dev_site.pth").write_text("".join(f"{path}\n" for path in DEV_SITE))
    return {"venv": venv, "python": python, "site": site, "bin": venv / "bin"}


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("user-repo")
    for relative, text in USER_FILES.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


@pytest.fixture(scope="module")
def probe(built, fresh_venv, user_folder, tmp_path_factory) -> dict:
    """Imports the user's, PyPI's and our modules in one interpreter of the fresh venv; what it saw."""
    out = tmp_path_factory.mktemp("probe") / "report.json"
    resources = [
        [package, relative] for package, files in _package_data(built[1]).items() for relative in files
    ]
    code = PROBE.replace("USER_MODULES", repr(USER_MODULES)).replace("OUR_MODULES", repr(OUR_MODULES))
    _run(
        [str(fresh_venv["python"]), "-c", code, str(out), json.dumps(resources)],
        cwd=user_folder,
        what="the import probe in the fresh venv",
        PREFECT_HOME=str(tmp_path_factory.mktemp("prefect-home")),
        MPLCONFIGDIR=str(tmp_path_factory.mktemp("mpl")),
    )
    return json.loads(out.read_text())


# --- the wheel ---------------------------------------------------------------------------------------


def test_wheel_has_one_top_level_package(built, wheel_names):
    strays = sorted({name.split("/")[0] for name in wheel_names} - {TOP, DIST_INFO})
    assert not strays, f"the wheel installs more than {TOP}/ (and {DIST_INFO}): {strays}"
    with zipfile.ZipFile(built[0]) as archive:
        if f"{DIST_INFO}/top_level.txt" in wheel_names:
            assert archive.read(f"{DIST_INFO}/top_level.txt").decode().split() == [TOP]
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{DIST_INFO}/entry_points.txt").decode())
    assert dict(entry_points["console_scripts"]) == PYPROJECT["project"]["scripts"]


def test_wheel_holds_every_package_module_and_data_file(built, wheel_names):
    """Exactly: each listed package's modules and the package data, nothing else under synthwright/."""
    source = built[1]
    expected = set()
    for package in PACKAGES:
        folder = _source_folder(package, source)
        assert (folder / "__init__.py").is_file(), f"{package} is listed but {folder} has no __init__.py"
        expected |= {_in_wheel(package, path.name) for path in folder.glob("*.py")}
    for package, files in _package_data(source).items():
        expected |= {_in_wheel(package, relative) for relative in files}
    shipped = {name for name in wheel_names if name.startswith(f"{TOP}/") and not name.endswith("/")}
    assert sorted(expected - shipped) == [], "missing from the wheel"
    assert sorted(shipped - expected) == [], "in the wheel but neither a listed package's module nor data"
    # The data the issue names, spelled out (the derived set above would shrink with pyproject.toml).
    for must in ("synthwright/flows/prefect.yaml", "synthwright/pipelines/examples/demo.yaml"):
        assert must in shipped
    assert any(name.startswith("synthwright/pipelines/examples/augment/") for name in shipped)
    assert any(name.startswith("synthwright/data_contracts/examples/") for name in shipped)


def test_wheel_holds_no_tests_or_benchmarks(wheel_names):
    offenders = [
        name
        for name in wheel_names
        if NOT_SHIPPED & set(PurePosixPath(name).parts)
        or re.fullmatch(r"(test_.*|.*_test|conftest)\.py", PurePosixPath(name).name)
        or fnmatch.fnmatch(name, "*.pyc")
    ]
    assert offenders == []


# --- installed beside a user's packages and PyPI's validators --------------------------------------


def test_dev_venv_has_no_validators_distribution():
    """Else PyPI's `validators` in the fresh venv could be masked by (or mistaken for) the dev venv's."""
    names = {
        re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
        for dist in importlib.metadata.distributions(path=DEV_SITE)
    }
    assert "validators" not in names
    for site in map(Path, DEV_SITE):
        assert not (site / "validators").exists() and not (site / "validators.py").exists(), site


def test_user_packages_keep_their_bare_names(probe, user_folder):
    assert probe["sys_path"][0] in ("", str(user_folder)), probe["sys_path"][:3]
    for name in USER_MODULES:
        assert name not in probe["errors"], probe["errors"][name]
        module = probe["modules"][name]
        assert Path(module["file"]).is_relative_to(user_folder), (name, module["file"])
        assert str(module["who"]).startswith("user"), (name, module["who"])
        # still the user's after our modules were imported
        assert probe["after"][name] == module["file"], name


def test_pypi_validators_is_importable_beside_ours(probe, fresh_venv):
    assert "validators" not in probe["errors"], probe["errors"]["validators"]
    file = Path(probe["modules"]["validators"]["file"])
    assert file == fresh_venv["site"] / "validators" / "__init__.py"
    assert probe["email_good"] is True and probe["email_bad"] is False
    assert probe["after"]["validators"] == str(file)


def test_our_modules_come_from_the_wheel_in_the_fresh_venv(probe, fresh_venv):
    broken = {name: probe["errors"][name] for name in OUR_MODULES if name in probe["errors"]}
    assert not broken, "our modules failed to import in the fresh venv:\n" + "\n".join(broken.values())
    site = fresh_venv["site"]
    for name in OUR_MODULES:
        assert Path(probe["modules"][name]["file"]).is_relative_to(site), (name, probe["modules"][name])
    # Every synthwright module loaded (also those pulled in indirectly) is the wheel's copy: none from
    # the checkout, which the dev venv's editable finder would map; that finder never ran.
    elsewhere = {name: file for name, file in probe["ours"].items() if not Path(file).is_relative_to(site)}
    assert elsewhere == {}
    assert not any(Path(file).is_relative_to(REPO) for file in probe["ours"].values())
    assert probe["editable"] == []
    assert Path(probe["dist_site"]) == site and probe["dist_version"] == VERSION
    # The dev venv's site-packages comes after the fresh venv's own.
    path = [Path(p) for p in probe["sys_path"] if p]
    assert path.index(site) < min(path.index(Path(dev)) for dev in DEV_SITE)


def test_package_data_is_readable_from_the_installed_package(probe):
    missing = {resource: found for resource, found in probe["resources"].items() if found is not True}
    assert probe["resources"] and missing == {}


def test_console_script_prints_the_version(fresh_venv, user_folder, tmp_path):
    script = fresh_venv["bin"] / "synthwright"
    assert script.read_text().splitlines()[0] == f"#!{fresh_venv['python']}"
    result = _run(
        [str(script), "--version"],
        cwd=user_folder,
        what="`synthwright --version` from the fresh venv",
        timeout=120,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        MPLCONFIGDIR=str(tmp_path / "mpl"),
    )
    assert result.stdout.strip() == f"{TOP} {VERSION}"


# --- the explicit package list -------------------------------------------------------------------------


def test_package_list_names_every_folder_with_an_init():
    """A new subpackage folder cannot be forgotten in [tool.setuptools] packages (nor a stale name kept)."""
    folder_to_package = {REPO / folder: package for package, folder in PACKAGE_DIR.items()}
    top_level_packages = {
        path.name
        for path in REPO.iterdir()
        if (path / "__init__.py").is_file() and path.name not in NOT_SHIPPED
    }
    mapped = {path.name for path in folder_to_package}
    assert top_level_packages == mapped, (
        f"top-level folders with an __init__.py {top_level_packages} != package-dir {mapped}"
    )
    found, without_init = set(), []
    for root, package in folder_to_package.items():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            here = Path(dirpath)
            if "__init__.py" in filenames:
                found.add(".".join([package, *here.relative_to(root).parts]))
            elif any(name.endswith(".py") for name in filenames):
                without_init.append(str(here.relative_to(REPO)))  # would be left out of the wheel
    listed = set(PACKAGES)
    assert len(PACKAGES) == len(listed), "a package is listed twice"
    forgotten, stale = sorted(found - listed), sorted(listed - found)
    assert not forgotten, f"folders with an __init__.py missing from [tool.setuptools] packages: {forgotten}"
    assert not stale, f"listed in [tool.setuptools] packages but no folder with an __init__.py: {stale}"
    assert not without_init, (
        f"folders with modules but no __init__.py (left out of the wheel): {without_init}"
    )
