"""Gaussian copula generator: a wrapper of SDV's GaussianCopulaSynthesizer.

Fast (seconds on Adult) and a strong baseline for marginals and linear correlations; weaker on
non-linear structure. Conditional sampling is SDV's own (`sample_remaining_columns`: the copula's
conditional normal, then reject sampling for categories), so it follows the copula's linear view of
how the other columns depend on the conditioned ones. What synthwright adds around SDV: metadata
driven by the contract (no guessing), seeded fit and sampling, identifiers/PII/rules handled by the
base class, and a checksummed save.
A datetime column reaching outside pandas' nanosecond range (held in microseconds: 0001-01-01, 9999-12-31)
goes to SDV as float seconds declared numerical, since SDV's datetime handling demands nanoseconds; it
comes back through `datetimes_from_seconds`. Other datetime columns keep SDV's own datetime handling, so
their samples stay as they were. The choice is read back from the saved model's SDV metadata.
The saved model is SDV's own pickle (cloudpickle): it loads only when this installation signed it
at save, or with --trust-model (synthwright.trust).
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.data_contracts.sdv_metadata import TABLE, sdv_metadata
from synthwright.errors import ConfigError
from synthwright.generators.base import Generator, Progress, ProgressUpdate
from synthwright.generators.timestamps import datetimes_from_seconds, seconds_since_epoch

Distribution = Literal["beta", "norm", "truncnorm", "gamma", "uniform", "gaussian_kde"]
MODEL_FILE = "sdv_gaussian_copula.pkl"
FIT_MAX_ROWS = 200_000
"""Default of `max_fit_rows`: more training rows than this and the copula is fitted on a seeded sample
of this many. SDV's fit costs about 0.33 ms per row on 2 cores, mostly scipy's maximum-likelihood fit of
each column's marginal (Nelder-Mead over every row, for every column, categories included): 800,000
rows of 20 columns took 270 s. What it learns is a few parameters per column and one correlation matrix,
which 200,000 rows pin down to about ±0.002 (correlations); what a sample can lose is a category rarer
than about 1 in 200,000 rows, which the copula then never generates. `max_fit_rows: null` fits on all."""


class CopulaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default_distribution: Distribution = Field(
        default="beta", description="marginal distribution fitted to each numeric column"
    )
    numerical_distributions: dict[str, Distribution] = Field(
        default_factory=dict, description="per-column overrides of default_distribution"
    )
    max_fit_rows: int | None = Field(
        default=FIT_MAX_ROWS,
        ge=2,
        description="fit on a seeded sample of this many training rows when there are more; null: all rows",
    )


class CopulaGenerator(Generator):
    name = "copula"
    Config = CopulaConfig
    summary = "Gaussian copula: seconds to fit; good marginals, linear correlations only"
    wraps = "sdv.single_table.GaussianCopulaSynthesizer"
    libraries = ("sdv", "copulas", "rdt")
    supports_conditions = True
    saves_pickle = True
    config: CopulaConfig

    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        from sdv.logging.utils import disable_single_table_logger
        from sdv.single_table import GaussianCopulaSynthesizer

        unknown = sorted(set(self.config.numerical_distributions) - set(data.columns))
        if unknown:
            raise ConfigError(
                f"copula config numerical_distributions names column(s) {unknown} "
                "that the model does not learn",
                hint=f"learned columns: {list(data.columns)}",
            )
        limit = self.config.max_fit_rows
        if limit is not None and len(data) > limit:
            rows = np.sort(np.random.default_rng(self.seed).choice(len(data), limit, replace=False))
            progress(
                ProgressUpdate(
                    0, 1, f"fitting a Gaussian copula on a seeded sample of {limit:,} of {len(data):,} rows"
                )
            )
            data = data.iloc[rows].reset_index(drop=True)
            self.n_fitted_rows_ = limit
        else:
            progress(ProgressUpdate(0, 1, f"fitting a Gaussian copula on {len(data):,} rows"))
        with warnings.catch_warnings(), disable_single_table_logger():
            warnings.simplefilter("ignore")  # SDV's advisory warnings about transformers and rounding
            seconds = [
                c.name
                for c in contract.columns
                if c.kind is ColumnKind.DATETIME and data[c.name].dtype != "datetime64[ns]"
            ]
            model = GaussianCopulaSynthesizer(
                _metadata(contract, seconds),
                default_distribution=self.config.default_distribution,
                numerical_distributions=dict(self.config.numerical_distributions) or None,
            )
            model.fit({TABLE: _for_sdv(data, seconds)})
        self.model_ = model
        progress(ProgressUpdate(1, 1, "Gaussian copula fitted"))

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        from sdv.logging.utils import disable_single_table_logger

        with warnings.catch_warnings(), disable_single_table_logger():
            warnings.simplefilter("ignore")
            self.model_.reset_sampling()  # RDT's transformers restart their own generators
            self.model_._set_random_state(seed)  # SDV has no public per-call seed for the copula
            return self._from_sdv(self.model_.sample(n)[TABLE])

    def _sample_conditioned(self, n: int, seed: int, conditions: pd.DataFrame) -> pd.DataFrame:
        """Rows that share the same conditioned columns go to SDV together; the output keeps row order."""
        from sdv.logging.utils import disable_single_table_logger

        given = conditions.notna()
        parts = []
        with warnings.catch_warnings(), disable_single_table_logger():
            warnings.simplefilter("ignore")
            self.model_.reset_sampling()
            self.model_._set_random_state(seed)
            for pattern, rows in given.groupby(list(given.columns), sort=False).groups.items():
                pattern = pattern if isinstance(pattern, tuple) else (pattern,)
                columns = [name for name, fixed in zip(given.columns, pattern, strict=True) if fixed]
                if not columns:
                    part = self.model_.sample(len(rows))[TABLE]
                else:
                    known = _for_sdv(conditions.loc[rows, columns].reset_index(drop=True), self._seconds())
                    with contextlib.redirect_stderr(io.StringIO()):  # SDV's tqdm bar
                        part = self.model_.sample_remaining_columns(known)[TABLE]
                parts.append(part.set_axis(rows))
        return self._from_sdv(pd.concat(parts).sort_index().reset_index(drop=True))

    def _seconds(self) -> list[str]:
        """Datetime columns this model gave SDV as seconds: numerical in its metadata, datetime in ours."""
        sdtypes = {name: meta["sdtype"] for name, meta in self.model_.metadata.tables[TABLE].columns.items()}
        return [
            c.name
            for c in self.plan_.model_contract.columns
            if c.kind is ColumnKind.DATETIME and sdtypes.get(c.name) == "numerical"
        ]

    def _from_sdv(self, frame: pd.DataFrame) -> pd.DataFrame:
        for name in self._seconds():
            frame[name] = datetimes_from_seconds(frame[name]).set_axis(frame.index)
        return frame

    def _save(self, folder: Path) -> list[str]:
        self.model_.save(folder / MODEL_FILE)
        return [MODEL_FILE]

    def _load(self, folder: Path, contract: Contract) -> None:
        from sdv.utils import load_synthesizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model_ = load_synthesizer(str(folder / MODEL_FILE))


def _metadata(contract: Contract, seconds: list[str]) -> Any:
    """The contract's SDV metadata, with the `seconds` datetime columns declared numerical."""
    from sdv.metadata import Metadata

    if not seconds:
        return sdv_metadata(contract)
    spec = sdv_metadata(contract).to_dict()
    for name in seconds:
        spec["tables"][TABLE]["columns"][name] = {"sdtype": "numerical"}
    return Metadata.load_from_dict(spec)


def _for_sdv(data: pd.DataFrame, seconds: list[str]) -> pd.DataFrame:
    """SDV's boolean handling wants object columns of True/False/NaN, not pandas' nullable boolean;
    the `seconds` datetime columns go as float seconds since the epoch."""
    frame = data.copy()
    for name in frame.columns:
        if frame[name].dtype == "boolean":
            frame[name] = frame[name].astype(object).where(frame[name].notna(), float("nan"))
        elif name in seconds:
            frame[name] = seconds_since_epoch(frame[name])
    return frame
