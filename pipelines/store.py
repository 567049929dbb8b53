"""Versioned Parquet datasets, published atomically.

    <root>/<dataset>/v000001/part-00000.parquet …   the rows, in the contract's Arrow schema
                           /manifest.json           provenance, scorecard, gate decision, file sha256s
                           /report.html             the validation report (an attachment)
                    /latest -> v000001              symlink to the newest version

A version is written into a hidden staging folder beside its final place and committed by one rename:
readers never see half a version, a crash leaves only a hidden folder (removed by the next publish),
and two publishers racing for the same number get two numbers, because renaming onto a version that
exists fails. Same rows + same contract + same code → the same Parquet bytes (nothing time- or
version-dependent goes into the Parquet files; that lives in the manifest).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthwright.data_contracts.arrow import to_arrow
from synthwright.data_contracts.model import Contract
from synthwright.errors import ConfigError, SourceError, UserInputError
from synthwright.files import file_sha256, fsync_path, fsync_tree, make_folder, process_alive

log = logging.getLogger("synthwright.store")
MANIFEST = "manifest.json"
LATEST = "latest"
ROWS_PER_PART = 1_000_000
ROWS_PER_GROUP = 128 * 1024
COMPRESSION = "zstd"
_VERSION_DIR = re.compile(r"^v(\d{6})$")
_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_STAGING_PREFIX = ".staging-"
_LINK_PREFIX = f".{LATEST}-"
_ATTACHMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
OUTPUT_ROOT_HINT = "choose an output root you can write to (output.root)"
RESERVED_FIELDS = frozenset({"version", "dataset", "rows", "files", "attachments", "created_at"})
"""Manifest fields the store writes itself; a caller may not supply them."""


Count = Annotated[int, Field(strict=True, ge=0)]


class _Entry(BaseModel):
    """A file the manifest vouches for (a part or an attachment)."""

    model_config = ConfigDict(extra="allow")
    name: str
    bytes: Count
    sha256: str


class _Part(_Entry):
    rows: Count


class _Generator(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = None


class _Gate(BaseModel):
    model_config = ConfigDict(extra="allow")
    passed: bool | None = None
    relaxed_gates: list[str] = []


class ManifestShape(BaseModel):
    """What a reader of manifest.json relies on: the fields the store writes, and the caller's fields
    that listings show. Only checked (the manifest stays a dict): one place says what "damaged" means."""

    model_config = ConfigDict(extra="allow")
    version: str
    dataset: str
    rows: Count
    files: list[_Part]
    attachments: list[_Entry] = []
    created_at: str
    generator: _Generator | None = None
    gate: _Gate | None = None


DAMAGED_HINT = (
    "restore {path} from a backup (`synthwright check --version` then verifies the files), "
    "or delete {folder} and publish it again"
)


@dataclass(frozen=True)
class Version:
    """A committed version. `damage` says why its manifest.json cannot be used (None: it can); a
    listing shows a damaged version, and reading its `manifest` is a clear error, never a crash."""

    dataset: str
    number: int
    path: Path
    recorded: dict[str, Any]
    damage: str | None = None

    @property
    def name(self) -> str:
        return version_name(self.number)

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest, for use; a damaged one raises ConfigError naming its path and the fix."""
        if self.damage is not None:
            raise damaged_manifest(self.path, self.damage)
        return self.recorded


def damaged_manifest(folder: Path, damage: str) -> ConfigError:
    path = folder / MANIFEST
    return ConfigError(f"{path} is damaged: {damage}", hint=DAMAGED_HINT.format(path=path, folder=folder))


def read_manifest(folder: Path) -> tuple[dict[str, Any], str | None]:
    """A version's manifest, checked against `ManifestShape`; ({}, why) when it cannot be used."""
    path = folder / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, "it is missing"
    except OSError as exc:
        return {}, f"it cannot be read ({exc.strerror or exc})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {}, f"it is not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})"
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        return {}, f"it is not valid JSON ({exc})"
    except RecursionError:
        return {}, "it is not valid JSON (nested too deeply to read)"
    problem = manifest_problem(manifest)
    return ({}, problem) if problem else (manifest, None)


def manifest_problem(manifest: Any) -> str | None:
    """Why a parsed manifest cannot be used (one line), or None: the one check of its shape."""
    if not isinstance(manifest, dict):
        return f"it holds a JSON {_json_kind(manifest)}, not an object"
    try:
        ManifestShape.model_validate(manifest)
    except ValidationError as exc:
        return _first_problem(exc)
    return None


def _json_kind(value: Any) -> str:
    kinds = {list: "list", str: "string", bool: "boolean", int: "number", float: "number"}
    return kinds.get(type(value), "null")


def _first_problem(exc: ValidationError) -> str:
    """One line: `rows: Input should be a valid integer (got 'many')`, and how many more there are."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    got = error.get("input")
    shown = "" if error["type"] == "missing" or isinstance(got, dict | list) else f" (got {got!r})"
    more = f"; and {exc.error_count() - 1} more problem(s)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{shown}{more}"


def version_name(number: int) -> str:
    return f"v{number:06d}"


def validate_dataset_name(name: str) -> str:
    """Dataset names become folder names: letters, digits, `.`, `_`, `-`; no paths, no `..`."""
    if not isinstance(name, str) or not _DATASET_NAME.fullmatch(name) or ".." in name or name == LATEST:
        raise ConfigError(
            f"invalid dataset name {name!r}",
            hint="use letters, digits, '.', '_' and '-' "
            "(up to 100 characters, starting with a letter or digit)",
        )
    return name


class Store:
    """The versions of every dataset under one output root."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / validate_dataset_name(dataset)

    def versions(self, dataset: str) -> list[Version]:
        """Committed versions, oldest first (staging folders are never listed). A version whose manifest
        is damaged is listed with its `damage`: one bad version does not hide the others."""
        folder = self.dataset_dir(dataset)
        if not folder.is_dir():
            return []
        listed = []
        for number in sorted(_version_numbers(folder)):
            path = folder / version_name(number)
            manifest, damage = read_manifest(path)
            listed.append(Version(dataset, number, path, manifest, damage))
        return listed

    def version(self, dataset: str, number: int | None = None) -> Version:
        """One version; `None` means the newest. A damaged one is returned too: reading its `manifest`
        is the error (`check --version` reports it as a failed check instead)."""
        versions = self.versions(dataset)
        if not versions:
            raise SourceError(f"no published versions of {dataset!r} under {self.root}")
        if number is None:
            return versions[-1]
        for candidate in versions:
            if candidate.number == number:
                return candidate
        raise SourceError(
            f"{dataset!r} has no version {version_name(number)} under {self.root}",
            hint=f"published: {', '.join(v.name for v in versions)}",
        )

    def publish(
        self,
        dataset: str,
        frame: pd.DataFrame,
        contract: Contract,
        manifest: dict[str, Any],
        attachments: dict[str, Path] | None = None,
    ) -> Version:
        """Write `frame` as the next version of `dataset`, with `manifest` fields added to manifest.json.

        `attachments` (name → file, e.g. the report) are copied into the version and checksummed in
        the manifest, committed by the same rename as the rows.
        """
        clash = sorted(RESERVED_FIELDS & manifest.keys())
        if clash:
            raise ValueError(f"manifest fields {clash} are written by the store, not by its caller")
        attachments = attachments or {}
        for name in attachments:
            if not _ATTACHMENT_NAME.fullmatch(name) or name == MANIFEST or name.startswith("part-"):
                raise ValueError(f"invalid attachment name {name!r}")
        folder = make_folder(self.dataset_dir(dataset), "output folder", hint=OUTPUT_ROOT_HINT)
        self._remove_abandoned(folder)
        staging = Path(tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=folder))
        try:
            os.chmod(staging, 0o755)  # mkdtemp makes it private; a published version is for readers
            files = _write_parts(frame, contract, staging)
            attached = [_attach(source, staging / name) for name, source in attachments.items()]
            record = {
                "dataset": dataset,
                **manifest,
                "rows": len(frame),
                "files": files,
                "attachments": attached,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            version = self._commit(folder, staging, dataset, record)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if _disk_full(exc):
                raise UserInputError(
                    f"the disk holding {self.root} is full (no space left on device) while publishing "
                    f"{dataset}: nothing was published, and the partial files were removed",
                    hint="free space there, or choose another output root (output.root / --root)",
                ) from exc
            raise
        try:
            self._point_latest(folder)
        except OSError as exc:  # the version is committed; only the convenience link is stale
            log.warning("published %s, but could not point %s at it: %s", version.path, folder / LATEST, exc)
        return version

    def _commit(self, folder: Path, staging: Path, dataset: str, record: dict[str, Any]) -> Version:
        number = max(_version_numbers(folder), default=0) + 1
        for _ in range(10_000):
            manifest = {"version": version_name(number), **record}
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
            fsync_tree(staging)
            target = folder / version_name(number)
            try:
                os.rename(staging, target)
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                    number += 1  # another publisher took this number first
                    continue
                raise
            fsync_path(folder)
            return Version(dataset, number, target, manifest)
        raise ConfigError(f"could not find a free version number under {folder}")

    def _point_latest(self, folder: Path) -> None:
        """Swap the `latest` symlink to the newest version in one step (readers resolve it once).

        A slower publisher may swap in an older number after a faster one swapped in a newer one;
        so after each swap the versions are listed again, until the newest did not change.
        """
        link = folder / f"{_LINK_PREFIX}{os.getpid()}-{threading.get_ident()}"
        pointed = None
        while True:
            newest = max(_version_numbers(folder), default=None)
            if newest is None or newest == pointed:
                return
            link.unlink(missing_ok=True)
            os.symlink(version_name(newest), link)
            os.replace(link, folder / LATEST)
            pointed = newest

    @staticmethod
    def _remove_abandoned(folder: Path) -> None:
        """Staging folders and temporary links of processes that died mid-publish are removed."""
        for prefix in (_STAGING_PREFIX, _LINK_PREFIX):
            for entry in folder.glob(f"{prefix}*"):
                pid_text = entry.name.removeprefix(prefix).split("-", 1)[0]
                if pid_text.isdigit() and not process_alive(int(pid_text)):
                    if entry.is_symlink() or entry.is_file():
                        entry.unlink(missing_ok=True)
                    else:
                        shutil.rmtree(entry, ignore_errors=True)


def _disk_full(error: BaseException) -> bool:
    """ENOSPC or EDQUOT, raised directly or by pyarrow (whose message carries the errno only as text)."""
    if not isinstance(error, OSError):
        return False
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error)
    return "No space left on device" in text or "Disk quota exceeded" in text


def _version_numbers(folder: Path) -> list[int]:
    """Numbers of the committed versions, from folder names alone (no manifest is read)."""
    numbers = []
    for entry in folder.iterdir():
        match = _VERSION_DIR.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink():
            numbers.append(int(match.group(1)))
    return numbers


def _write_parts(frame: pd.DataFrame, contract: Contract, folder: Path) -> list[dict[str, Any]]:
    files = []
    starts = range(0, max(len(frame), 1), ROWS_PER_PART)
    for index, start in enumerate(starts):
        part = frame.iloc[start : start + ROWS_PER_PART]
        path = folder / f"part-{index:05d}.parquet"
        pq.write_table(to_arrow(part, contract), path, row_group_size=ROWS_PER_GROUP, compression=COMPRESSION)
        files.append(
            {"name": path.name, "rows": len(part), "bytes": path.stat().st_size, "sha256": file_sha256(path)}
        )
    return files


def _attach(source: Path, target: Path) -> dict[str, Any]:
    shutil.copyfile(source, target)
    os.chmod(target, 0o644)
    return {"name": target.name, "bytes": target.stat().st_size, "sha256": file_sha256(target)}


def read_version(version: Version) -> pd.DataFrame:
    """The rows of a published version as a DataFrame (resolved once, so a concurrent publish can't mix)."""
    folder = Path(os.path.realpath(version.path))
    parts = sorted(folder.glob("part-*.parquet"))
    return pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
