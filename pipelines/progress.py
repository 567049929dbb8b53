"""Progress of long work (a generator's fit): a live bar on a terminal, sparse log lines elsewhere.

Generators report every epoch through a `Progress` callback. A person at a terminal gets a bar with
the epoch, the losses, elapsed time and an ETA; a run log (Prefect, CI, a pipe) gets a line at the
start, about every tenth of the work or every 30 seconds, and at the end — not hundreds of lines.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator

from synthwright.generators.base import Progress, ProgressUpdate

log = logging.getLogger("synthwright.progress")
LOG_EVERY_SECONDS = 30.0


class ProgressLog:
    """A `Progress` that writes throttled log lines."""

    def __init__(self, logger: logging.Logger = log, every_seconds: float = LOG_EVERY_SECONDS):
        self.logger, self.every_seconds = logger, every_seconds
        self._last_time = float("-inf")
        self._last_tenth = -1

    def __call__(self, update: ProgressUpdate) -> None:
        now = time.monotonic()
        tenth = int(10 * update.done / update.total) if update.total else -1
        finished = update.total is not None and update.done >= update.total
        always = update.total is None or update.done == 0 or finished or not update.metrics
        if not always and tenth <= self._last_tenth and now - self._last_time < self.every_seconds:
            return
        self._last_time, self._last_tenth = now, max(tenth, self._last_tenth)
        metrics = " ".join(f"{k}={v:.4g}" for k, v in update.metrics.items())
        total = f"/{update.total}" if update.total else ""
        self.logger.info(
            "%s", " ".join(part for part in (update.message, f"[{update.done}{total}]", metrics) if part)
        )


@contextlib.contextmanager
def progress_display(*, bar: bool | None = None) -> Iterator[Progress]:
    """A bar when stderr is a terminal (or `bar=True`), else throttled log lines."""
    if bar is None:
        bar = sys.stderr.isatty()
    if not bar:
        yield ProgressLog()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as RichProgress,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[metrics]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with RichProgress(*columns, console=Console(stderr=True), transient=False) as rich_bar:
        task = rich_bar.add_task("starting", total=None, metrics="")

        def show(update: ProgressUpdate) -> None:
            metrics = " ".join(f"{k} {v:.3f}" for k, v in update.metrics.items())
            rich_bar.update(
                task, description=update.message, completed=update.done, total=update.total, metrics=metrics
            )

        yield show
