"""Personal data is never published verbatim: what a table's `pii` columns hold when it is published.

Synthetic rows already carry fakes (the generators refill `pii` columns with Faker values, seeded).
Published tables that hold real rows, as augmented ones do, get their `pii` columns regenerated for
every row. A column with `pii_action: drop` is left out of the published table and its contract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthwright.data_contracts.model import Contract
from synthwright.generators.columns import fake_values


def publishable(
    frame: pd.DataFrame, contract: Contract, *, seed: int, refake: bool
) -> tuple[pd.DataFrame, Contract]:
    """The table and contract to publish: `drop` columns removed; with `refake`, every other `pii`
    column regenerated for all rows (for tables holding real rows)."""
    dropped = [c.name for c in contract.columns if c.pii is not None and c.pii_action == "drop"]
    frame = frame.drop(columns=dropped)
    if refake:
        rng = np.random.default_rng(seed)
        frame = frame.copy()
        for column in contract.columns:
            if column.pii is not None and column.name not in dropped:
                values = fake_values(column, len(frame), int(rng.integers(2**31)), contract.is_unique(column))
                frame[column.name] = values.where(frame[column.name].notna(), None).to_numpy()
    if not dropped:
        return frame, contract
    kept = contract.model_copy(update={"columns": [c for c in contract.columns if c.name not in dropped]})
    return frame, Contract.model_validate(kept.model_dump())  # text columns: in no rule, never the key
