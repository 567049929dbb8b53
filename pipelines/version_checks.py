"""The checks `synthwright check --version` runs on a published version, section by section.

files:     the manifest names its own folder; each listed file and attachment is there with its sha256;
           nothing unlisted lies beside them; the Parquet row counts add up to the manifest's.
contract:  the stored definition is valid and has its stored fingerprint; every part reads in the
           contract's Arrow schema; the rows pass the contract's GX suite.
scorecard: each metric, re-judged from its value, threshold and direction (the stored `passed` flags
           are never trusted), and the gate decision agrees.

A damaged version gives failed checks, never an exception: the point is to say what is wrong with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from synthwright.data_contracts.arrow import arrow_schema
from synthwright.data_contracts.io import contract_fingerprint, contract_from_dict
from synthwright.data_contracts.model import Contract
from synthwright.errors import ConfigError, SourceError
from synthwright.files import file_sha256
from synthwright.pipelines.ingest import ReadOptions, ingest
from synthwright.pipelines.store import MANIFEST, Version, manifest_problem
from synthwright.validators.contract import MAX_EXAMPLES, CheckResult, ParseFailure, validate_contract
from synthwright.validators.gates import Metric, Scorecard, format_number

AS_STORED = ReadOptions(format="parquet", na_values=[], strip=False)
"""Published rows are read as written: no string is taken for a missing value, nothing is stripped."""

Manifest = dict[str, Any]


def version_sections(version: Version, manifest: Manifest) -> dict[str, list[CheckResult]]:
    return {
        "files": file_checks(version, manifest),
        "contract": contract_checks(version, manifest),
        "scorecard": scorecard_checks(manifest),
    }


# ---- files -----------------------------------------------------------------------------------------------


def file_checks(version: Version, manifest: Manifest) -> list[CheckResult]:
    files, attachments = _entries(manifest, "files"), _entries(manifest, "attachments")
    results = [_identity_check(version, manifest)]
    if not files:
        results.append(CheckResult("file_sha256", None, False, f"{MANIFEST} lists no data files"))
    results += [_sha256_check(version.path, entry, "file_sha256") for entry in files]
    results += [_sha256_check(version.path, entry, "attachment_sha256") for entry in attachments]
    results.append(_unlisted_check(version.path, [*files, *attachments]))
    results.append(_rows_check(version.path, manifest, files))
    return results


def _entries(manifest: Manifest, key: str) -> list[dict[str, Any]]:
    value = manifest.get(key)
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _identity_check(version: Version, manifest: Manifest) -> CheckResult:
    """A manifest damaged by hand (a field missing or of the wrong type) fails here, with its first
    problem; one copied from another version (or dataset) would vouch for the wrong files."""
    problem = manifest_problem(manifest)
    if problem is not None:
        return CheckResult("manifest", MANIFEST, False, f"{MANIFEST} is damaged: {problem}")
    named = (manifest.get("dataset"), manifest.get("version"))
    if named == (version.dataset, version.name):
        return CheckResult("manifest", MANIFEST, True, f"{MANIFEST} names {version.dataset} {version.name}")
    return CheckResult(
        "manifest",
        MANIFEST,
        False,
        f"{MANIFEST} names {named[0]!r} {named[1]!r}, but lies in {version.dataset}/{version.name}",
    )


def _plain_name(name: Any) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _sha256_check(folder: Path, entry: dict[str, Any], check: str) -> CheckResult:
    name = entry.get("name")
    if not _plain_name(name):
        return CheckResult(check, str(name), False, f"{MANIFEST} lists {name!r}, which is not a file name")
    path = folder / name
    if not path.is_file():
        return CheckResult(check, name, False, f"{name} is missing: {MANIFEST} lists it")
    actual, expected = file_sha256(path), entry.get("sha256")
    if actual != expected:
        return CheckResult(
            check,
            name,
            False,
            f"{name}: sha256 {actual[:12]}… differs from the manifest's {str(expected)[:12]}…: "
            "the file changed after it was published",
        )
    return CheckResult(check, name, True, f"{name}: sha256 matches ({path.stat().st_size:,} bytes)")


def _unlisted_check(folder: Path, entries: list[dict[str, Any]]) -> CheckResult:
    """An extra part would be read with the rest (`read_version` globs `part-*.parquet`)."""
    listed = {entry.get("name") for entry in entries} | {MANIFEST}
    extra = sorted(path.name for path in folder.iterdir() if path.name not in listed)
    if extra:
        return CheckResult(
            "unlisted_files", None, False, f"{len(extra)} file(s) not in {MANIFEST}: {', '.join(extra)}"
        )
    return CheckResult("unlisted_files", None, True, f"every file in the version is in {MANIFEST}")


def _rows_check(folder: Path, manifest: Manifest, files: list[dict[str, Any]]) -> CheckResult:
    problems, total = [], 0
    for entry in files:
        name = entry.get("name")
        if not _plain_name(name) or not (folder / name).is_file():
            problems.append(f"{name} is missing")
            continue
        try:
            rows = pq.ParquetFile(folder / name).metadata.num_rows
        except (pa.ArrowException, OSError) as exc:
            problems.append(f"{name} is not readable Parquet ({exc})")
            continue
        total += rows
        if rows != entry.get("rows"):
            problems.append(f"{name} holds {rows:,} rows, the manifest says {entry.get('rows')}")
    if not problems and total != manifest.get("rows"):
        problems.append(f"the parts hold {total:,} rows, the manifest says {manifest.get('rows')}")
    if problems:
        return CheckResult("row_count", None, False, "; ".join(problems))
    return CheckResult("row_count", None, True, f"{len(files)} part(s) hold {total:,} rows, as listed")


# ---- contract --------------------------------------------------------------------------------------------


def contract_checks(version: Version, manifest: Manifest) -> list[CheckResult]:
    record = manifest.get("contract")
    definition = record.get("definition") if isinstance(record, dict) else None
    if not isinstance(definition, dict):
        return [CheckResult("contract_definition", None, False, f"{MANIFEST} holds no contract definition")]
    try:
        contract = contract_from_dict(definition, f"{version.path / MANIFEST}: contract.definition")
    except ConfigError as error:
        return [CheckResult("contract_definition", None, False, error.message)]
    results = [_fingerprint_check(contract, record.get("sha256"))]
    frames, failures, read_check = _read_parts(version.path, _entries(manifest, "files"), contract)
    results.append(read_check)
    if frames:
        frame = pd.concat(frames, ignore_index=True)
        source = f"{version.dataset}@{version.name}"
        results += validate_contract(frame, contract, source=source, parse_failures=failures).results
    return results


def _fingerprint_check(contract: Contract, stored: Any) -> CheckResult:
    actual = contract_fingerprint(contract)
    if actual == stored:
        return CheckResult("contract_fingerprint", None, True, "the contract definition has its fingerprint")
    return CheckResult(
        "contract_fingerprint",
        None,
        False,
        f"the contract definition's fingerprint {actual[:12]}… differs from the stored {str(stored)[:12]}…: "
        "the definition was edited after publishing",
    )


def _read_parts(
    folder: Path, files: list[dict[str, Any]], contract: Contract
) -> tuple[list[pd.DataFrame], list[ParseFailure], CheckResult]:
    """Every listed part that exists, read into the contract's dtypes; what could not be read, as a check."""
    expected = arrow_schema(contract)
    frames, failures, problems = [], [], []
    for entry in files:
        name = entry.get("name")
        if not _plain_name(name) or not (folder / name).is_file():
            continue  # already a failed files check
        path = folder / name
        try:
            if not pq.read_schema(path).equals(expected, check_metadata=False):
                problems.append(f"{name}'s schema is not the contract's")
            result = ingest(path, AS_STORED, contract)
        except (pa.ArrowException, OSError) as exc:
            problems.append(f"{name} is not readable Parquet ({exc})")
            continue
        except SourceError as error:
            problems.append(error.message)
            continue
        frames.append(result.frame)
        failures += result.parse_failures
    if problems:
        return frames, _merged(failures), CheckResult("parts_read", None, False, "; ".join(problems))
    message = f"{len(frames)} part(s) read in the contract's Arrow schema"
    return frames, _merged(failures), CheckResult("parts_read", None, bool(frames), message)


def _merged(failures: list[ParseFailure]) -> list[ParseFailure]:
    """One parse failure per column across the parts."""
    by_column: dict[str, ParseFailure] = {}
    for failure in failures:
        seen = by_column.get(failure.column)
        if seen is None:
            by_column[failure.column] = failure
        else:
            examples = [*seen.examples, *failure.examples][:MAX_EXAMPLES]
            by_column[failure.column] = ParseFailure(
                seen.column, seen.kind, seen.count + failure.count, examples
            )
    return list(by_column.values())


# ---- scorecard -------------------------------------------------------------------------------------------


def scorecard_checks(manifest: Manifest) -> list[CheckResult]:
    stored = manifest.get("scorecard")
    try:
        scorecard = Scorecard.from_dict(stored)  # type: ignore[arg-type]
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [CheckResult("scorecard", None, False, f"{MANIFEST} holds no readable scorecard ({reason})")]
    flags = [m.get("passed") if isinstance(m, dict) else None for m in stored["metrics"]]
    results = [_metric_check(metric, flag) for metric, flag in zip(scorecard.metrics, flags, strict=True)]
    results.append(_gate_check(manifest.get("gate"), scorecard))
    return results


def _metric_check(metric: Metric, stored_flag: Any) -> CheckResult:
    """The verdict is recomputed; a stored flag that disagrees with it fails too (an edited manifest)."""
    figure = f"{metric.name} {format_number(metric.value)}{metric.unit}"
    if metric.threshold is None:
        message, passed = f"{figure}: not gated", True
    elif metric.passed:
        message, passed = f"{figure} {metric.bound}", True
    else:
        message, passed = f"{figure} breaks its gate {metric.bound}", False
    if stored_flag is not None and stored_flag != metric.passed:
        message += f", but the manifest records passed={stored_flag}"
        passed = False
    return CheckResult(metric.name, None, passed, message)


def _gate_check(gate: Any, scorecard: Scorecard) -> CheckResult:
    recorded = gate.get("passed") if isinstance(gate, dict) else None
    broken = ", ".join(m.name for m in scorecard.failures)
    if recorded is None:
        return CheckResult("gate", None, False, f"{MANIFEST} records no gate decision")
    if recorded is not True:
        return CheckResult(
            "gate", None, False, f"{MANIFEST} records a failed gate: it should not be published"
        )
    if not scorecard.passed:
        return CheckResult("gate", None, False, f"{MANIFEST} says the gate passed, but {broken} fail(s)")
    return CheckResult("gate", None, True, "the gate passed, and every gated metric agrees")
