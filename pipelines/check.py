"""`synthwright check`, the logic: a data file against its contract (and a baseline), or a published
version against its own manifest. Every verdict is a `CheckResult`, grouped by section; rendering is
`synthwright.pipelines.check_formats`, the command line `synthwright.pipelines.cli.check`.

Bad input (a missing file, an invalid contract, an unknown version) raises a UserInputError (exit 2).
A damaged published version is not bad input: a changed or missing file, an unreadable manifest or
Parquet part are failed checks (exit 1), so CI reports them like any other failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthwright.data_contracts.io import load_contract
from synthwright.errors import ConfigError, SourceError
from synthwright.pipelines.ingest import ReadOptions, ingest
from synthwright.pipelines.store import MANIFEST, Store, Version, validate_dataset_name
from synthwright.pipelines.version_checks import version_sections
from synthwright.text import excerpt
from synthwright.validators.contract import CheckResult, validate_contract
from synthwright.validators.drift import drift_checks, drift_thresholds

_REFERENCE = re.compile(r"^(?P<dataset>[^@]+)(?:@(?P<version>latest|v\d+))?$")
REFERENCE_HINT = "write DATASET@vN (adult@v3 or adult@v000003), DATASET@latest, or DATASET for the newest"


@dataclass(frozen=True)
class CheckOutcome:
    """What was checked and every check's verdict, by section: "contract" and "drift" for a data file;
    "files", "contract" and "scorecard" for a published version."""

    subject: str
    sections: dict[str, list[CheckResult]]

    @property
    def results(self) -> list[CheckResult]:
        return [result for results in self.sections.values() for result in results]

    @property
    def failures(self) -> list[tuple[str, CheckResult]]:
        return [(name, r) for name, results in self.sections.items() for r in results if not r.passed]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def counts(self) -> dict[str, int]:
        return counts_of(self.results)


def counts_of(results: list[CheckResult]) -> dict[str, int]:
    failed = sum(not result.passed for result in results)
    return {"checks": len(results), "passed": len(results) - failed, "failed": failed}


def check_data(
    data_path: Path,
    contract_path: Path,
    baseline_path: Path | None = None,
    *,
    thresholds: Mapping[str, float | None] | None = None,
    options: ReadOptions | None = None,
) -> CheckOutcome:
    """DATA against its contract (GX, values that do not parse included); with a baseline, drift too.

    `thresholds` are the command line's drift bounds (None: not given); they need a baseline."""
    given = {key: value for key, value in (thresholds or {}).items() if value is not None}
    if given and baseline_path is None:
        flags = ", ".join(f"--{key.replace('_', '-')}" for key in given)
        raise ConfigError(f"{flags}: drift thresholds need a baseline", hint="add --baseline FILE")
    contract = load_contract(contract_path)
    limits = drift_thresholds(contract, given) if baseline_path is not None else None  # before any reading
    data = ingest(data_path, options, contract)
    report = validate_contract(
        data.frame, contract, source=str(data_path), parse_failures=data.parse_failures
    )
    sections = {"contract": report.results}
    if baseline_path is not None and limits is not None:
        baseline = ingest(baseline_path, options, contract)
        sections["drift"] = drift_checks(baseline.frame, data.frame, contract, limits)
    return CheckOutcome(subject=str(data_path), sections=sections)


def check_version(reference: str, root: Path) -> CheckOutcome:
    """A published version against its manifest: file checksums and row counts, the rows against the
    manifest's contract, and the scorecard's metrics against their own thresholds."""
    dataset, number = parse_reference(reference)
    version = find_version(Store(root), dataset, number)
    subject = f"{dataset}@{version.name} ({version.path})"
    manifest, problem = _read_manifest(version.path)
    if manifest is None:
        return CheckOutcome(subject, {"files": [CheckResult("manifest", MANIFEST, False, problem)]})
    return CheckOutcome(subject, version_sections(version, manifest))


def parse_reference(reference: str) -> tuple[str, int | None]:
    """`adult@v3` → ("adult", 3); `adult@latest` and `adult` → ("adult", None)."""
    match = _REFERENCE.fullmatch(reference.strip())
    if match is None:
        raise ConfigError(f"--version {excerpt(reference)} is not DATASET@vN", hint=REFERENCE_HINT)
    try:
        dataset = validate_dataset_name(match["dataset"])
    except ConfigError as error:  # said again here: the store's message echoes the name whole
        name = excerpt(match["dataset"])
        raise ConfigError(f"--version: invalid dataset name {name}", hint=error.hint) from None
    wanted = match["version"]
    return dataset, None if wanted in (None, "latest") else int(wanted[1:])


def find_version(store: Store, dataset: str, number: int | None) -> Version:
    """The version, or a SourceError saying what the store holds (exit 2: nothing to check)."""
    try:
        return store.version(dataset, number)
    except SourceError as error:
        if error.hint:
            raise
        datasets = sorted(p.name for p in store.root.glob("*") if p.is_dir()) if store.root.is_dir() else []
        found = f"datasets there: {', '.join(datasets)}" if datasets else "there is nothing published there"
        raise SourceError(error.message, hint=f"check the name and --root ({found})") from None


def _read_manifest(folder: Path) -> tuple[dict[str, Any] | None, str]:
    """The manifest, or None and why not (a version without a readable manifest is broken, not absent)."""
    path = folder / MANIFEST
    if not path.is_file():
        return None, f"{MANIFEST} is missing from {folder}: nothing in the version can be verified"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path} is not readable JSON ({exc}): nothing in the version can be verified"
    if not isinstance(manifest, dict):
        return None, f"{path} holds {type(manifest).__name__}, not a JSON object"
    return manifest, ""
