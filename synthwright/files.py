"""File helpers every layer needs: checksums and durable writes."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from synthwright.errors import ConfigError


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks (files may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file in `folder` (recursively) and the folders themselves, before a rename commits them."""
    for root, _dirs, files in os.walk(folder, topdown=False):
        for name in files:
            fsync_path(Path(root) / name)
        fsync_path(Path(root))


def write_atomically(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that a reader (or a crash) never sees half a file: a temporary file
    beside the target, fsynced, then os.replace. The file gets the umask's permissions like any other
    (mkstemp's 0600 would hide a published file from its readers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)
    return path


def make_folder(folder: Path, what: str, hint: str) -> Path:
    """Create `folder` (and its parents), or say which folder could not be made and how to fix it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {what} {folder}: {exc.strerror}", hint=hint) from exc
    return folder


def write_text_file(path: Path, text: str, what: str) -> Path:
    """Write a file the user named, atomically (a reader never sees half of it); a path that cannot
    be written is a ConfigError naming it."""
    path = Path(path)
    try:
        return write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot write {what} to {path}: {exc.strerror or exc}", hint="choose a folder you can write to"
        ) from exc
