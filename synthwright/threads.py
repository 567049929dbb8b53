"""Thread pools sized to the cores that are free, so a shared machine sees the same minutes as a quiet one.

OpenMP (scikit-learn's gradient boosting, torch) and BLAS start one thread per core by default. When
another job holds a core, those threads wait on each other: on 2 cores beside one busy process,
`evaluate` ran 302 s instead of tens of seconds. Each command therefore counts the cores idle when it
starts and sets OMP/BLAS/torch to that many threads before any of those libraries load.

`SYNTHWRIGHT_THREADS=N` fixes the number (`all`: every core, the libraries' own default). Without it, an
OMP_NUM_THREADS the user has set is left to size the pools as they asked.
"""

from __future__ import annotations

import logging
import os
import sys
import time

THREADS_ENV = "SYNTHWRIGHT_THREADS"
LIBRARY_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
SAMPLE_SECONDS = 0.25
"""How long the idle share of the CPUs is measured for (/proc/stat, twice)."""

log = logging.getLogger("synthwright.threads")


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, e.g. a container's CPU set)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def free_cores(cores: int | None = None) -> int:
    """The usable cores that are idle now (at least 1): the machine's idle share over SAMPLE_SECONDS."""
    cores = cores or usable_cores()
    first = _cpu_times()
    if first is None:
        return cores
    time.sleep(SAMPLE_SECONDS)
    second = _cpu_times()
    if second is None:
        return cores
    total = sum(second) - sum(first)
    idle = (second[3] + second[4]) - (first[3] + first[4])  # idle + iowait
    if total <= 0:
        return cores
    machine = os.cpu_count() or cores
    idle_cores = machine * idle / total
    return max(1, min(cores, int(idle_cores + 0.25)))  # a core 75 % idle counts as free


def _cpu_times() -> list[int] | None:
    """The aggregate `cpu` line of /proc/stat (user, nice, system, idle, iowait, …), None off Linux."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
        return [int(v) for v in fields[1:9]] if fields and fields[0] == "cpu" else None
    except (OSError, ValueError):
        return None


def chosen_threads() -> int | None:
    """$SYNTHWRIGHT_THREADS, else the free cores; None for `all` (leave the libraries' defaults)."""
    setting = os.environ.get(THREADS_ENV, "").strip().lower()
    if setting == "all":
        return None
    if setting:
        try:
            return max(1, int(setting))
        except ValueError:
            log.warning("%s=%r is not a number of threads; using the free cores", THREADS_ENV, setting)
    return free_cores()


def size_thread_pools() -> int | None:
    """Set every thread pool to `chosen_threads()`; returns the number (None: left as it was).

    Called by the CLI before it imports numpy, scikit-learn or torch: their pools read the variables
    when they load. A library already loaded is limited through threadpoolctl (and torch's own call)."""
    if not os.environ.get(THREADS_ENV) and os.environ.get("OMP_NUM_THREADS"):
        return None  # the user (or a test runner) sized the pools already
    threads = chosen_threads()
    if threads is None:
        return None
    explicit = bool(os.environ.get(THREADS_ENV))
    for name in LIBRARY_VARIABLES:
        if explicit or name not in os.environ:
            os.environ[name] = str(threads)
    if "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return threads
