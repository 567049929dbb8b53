"""Bootstrap generator: resamples training rows with replacement.

Not a synthesiser. It exists as a fast test double for pipelines, and as a deliberate privacy failure:
its output copies real rows, which the privacy gates must catch. Its saved model *is* the training data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from synthwright.data_contracts.model import Contract
from synthwright.generators.base import Generator, Progress, ProgressUpdate, normalise_input

ROWS_FILE = "training_rows.parquet"


class BootstrapConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BootstrapGenerator(Generator):
    name = "bootstrap"
    Config = BootstrapConfig
    summary = "Resamples real training rows (test double; copies real data, fails privacy gates)"

    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        self.rows_ = data.reset_index(drop=True)
        progress(ProgressUpdate(1, 1, f"kept {len(data):,} training rows"))

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        picks = np.random.default_rng(seed).integers(0, len(self.rows_), size=n)
        return self.rows_.iloc[picks].reset_index(drop=True)

    def _save(self, folder: Path) -> list[str]:
        pq.write_table(pa.Table.from_pandas(self.rows_, preserve_index=False), folder / ROWS_FILE)
        return [ROWS_FILE]

    def _load(self, folder: Path, contract: Contract) -> None:
        self.rows_ = normalise_input(pq.read_table(folder / ROWS_FILE).to_pandas(), contract)
