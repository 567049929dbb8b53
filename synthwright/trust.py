"""Which saved models may be unpickled: the ones this installation saved.

A model folder's sha256s prove its files are the ones its manifest lists, but whoever hands over a
folder can write both. Unpickling runs code from the file, so a model saved as a pickle (the copula:
SDV's own format) is loaded only when its manifest (generator.json) carries an HMAC of all its other
fields (checksums, seed, config, plan) made with this installation's secret key, which `save` adds, or
when the caller says it trusts the folder (`--trust-model`). The signature is checked before any file
the manifest lists is read. Models saved as tensors and JSON need no key: loading them runs no code.

The key is 32 random bytes in `$SYNTHWRIGHT_KEY_FILE`, default `~/.config/synthwright/model-key`
(or under `$XDG_CONFIG_HOME`), created owner-only on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

KEY_ENV = "SYNTHWRIGHT_KEY_FILE"
KEY_BYTES = 32
log = logging.getLogger("synthwright.trust")


def key_path() -> Path:
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV]).expanduser()
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "synthwright" / "model-key"


def _read_key(path: Path) -> bytes | None:
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    return key if len(key) == KEY_BYTES else None


def _create_key(path: Path) -> bytes:
    """Write a new key beside its place, then link it there: two processes creating it at once end
    up with the same key (the second link fails and that process reads the first's)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}"
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    key = _read_key(path)
    if key is None:
        raise OSError(f"{path} does not hold a {KEY_BYTES}-byte key")
    return key


def signature(fields: dict[str, Any]) -> str | None:
    """HMAC-SHA256 of `fields` (canonical JSON) with this installation's key, created if needed.
    None (with a warning) when no key can be read or written: the model then loads only when trusted."""
    path = key_path()
    try:
        key = _read_key(path) or _create_key(path)
    except OSError as exc:
        log.warning(
            "cannot read or create the model signing key %s (%s): the saved model is unsigned and "
            "will load only with --trust-model; set %s to a writable file to sign models",
            path,
            exc,
            KEY_ENV,
        )
        return None
    return _mac(key, fields)


def verify(fields: dict[str, Any], given: Any) -> bool:
    """Whether `given` is this installation's signature of `fields`."""
    try:
        key = _read_key(key_path())
    except OSError:
        return False
    return key is not None and isinstance(given, str) and hmac.compare_digest(_mac(key, fields), given)


def _mac(key: bytes, fields: dict[str, Any]) -> str:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
