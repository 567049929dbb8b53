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


def process_alive(pid: int) -> bool:
    """A process with this number runs on this machine (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _same(one: Path, other: Path) -> bool:
    """The same file, after resolving links (a hard link too, when both exist)."""
    try:
        if one.exists() and other.exists():
            return os.path.samefile(one, other)
    except OSError:
        pass
    return one.resolve() == other.resolve()


def within(path: Path, folder: Path) -> bool:
    """`path`, its links followed, is `folder` or lies below it."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def _inside(path: Path, folder: Path) -> bool:
    """`path` lies below `folder` (after resolving links), not the folder itself."""
    return within(path, folder) and not _same(path, folder)


def refuse_writing_over_inputs(
    inputs: dict[str, Path | None],
    files: dict[str, Path | None],
    folders: dict[str, Path | None] | None = None,
) -> None:
    """Before any work, refuse an output that would destroy an input: a file output that is an input
    (or lies inside an input folder, such as a model folder), or an output folder (replaced whole) that is
    or holds an input. Each dict maps the option that named a path to the path (None: not given)."""
    given = {option: Path(p) for option, p in inputs.items() if p is not None}
    for out_option, out in files.items():
        for in_option, source in given.items():
            if out is None:
                continue
            if _same(Path(out), source):
                what = f"is the same file as {in_option} {source}"
            elif source.is_dir() and _inside(Path(out), source):
                what = f"lies inside {in_option} {source}"
            else:
                continue
            raise ConfigError(
                f"{out_option} {out} {what}: writing it would destroy the input; nothing was written",
                hint=f"choose another {out_option} path, outside the inputs",
            )
    for out_option, folder in (folders or {}).items():
        for in_option, source in given.items():
            if folder is not None and (_same(Path(folder), source) or _inside(source, Path(folder))):
                raise ConfigError(
                    f"{out_option} {folder} holds {in_option} {source}: saving there replaces the folder "
                    "and would destroy the input; nothing was written",
                    hint=f"choose a new folder for {out_option}, outside the inputs' folders",
                )
