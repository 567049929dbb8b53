"""The pipeline's split step: seeded, stratified where it can be, and never a row on both sides.

A row repeated in the source must not land in train and holdout at once: the holdout is the privacy
tests' control, and a twin of a training row there makes a copier of training rows look as close to
unseen people as to the ones it learned from. Duplicates are counted at ingest too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import UserInputError
from synthwright.pipelines.frames import read_frame, write_frame
from synthwright.pipelines.spec import PipelineSpec
from synthwright.pipelines.steps import Ingested, duplicate_rows, ingest_step, row_groups, split_step
from synthwright.validators.contract import ContractReport
from synthwright.validators.fidelity import Fidelity
from synthwright.validators.gates import Gates, score
from synthwright.validators.privacy import privacy

CONTRACT = Contract(
    dataset="t",
    columns=[
        Column(name="x", kind=ColumnKind.INTEGER),
        Column(name="label", kind=ColumnKind.CATEGORICAL, nullable=True),
    ],
)


CLEAN = ContractReport(source="synthetic", rows=0, results=[])


def table(rows: int, classes: int = 2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": pd.array(rng.permutation(rows), dtype="Int64"),
            "label": [f"c{i % classes}" for i in range(rows)],
        }
    )


def split(tmp: Path, frame: pd.DataFrame, **spec: object):
    """Split `frame` as the pipeline would; returns (Split, train, holdout)."""
    data = write_frame(frame, CONTRACT, tmp / "real.parquet")
    ingested = Ingested(
        data_path=data,
        contract=CONTRACT,
        source="real.csv",
        source_sha256="0",
        rows=len(frame),
        contract_inferred=False,
    )
    pipeline = PipelineSpec.model_validate({"dataset": "t", "source": {"path": "real.csv"}, **spec})
    result = split_step(pipeline, ingested, tmp)
    return result, read_frame(result.train_path, CONTRACT), read_frame(result.holdout_path, CONTRACT)


def shared_rows(train: pd.DataFrame, holdout: pd.DataFrame) -> int:
    return len(train.merge(holdout.drop_duplicates(), how="inner"))


def test_a_table_without_repeats_is_split_row_by_row_and_stratified(tmp_path):
    result, train, holdout = split(tmp_path, table(100), target="label")
    assert (result.train_rows, result.holdout_rows, result.stratified_by) == (80, 20, "label")
    assert holdout["label"].value_counts().to_dict() == {"c0": 10, "c1": 10}


def test_every_row_twice_gives_train_and_holdout_no_shared_row(tmp_path, caplog):
    frame = pd.concat([table(50), table(50)], ignore_index=True)  # every row appears twice
    with caplog.at_level(logging.WARNING, logger="synthwright.pipeline"):
        result, train, holdout = split(tmp_path, frame, target="label")
    assert shared_rows(train, holdout) == 0
    assert result.train_rows + result.holdout_rows == 100
    assert result.holdout_rows == 20 and result.stratified_by == "label"  # pairs fill 20 exactly
    assert holdout["label"].value_counts().to_dict() == {"c0": 10, "c1": 10}
    assert "50 of 100 rows repeat another row (50 distinct)" in caplog.text
    assert "approximate" in caplog.text


def test_uneven_repeats_keep_every_copy_on_one_side_and_the_share_near_the_ask(tmp_path):
    frame = table(60, seed=3)
    frame = pd.concat([frame, *[frame.iloc[:5]] * 8], ignore_index=True)  # 5 rows 9 times each
    result, train, holdout = split(tmp_path, frame, target="label", seed=7)
    assert shared_rows(train, holdout) == 0
    assert result.train_rows + result.holdout_rows == 100
    assert abs(result.holdout_rows - 20) <= 2


def test_the_grouped_split_is_seeded(tmp_path):
    frame = pd.concat([table(40)] * 3, ignore_index=True)
    first = split(tmp_path / "a", frame, seed=4)[2]
    again = split(tmp_path / "b", frame, seed=4)[2]
    other = split(tmp_path / "c", frame, seed=5)[2]
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_one_distinct_row_cannot_be_held_out(tmp_path):
    frame = pd.concat([table(1)] * 30, ignore_index=True)
    with pytest.raises(UserInputError, match="1 distinct row"):
        split(tmp_path, frame)


def test_more_classes_than_holdout_rows_falls_back_to_an_unstratified_split(tmp_path, caplog):
    frame = table(30, classes=10)  # 3 rows per class, 6 holdout rows for 10 classes
    with caplog.at_level(logging.WARNING, logger="synthwright.pipeline"):
        result, train, holdout = split(tmp_path, frame, target="label")
    assert (result.train_rows, result.holdout_rows, result.stratified_by) == (24, 6, None)
    assert "not stratifying by label: 10 classes, but the holdout has only 6 rows" in caplog.text


def test_row_groups_treat_nulls_as_equal_and_count_duplicates():
    frame = pd.DataFrame({"a": [1.0, np.nan, 1.0, np.nan, 2.0], "b": ["x", None, "x", None, "x"]})
    assert row_groups(frame).tolist() == [0, 1, 0, 1, 2]
    assert duplicate_rows(frame) == 2
    assert duplicate_rows(frame.iloc[:0]) == 0


def test_ingest_reports_the_duplicate_rows(tmp_path, caplog):
    data = tmp_path / "real.csv"
    data.write_text("x,label\n" + "".join(f"{i % 40},c{i % 2}\n" for i in range(100)))
    spec = PipelineSpec.model_validate({"dataset": "t", "source": {"path": str(data)}})
    with caplog.at_level(logging.WARNING, logger="synthwright.pipeline"):
        ingested = ingest_step(spec, CONTRACT, tmp_path)
    assert ingested.duplicate_rows == 60
    assert f"60 of 100 rows (60.0 %) of {data} repeat an earlier row" in caplog.text


def test_a_row_copier_no_longer_hides_behind_twins_in_the_holdout(tmp_path):
    """Split row by row, a table whose rows each appear ten times puts nearly every row's twins in both
    parts: a copier of training rows is then as close to the holdout as to train, and passes the
    privacy gates. Split by distinct rows, it is caught."""
    frame = pd.concat([table(20)] * 10, ignore_index=True)
    naive_train, naive_holdout = train_test_split(frame, test_size=40, random_state=0)
    _, train, holdout = split(tmp_path, frame)
    for real, control, hidden in ((naive_train, naive_holdout, True), (train, holdout, False)):
        copier = real.sample(len(real), replace=True, random_state=1)
        private = privacy(real, control, copier, CONTRACT)
        card = score(Gates(), Fidelity(0.0, 0.0), CLEAN, privacy=private)
        failed = {m.name for m in card.failures}
        assert ("exact_match_excess" not in failed and "dcr_share" not in failed) is hidden, private
