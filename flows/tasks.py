"""Prefect tasks made from the graph's steps: the functions unchanged, plus what orchestration adds
(names, retries, caching).

Retries: an idempotent step is retried (twice, after 2 s and 10 s) only when it failed on a transient
I/O error (EIO, EAGAIN, ETIMEDOUT, a stale NFS handle, …), anywhere in the exception's chain. Bad
input, failed checks and failed gates are never retried: a retry cannot fix them. Publish is never
retried: it is not idempotent (a retry after a commit would add a second version), and its staging
folder makes a failed attempt harmless to repeat by hand.

Caching: every task takes `key` first (Prefect's cache key, synthwright.flows.caching; None turns
caching off for the call); a step that writes files also takes `folder`, where it writes them. Prefect
stores the step's small JSON result under the key; the folder holds the files the result points at,
and `.complete` (the key and the step's run time) once the step ended.
"""

from __future__ import annotations

import errno
import functools
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import CacheKeyFnPolicy

from synthwright.errors import SynthwrightError
from synthwright.pipelines.run import Step

COMPLETE = ".complete"
RETRY_DELAYS = [2, 10]
TRANSIENT_ERRNOS = frozenset(
    {
        errno.EIO,
        errno.EAGAIN,
        errno.EINTR,
        errno.EBUSY,
        errno.ETIMEDOUT,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ENETDOWN,
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.ESTALE,
    }
)


def is_transient_io_error(error: BaseException | None) -> bool:
    """An OSError with a transient errno, raised directly or as the cause of one of our errors."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and not isinstance(error, SynthwrightError):
            return error.errno in TRANSIENT_ERRNOS
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def retry_transient_io(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: the failed state's data is the exception."""
    return is_transient_io_error(state.data if isinstance(state.data, BaseException) else None)


def _in_folder(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function(*args, folder)` as `(key, folder, *args)`: a fresh folder, then `.complete` when it ends."""

    def run(key: str | None, folder: Path, *args: Any) -> Any:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        started = time.perf_counter()
        result = function(*args, folder)
        seconds = round(time.perf_counter() - started, 3)
        (folder / COMPLETE).write_text(json.dumps({"key": key, "seconds": seconds}) + "\n")
        return result

    return _named_after(run, function)


def _keyed(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function(*args)` as `(key, *args)`: a step that writes no files."""

    def run(key: str | None, *args: Any) -> Any:
        return function(*args)

    return _named_after(run, function)


def _named_after(run: Callable[..., Any], function: Callable[..., Any]) -> Callable[..., Any]:
    run.__name__ = run.__qualname__ = function.__name__
    run.__doc__ = function.__doc__
    return run


def _given_key(context: Any, parameters: dict[str, Any]) -> str | None:
    return parameters["key"]


GIVEN_KEY = CacheKeyFnPolicy(cache_key_fn=_given_key)
"""Prefect's cache key is the step key the runner passes (synthwright.flows.caching adds a lock per key)."""


def task_for(step: Step) -> Any:
    """The Prefect task that runs `step`, named after it (`validate_input` → `validate-input`)."""
    return _task(step.name, step.function, step.writes, step.idempotent)


@functools.cache
def _task(name: str, function: Callable[..., Any], writes: bool, idempotent: bool) -> Any:
    retries = (
        {}
        if not idempotent
        else {
            "retries": len(RETRY_DELAYS),
            "retry_delay_seconds": RETRY_DELAYS,
            "retry_condition_fn": retry_transient_io,
        }
    )
    return task(
        (_in_folder if writes else _keyed)(function),
        name=name.replace("_", "-"),
        cache_policy=GIVEN_KEY,
        persist_result=True,
        result_serializer="json",
        **retries,
    )


def run_seconds(folder: Path) -> float:
    """How long the step that filled `folder` ran (from its `.complete`)."""
    return float(json.loads((folder / COMPLETE).read_text())["seconds"])
