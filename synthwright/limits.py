"""Limits checked up front, before anything is fitted: seeds, row counts and the memory a sample needs.

Seeds are integers in 0 … 2³²−1 everywhere (spec, request, `--seed`, the Python API): numpy, torch and
scikit-learn all take that range, and a seed outside it would mean something different to each. A
boolean is not a seed or a row count, although Python counts `True` as 1.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from pydantic import Field, StrictInt

from synthwright.errors import ConfigError

SEED_MAX = 2**32 - 1
Seed = Annotated[StrictInt, Field(ge=0, le=SEED_MAX, description=f"random seed, 0 … {SEED_MAX}")]
RowCount = Annotated[StrictInt, Field(ge=1)]

MEMORY_SHARE = 0.8
"""A sample may plan to use at most this share of the memory available when it starts."""
BYTES_PER_CELL = {"integer": 8, "float": 8, "boolean": 1, "datetime": 8}
TEXT_CELL_BYTES = 64
"""A string cell in pandas: its object pointer plus a short Python str."""
WORKING_COPIES = 4
"""The sampled rows exist about this many times at the peak: the model's matrix, the decoded frame,
the frame conformed to the contract and its Arrow table while the file is written."""


def check_seed(seed: Any, where: str) -> int:
    """`seed` as an int in 0 … 2³²−1, or a ConfigError naming `where` (an option, a spec field)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(
            f"{where}: {str(seed)[:40]!r} is not a seed", hint=f"give an integer from 0 to {SEED_MAX}"
        )
    return seed


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def sample_bytes(rows: int, kinds: list[str]) -> int:
    """Estimated peak bytes of sampling `rows` rows of columns of these kinds (ColumnKind values)."""
    per_row = sum(BYTES_PER_CELL.get(kind, TEXT_CELL_BYTES) for kind in kinds)
    return rows * max(per_row, 1) * WORKING_COPIES


def check_sample_memory(rows: int, kinds: list[str], where: str) -> None:
    """Refuse, before any fit, a row count whose estimated memory exceeds what the machine has free."""
    free = available_memory()
    need = sample_bytes(rows, kinds)
    if free is not None and need > MEMORY_SHARE * free:
        most = int(MEMORY_SHARE * free / max(need / rows, 1))
        raise ConfigError(
            f"{where}: {rows:,} rows need about {_gib(need)} of memory to sample ({len(kinds)} columns), "
            f"and this machine has {_gib(free)} available",
            hint=f"ask for at most about {most:,} rows per run (several runs with different seeds add up), "
            "or run on a machine with more memory",
        )


def _gib(count: int) -> str:
    return f"{count / 2**30:.1f} GiB"
