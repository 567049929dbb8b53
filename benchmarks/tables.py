"""The benchmark suite's five tables, read once through our ingest and split the same way for everyone.

Adult comes with its shipped contract (data_contracts/examples/adult.yaml) and reads `?` as missing;
default, shoppers, magic and beijing get a contract inferred from the whole file, as a user's first run
would. Each table names its target and its task: classification (TSTR/TRTR as ROC AUC) or regression
(R², beijing's `pm`).

Two decisions are the suite's own, not the inferred contract's:
  - default's target (`default.payment.next.month`, 0/1 codes) is inferred as an integer; the table
    declares it a class label (a categorical column of "0"/"1"), as the papers treat it, so that its
    utility is a classifier's ROC AUC and not a regression's R²;
  - beijing's `pm` is missing in 2,067 rows. Those rows stay in every split and every generator learns
    from them (the contract's `pm` is nullable, so a synthetic table may hold missing `pm` too); only
    the utility model leaves out rows without a `pm` (synthwright.validators.utility fits and scores
    on labelled rows only), on the training, synthetic and holdout side alike.

`split` cuts 80/20 with seed 0, stratified by the target for classification (plain for regression);
`quick_rows` first draws a seeded random subset of the table (the suite's `--quick` smoke test).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from sklearn.model_selection import train_test_split

from synthwright.data_contracts.io import load_contract
from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.pipelines.ingest import ReadOptions, ingest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets"
SEED = 0
HOLDOUT_SHARE = 0.2


@dataclass(frozen=True)
class Table:
    name: str
    file: str
    target: str
    task: Literal["classification", "regression"]
    contract: Path | None = None
    """A shipped contract; None: inferred from the file."""
    na_values: tuple[str, ...] | None = None
    """Strings read as missing; None: ingest's defaults."""

    @property
    def path(self) -> Path:
        return DATA / self.file


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "adult",
            "adult.csv",
            "income",
            "classification",
            contract=REPO / "data_contracts" / "examples" / "adult.yaml",
            na_values=("", "?"),
        ),
        Table("default", "default.csv", "default.payment.next.month", "classification"),
        Table("shoppers", "shoppers.csv", "Revenue", "classification"),
        Table("magic", "magic.csv", "class", "classification"),
        Table("beijing", "beijing.csv", "pm", "regression"),
    )
}


def load(table: Table) -> tuple[pd.DataFrame, Contract]:
    """The whole table in its contract's dtypes, and the contract (shipped, or inferred and adjusted)."""
    options = ReadOptions(na_values=list(table.na_values)) if table.na_values is not None else ReadOptions()
    contract = load_contract(table.contract) if table.contract else None
    parsed = ingest(table.path, options, contract)
    if parsed.parse_failures:
        raise ValueError(f"{table.path}: values that do not parse: {parsed.parse_failures}")
    target = parsed.contract.column(table.target)
    if table.task == "classification" and target.kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
        labels = sorted(str(v) for v in parsed.frame[table.target].dropna().unique())
        label_column = Column(
            name=target.name, kind=ColumnKind.CATEGORICAL, nullable=target.nullable, values=labels
        )
        columns = [label_column if c.name == target.name else c for c in parsed.contract.columns]
        contract = Contract.model_validate({**parsed.contract.model_dump(), "columns": columns})
        parsed = ingest(table.path, options, contract)
    return parsed.frame, parsed.contract


def quick_rows(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """A seeded random subset of `rows` rows (all of them when there are fewer)."""
    if len(frame) <= rows:
        return frame
    return frame.sample(rows, random_state=SEED).sort_index()


def split(frame: pd.DataFrame, table: Table) -> tuple[pd.DataFrame, pd.DataFrame]:
    """80/20, seed 0, stratified by the target for classification; fresh indexes."""
    stratify = frame[table.target].astype(object) if table.task == "classification" else None
    train_index, holdout_index = train_test_split(
        frame.index, test_size=HOLDOUT_SHARE, random_state=SEED, stratify=stratify
    )
    return (
        frame.loc[sorted(train_index)].reset_index(drop=True),
        frame.loc[sorted(holdout_index)].reset_index(drop=True),
    )
