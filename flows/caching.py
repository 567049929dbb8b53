"""Cross-run caching of the pipeline's steps, on Prefect's task cache.

Prefect keeps each cacheable task's JSON result under our step key (synthwright.pipelines.cache_keys) in its
result storage ($PREFECT_HOME/storage); the files that result points at live in our cache folder,
one per step and key: <cache root>/<step>/<key>/. Before reusing a result the flow checks that its
folder is whole (`.complete`); a record whose folder was deleted or half-written makes the step run
again (Prefect's `refresh_cache`). A file lock per key (Prefect's SERIALIZABLE isolation) makes two
runs that need the same step compute it once: the second waits, then reuses the first's result.
The cache folder holds real rows (the ingested source and its split): it is kept private (700), and a
run's work folder lives under it too (synthwright.pipelines.workspace).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.locking.filesystem import FileSystemLockManager
from prefect.results import ResultStore

from synthwright.flows.tasks import COMPLETE, GIVEN_KEY
from synthwright.pipelines.workspace import private_folder

log = logging.getLogger("synthwright.flow")


class StepCache:
    """Where each step writes, and the task options that make Prefect reuse it."""

    def __init__(self, root: Path | None, work: Path):
        self.root = root
        self.work = work
        self._policy = None
        if root is not None:
            private_folder(
                root,
                "the cache folder",
                hint="set cache.root (or SYNTHWRIGHT_CACHE_DIR) to a folder you can write to, "
                "or turn caching off with cache.enabled: false",
            )
            self._policy = GIVEN_KEY.configure(
                lock_manager=FileSystemLockManager(lock_files_directory=root / "locks"),
                isolation_level="SERIALIZABLE",
            )

    @property
    def enabled(self) -> bool:
        return self.root is not None

    def key(self, step: str, key: str | None) -> str | None:
        """Prefect's cache key: ours, prefixed by the step (None: this call is not cached)."""
        return f"synthwright-{step}-{key}" if self.enabled and key is not None else None

    def folder(self, step: str, key: str | None, title: str | None = None) -> Path:
        if self.enabled and key is not None:
            assert self.root is not None
            return self.root / step / key
        return self.work / step / (title or "")

    def options(self, task: Any, folder: Path | None, key: str | None) -> Any:
        """The task, set to reuse a cached result only when its files are whole."""
        if key is None or self._policy is None:
            return task.with_options(cache_policy=NO_CACHE, persist_result=False)
        # A record whose files are gone is stale: recompute. No record and no files: a plain call, so
        # that a second run needing the same step waits on the key's lock and then reuses the first
        # run's result instead of rewriting the folder under it. The record is looked up before the
        # folder: a run that finishes the step in between wrote its `.complete` before its record, so
        # this order never mistakes a step another run has just finished for a stale one.
        recorded = ResultStore().exists(key)  # where a task without its own storage keeps it
        stale = recorded and not (folder is None or (folder / COMPLETE).is_file())
        return task.with_options(cache_policy=self._policy, refresh_cache=stale)
