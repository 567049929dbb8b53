"""Where a run keeps real rows while it works, and the checks that a run's folders can be written.

A run's work folder holds the ingested source and its split: real rows. It lives under the cache root
(owner-only, 700), never in the system temp folder, so that a killed run leaves nothing where other
users can read it; each run removes the work folders of runs that are no longer alive before it starts
its own. A folder's name records the host and process that made it: `<kind>-<host>-<pid>-<random>`.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
import stat
import tempfile
import time
import uuid
from pathlib import Path

from synthwright.errors import ConfigError
from synthwright.files import make_folder, process_alive

OWNER_ONLY = 0o700
WORK_FOLDER = "work"
FOREIGN_STALE_SECONDS = 7 * 24 * 3600
"""A work folder made on another host (a shared cache) is stale after a week: we cannot ask its process."""

log = logging.getLogger("synthwright.run")


def private_folder(root: Path, what: str, hint: str) -> Path:
    """`root`, created owner-only; an existing folder that others can read or enter is made owner-only
    (it holds real rows), or refused when that cannot be done."""
    existed = root.exists()
    make_folder(root, what, hint=hint)
    mode = stat.S_IMODE(root.stat().st_mode)
    if not existed:
        root.chmod(OWNER_ONLY)
    elif mode & 0o077:
        try:
            root.chmod(mode & ~0o077)
        except OSError as exc:
            raise ConfigError(
                f"{what} {root} is open to other users (mode {mode:o}) and holds real rows; it could not be "
                f"made owner-only: {exc.strerror}",
                hint=f"chmod 700 {root} as its owner, or choose another folder ({hint})",
            ) from exc
        log.warning("%s %s was open to other users (mode %o); made it owner-only", what, root, mode)
    return root


def open_work_folder(cache_root: Path, kind: str) -> Path:
    """A new private work folder for one run, under `cache_root`/work; stale ones are removed first."""
    hint = "set cache.root (or SYNTHWRIGHT_CACHE_DIR) to a private folder you can write to"
    private_folder(cache_root, "the cache folder", hint)
    root = private_folder(cache_root / WORK_FOLDER, "the work folder", hint)
    remove_stale_work(root)
    try:
        return Path(tempfile.mkdtemp(prefix=f"{kind}-{_host()}-{os.getpid()}-", dir=root))
    except OSError as exc:
        raise ConfigError(f"cannot create a work folder in {root}: {exc.strerror}", hint=hint) from exc


def remove_stale_work(root: Path) -> list[Path]:
    """Remove the work folders whose run has ended without cleaning up (killed); returns them."""
    removed = []
    for folder in root.iterdir() if root.is_dir() else ():
        if folder.is_dir() and _is_stale(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        log.info("removed %d work folder(s) left by runs that were killed", len(removed))
    return removed


def _is_stale(folder: Path) -> bool:
    parts = folder.name.rsplit("-", 3)
    if len(parts) != 4 or not parts[2].isdigit():
        return False  # not ours: leave it
    host, pid = parts[1], int(parts[2])
    if host != _host():
        return time.time() - folder.stat().st_mtime > FOREIGN_STALE_SECONDS
    return not process_alive(pid)


def _host() -> str:
    return socket.gethostname().replace("-", "_") or "host"


def require_writable_folder(folder: Path, what: str, hint: str) -> None:
    """Before long work: `folder` can be made and written (a probe file is written and removed), so a
    read-only or full output root is found before the fit, not after it."""
    make_folder(folder, what, hint=hint)
    probe = folder / f".synthwright-probe-{uuid.uuid4().hex}"
    try:
        handle = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(handle, b"probe")
        finally:
            os.close(handle)
    except OSError as exc:
        full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
        raise ConfigError(
            f"cannot write to {what} {folder}: {exc.strerror}",
            hint="free space there, or " + hint if full else hint,
        ) from exc
    finally:
        probe.unlink(missing_ok=True)
