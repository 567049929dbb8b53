"""Prefect tasks: the pipeline steps, unchanged, plus what orchestration adds (names, retries, caching).

Retries: a step that reads or writes files is retried (twice, after 2 s and 10 s) only when it failed
on a transient I/O error (EIO, EAGAIN, ETIMEDOUT, a stale NFS handle, …), anywhere in the exception's
chain. Bad input, failed checks and failed gates are never retried: a retry cannot fix them. Publish is
never retried: it is not idempotent (a retry after a commit would add a second version), and its
staging folder makes a failed attempt harmless to repeat by hand.

Caching: the cacheable steps take `key` (pipelines.cache_keys; None turns caching off for the call)
and `folder`, where they write their files. Prefect stores the step's small JSON result under the key
(flows.caching); the folder holds the files the result points at, and `.complete` (the key and the
step's run time) once the step ended.
"""

from __future__ import annotations

import errno
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE, CacheKeyFnPolicy

from pipelines import steps
from synthwright.errors import SynthwrightError

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


def _in_folder(step: Callable[..., Any]) -> Callable[..., Any]:
    """`step(*args, work)` as `(key, folder, *args)`: a fresh folder, then `.complete` when it ends."""

    def run(key: str | None, folder: Path, *args: Any) -> Any:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        started = time.perf_counter()
        result = step(*args, folder)
        seconds = round(time.perf_counter() - started, 3)
        (folder / COMPLETE).write_text(json.dumps({"key": key, "seconds": seconds}) + "\n")
        return result

    run.__name__ = run.__qualname__ = step.__name__
    run.__doc__ = step.__doc__
    return run


def _check_input(key: str | None, ingested: steps.Ingested) -> int:
    """The input gate; returns how many contract checks passed (a small, cacheable result)."""
    return len(steps.check_input_step(ingested).results)


def _given_key(context: Any, parameters: dict[str, Any]) -> str | None:
    return parameters["key"]


GIVEN_KEY = CacheKeyFnPolicy(cache_key_fn=_given_key)
"""Prefect's cache key is the step key the flow passes (flows.caching adds a lock per key)."""


def _cached_task(function: Callable[..., Any], name: str) -> Any:
    return task(
        function,
        name=name,
        cache_policy=GIVEN_KEY,
        persist_result=True,
        result_serializer="json",
        retries=len(RETRY_DELAYS),
        retry_delay_seconds=RETRY_DELAYS,
        retry_condition_fn=retry_transient_io,
    )


ingest = _cached_task(_in_folder(steps.ingest_step), "ingest")
check_input = _cached_task(_check_input, "check-input")
split = _cached_task(_in_folder(steps.split_step), "split")
fit = _cached_task(_in_folder(steps.fit_step), "fit")
sample = _cached_task(_in_folder(steps.sample_step), "sample")
evaluate = _cached_task(_in_folder(steps.evaluate_step), "evaluate")
publish = task(steps.publish_step, name="publish", cache_policy=NO_CACHE)
reject = task(steps.reject_step, name="reject", cache_policy=NO_CACHE)


def run_seconds(folder: Path) -> float:
    """How long the step that filled `folder` ran (from its `.complete`)."""
    return float(json.loads((folder / COMPLETE).read_text())["seconds"])
