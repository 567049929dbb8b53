"""synthwright: trustworthy synthetic tables.

The one import package. Its subpackages keep their own folders at the top of the checkout and are
installed under this name (pyproject.toml maps them): synthwright.data_contracts, .generators,
.validators, .pipelines and .flows. The modules here hold what every layer shares: the version, the
error tree, files and config reading. They sit below `data_contracts`, so that every package may raise
the same errors without importing upward.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synthwright")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"


def _as_subpackage(name: str) -> None:
    """Called by each subpackage's `__init__`: from the root of a checkout, `import pipelines` would
    also find the folder and load a second copy of every module (two registries, two error trees that
    `except` clauses cannot match). Only `synthwright.pipelines` is the package."""
    if not name.startswith("synthwright."):
        raise ImportError(
            f"import synthwright.{name}, not {name}: the folder {name}/ is installed as the "
            f"subpackage synthwright.{name}"
        )


def code_version() -> str:
    """The package version, plus the git commit (and `.dirty`) when running from a checkout.

    Recorded in manifests, so a published dataset names the exact code that made it.
    """
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent.parent
    if not (here / ".git").exists():  # an installed copy, not a checkout
        return __version__
    try:
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'.dirty' if dirty else ''}"


__all__ = ["__version__", "code_version"]
