"""`synthwright fit --json` with the neural generators, `sample --condition/--conditions`, and the
throttled progress log that both the CLI and the pipeline's fit step write.

The models are tiny (120 rows, 2 epochs): these tests check the plumbing, not the quality.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from cli_support import Result, assert_clean_user_error, cli, cli_captured, logging_restored
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.io import save_contract
from synthwright.generators.base import ProgressUpdate
from synthwright.pipelines.ingest import ingest
from synthwright.pipelines.progress import ProgressLog, progress_display

# ----------------------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture(autouse=True)
def _restore_logging():
    with logging_restored():
        yield


def read_output(path: Path) -> pd.DataFrame:
    """A sampled file (CSV, Parquet or JSON Lines) parsed to the mixed contract's dtypes."""
    result = ingest(path, contract=mixed_contract())
    assert not result.parse_failures, result.parse_failures
    return result.frame


def progress_lines(err: str, what: str) -> list[str]:
    return [line for line in err.splitlines() if f"training {what}" in line]


# ----------------------------------------------------------------------------------------------------------
# Fixtures: the mixed table and one model of each kind, fitted through the CLI once per module

TINY = ["--config", "epochs=2", "--config", "batch_size=50", "--device", "cpu", "--seed", "1"]


@dataclass
class Table:
    data: Path
    contract: Path


@dataclass
class Fitted:
    model: Path
    fit: Result


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Table:
    folder = tmp_path_factory.mktemp("mixed")
    data = folder / "mixed.csv"
    make_mixed_frame(120, seed=0).to_csv(data, index=False)
    contract = folder / "mixed.yaml"
    save_contract(mixed_contract(), contract)
    return Table(data, contract)


@pytest.fixture(scope="module")
def ctgan(table, tmp_path_factory) -> Fitted:
    """A 2-epoch CTGAN fitted with `fit --json`; its output is checked by a test, its model sampled."""
    model = tmp_path_factory.mktemp("ctgan") / "model"
    result = cli_captured(
        "fit", table.data, "-g", "ctgan", "--contract", table.contract, "--out", model,
        *TINY, "--config", "pac=5", "--json",
    )  # fmt: skip
    assert result.code == 0, result
    return Fitted(model, result)


def _fitted(table: Table, tmp_path_factory, generator: str) -> Path:
    model = tmp_path_factory.mktemp(generator) / "model"
    result = cli_captured("fit", table.data, "-g", generator, "--contract", table.contract, "--out", model)
    assert result.code == 0, result
    return model


@pytest.fixture(scope="module")
def copula(table, tmp_path_factory) -> Path:
    return _fitted(table, tmp_path_factory, "copula")


@pytest.fixture(scope="module")
def bootstrap(table, tmp_path_factory) -> Path:
    """A generator without conditional sampling (it only resamples rows)."""
    return _fitted(table, tmp_path_factory, "bootstrap")


# ----------------------------------------------------------------------------------------------------------
# fit --json with the neural generators


def _assert_fit_json(result: Result, generator: str, model: Path, what: str) -> None:
    assert result.code == 0, result
    summary = json.loads(result.out)  # stdout is exactly one JSON object, nothing else
    assert set(summary) == {"generator", "rows", "model_dir", "seconds", "training"}
    assert summary["generator"] == generator
    assert summary["rows"] == 120
    assert summary["model_dir"] == str(model)
    assert summary["seconds"] > 0
    training = summary["training"]
    assert training["epochs_completed"] == 2 and training["epochs_requested"] == 2
    assert training["device"] == "cpu"
    assert training["stopped_early"] is False
    assert "losses" not in training
    assert (model / "generator.json").is_file()
    # progress as throttled log lines on stderr: start, each of the 2 epochs, and no bar
    lines = progress_lines(result.err, what)
    assert [line.split("[", 1)[1].split("]")[0] for line in lines] == ["0/2", "1/2", "2/2"], result.err
    assert "loss" in lines[-1]
    assert len(result.err.strip().splitlines()) <= 6, result.err
    assert "━" not in result.err and "ETA" not in result.err
    assert "Traceback" not in result.err


def test_fit_tvae_json(capsys, table, tmp_path, monkeypatch):
    # as in a new process: no handler yet (flow tests leave Prefect's console handler on this logger)
    monkeypatch.setattr(logging.getLogger("synthwright"), "handlers", [])
    model = tmp_path / "tvae"
    result = cli(
        capsys, "fit", table.data, "-g", "tvae", "--contract", table.contract, "--out", model, *TINY, "--json"
    )
    _assert_fit_json(result, "tvae", model, "TVAE")


def test_fit_ctgan_json(ctgan):
    _assert_fit_json(ctgan.fit, "ctgan", ctgan.model, "CTGAN")


# ----------------------------------------------------------------------------------------------------------
# sample --condition / --conditions


def test_sample_one_condition_fixes_the_column_in_every_row(capsys, ctgan, table, tmp_path):
    target = tmp_path / "red.csv"
    result = cli(capsys, "sample", ctgan.model, "--rows", 60, "--condition", "colour=red", "--out", target)
    assert result.code == 0, result
    assert "wrote 60 rows" in result.out
    frame = read_output(target)
    assert len(frame) == 60
    assert (frame["colour"] == "red").all()
    assert frame["customer_id"].is_unique  # the rest of the contract still holds


def test_sample_two_conditions_both_hold(capsys, ctgan, tmp_path):
    target = tmp_path / "both.csv"
    result = cli(
        capsys, "sample", ctgan.model, "--rows", 60,
        "--condition", "colour=red", "--condition", "member=true", "--out", target,
    )  # fmt: skip
    assert result.code == 0, result
    frame = read_output(target)
    assert len(frame) == 60
    assert (frame["colour"] == "red").all()
    assert frame["member"].eq(True).all()  # the text "true" was read as the contract's boolean


def test_sample_condition_on_an_integer_column_reads_the_text_as_a_number(capsys, ctgan, tmp_path):
    target = tmp_path / "age.csv"
    result = cli(capsys, "sample", ctgan.model, "--rows", 5, "--condition", "age=40", "--out", target)
    assert result.code == 0, result
    frame = read_output(target)
    assert frame["age"].tolist() == [40] * 5


def test_sample_with_a_seed_is_reproducible_under_conditions(capsys, ctgan, tmp_path):
    frames = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        target = tmp_path / f"{name}.csv"
        args = ["sample", ctgan.model, "--rows", 30, "--condition", "colour=blue", "--seed", seed]
        assert cli(capsys, *args, "--out", target).code == 0
        frames.append(pd.read_csv(target))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert not frames[0].equals(frames[2])


CONDITIONS = pd.DataFrame(
    {
        "colour": ["red", None, "blue", None, "green", "red", None, "blue"],
        "member": ["true", "false", None, None, "true", "false", "true", None],
    }
)


def _assert_rows_honour(frame: pd.DataFrame, conditions: pd.DataFrame) -> None:
    assert len(frame) == len(conditions)
    for i, row in conditions.iterrows():
        if pd.notna(row["colour"]):
            assert frame.loc[i, "colour"] == row["colour"], (i, frame.loc[i].to_dict())
        if pd.notna(row["member"]):
            wanted = row["member"] if isinstance(row["member"], bool) else row["member"] == "true"
            assert bool(frame.loc[i, "member"]) is wanted, (i, frame.loc[i].to_dict())


def test_sample_conditions_file_row_by_row(capsys, ctgan, tmp_path):
    conditions_file = tmp_path / "cond.csv"
    CONDITIONS.to_csv(conditions_file, index=False)  # None → an empty cell: that column is free
    target = tmp_path / "out.csv"
    result = cli(capsys, "sample", ctgan.model, "--conditions", conditions_file, "--out", target, "--json")
    assert result.code == 0, result
    summary = json.loads(result.out)
    assert summary["rows"] == len(CONDITIONS) and summary["out"] == str(target)
    assert summary["seconds"] >= 0
    _assert_rows_honour(read_output(target), CONDITIONS)


def test_sample_conditions_file_in_parquet_with_typed_values(capsys, ctgan, tmp_path):
    typed = CONDITIONS.assign(
        member=CONDITIONS["member"].map({"true": True, "false": False}).astype("boolean")
    )
    conditions_file = tmp_path / "cond.parquet"
    typed.to_parquet(conditions_file, index=False)
    target = tmp_path / "out.parquet"
    result = cli(capsys, "sample", ctgan.model, "--conditions", conditions_file, "--out", target)
    assert result.code == 0, result
    _assert_rows_honour(read_output(target), typed)


def test_sample_conditions_file_with_matching_rows_option(capsys, ctgan, tmp_path):
    conditions_file = tmp_path / "cond.jsonl"
    CONDITIONS.to_json(conditions_file, orient="records", lines=True)
    target = tmp_path / "out.csv"
    result = cli(
        capsys, "sample", ctgan.model, "--conditions", conditions_file, "--rows", len(CONDITIONS),
        "--out", target,
    )  # fmt: skip
    assert result.code == 0, result
    _assert_rows_honour(read_output(target), CONDITIONS)


def test_sample_json_without_conditions(capsys, ctgan, tmp_path):
    target = tmp_path / "plain.parquet"
    result = cli(capsys, "sample", ctgan.model, "--rows", 25, "--out", target, "--json")
    assert result.code == 0, result
    assert json.loads(result.out)["rows"] == 25
    assert len(read_output(target)) == 25


# ----------------------------------------------------------------------------------------------------------
# Conditions that cannot be met are clean user errors, and nothing is written


@pytest.mark.parametrize(
    ("condition", "needles"),
    [
        ("colour=purple", ["'colour'", "purple", "not one of the contract's categories"]),
        ("colour=", ["'colour'"]),
        ("age=200", ["'age'", "200", "outside the contract's range"]),
        ("income=5", ["'income'", "float", "cannot condition"]),
        ("start_date=2024-02-01", ["'start_date'", "datetime", "cannot condition"]),
        ("end_date=2024-02-01", ["'end_date'", "cannot condition"]),  # learned as a gap to start_date
        ("customer_id=3", ["'customer_id'", "identifier"]),
        ("email=a@b.com", ["'email'", "personal data"]),
        ("nosuch=1", ["unknown column", "'nosuch'"]),
        ("colour", ["--condition expects COLUMN=VALUE", "'colour'"]),
        ("=red", ["--condition expects COLUMN=VALUE"]),
    ],
)
def test_sample_bad_condition_is_a_clean_error(capsys, ctgan, tmp_path, condition, needles):
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--rows", 10, "--condition", condition, "--out", target)
    assert_clean_user_error(result, *needles)
    assert not target.exists()


@pytest.mark.parametrize(("condition", "kind"), [("age=abc", "integer"), ("member=maybe", "boolean")])
def test_sample_unreadable_condition_value_is_a_clean_error(capsys, ctgan, tmp_path, condition, kind):
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--rows", 10, "--condition", condition, "--out", target)
    assert_clean_user_error(result, condition.split("=")[0], f"cannot be read as {kind}")
    assert not target.exists()


def test_the_same_column_twice_with_different_values_is_an_error(capsys, ctgan, tmp_path):
    target = tmp_path / "x.csv"
    args = ["--condition", "colour=red", "--condition", "colour=blue", "--out", target]
    result = cli(capsys, "sample", ctgan.model, "--rows", 5, *args)
    assert_clean_user_error(result, "colour twice", "'red'", "'blue'")
    assert not target.exists()


def test_condition_values_are_stripped_like_data_files(capsys, ctgan, tmp_path):
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--rows", 5, "--condition", "colour= red ", "--out", target)
    assert result.code == 0, result
    assert (pd.read_csv(target)["colour"] == "red").all()


def test_condition_and_conditions_together_is_an_error(capsys, ctgan, tmp_path):
    conditions_file = tmp_path / "cond.csv"
    CONDITIONS.to_csv(conditions_file, index=False)
    target = tmp_path / "x.csv"
    result = cli(
        capsys, "sample", ctgan.model, "--condition", "colour=red", "--conditions", conditions_file,
        "--out", target,
    )  # fmt: skip
    assert_clean_user_error(result, "--condition", "--conditions", "not both")
    assert not target.exists()


def test_no_rows_and_no_conditions_file_is_an_error(capsys, ctgan, tmp_path):
    target = tmp_path / "x.csv"
    for extra in ([], ["--condition", "colour=red"]):
        result = cli(capsys, "sample", ctgan.model, *extra, "--out", target)
        assert_clean_user_error(result, "--rows is required")
        assert not target.exists()


def test_conditions_file_with_an_unknown_column_is_an_error(capsys, ctgan, tmp_path):
    conditions_file = tmp_path / "cond.csv"
    conditions_file.write_text("colour,shoe_size\nred,42\n,\n", encoding="utf-8")
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--conditions", conditions_file, "--out", target)
    assert_clean_user_error(result, "unknown column", "'shoe_size'")
    assert not target.exists()


def test_conditions_file_with_a_bad_value_names_the_column(capsys, ctgan, tmp_path):
    conditions_file = tmp_path / "cond.csv"
    conditions_file.write_text("colour,member\nred,true\npurple,\n", encoding="utf-8")
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--conditions", conditions_file, "--out", target)
    assert_clean_user_error(result, "'colour'", "purple")
    assert not target.exists()


def test_conditions_file_rows_must_match_rows_option(capsys, ctgan, tmp_path):
    conditions_file = tmp_path / "cond.csv"
    CONDITIONS.to_csv(conditions_file, index=False)
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--conditions", conditions_file, "--rows", 3, "--out", target)
    assert_clean_user_error(result, f"{len(CONDITIONS)} rows", "3 rows")
    assert not target.exists()


def test_missing_conditions_file_is_an_error(capsys, ctgan, tmp_path):
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", ctgan.model, "--conditions", tmp_path / "nope.csv", "--out", target)
    assert_clean_user_error(result, "not found", "nope.csv")
    assert not target.exists()


def test_a_generator_without_conditioning_refuses_conditions(capsys, bootstrap, tmp_path):
    conditions_file = tmp_path / "cond.csv"
    CONDITIONS.to_csv(conditions_file, index=False)
    target = tmp_path / "x.csv"
    for args in (["--rows", 10, "--condition", "colour=red"], ["--conditions", conditions_file]):
        result = cli(capsys, "sample", bootstrap, *args, "--out", target)
        assert_clean_user_error(result, "bootstrap", "does not support conditional sampling")
        assert not target.exists()
    # and without conditions it samples as before
    assert cli(capsys, "sample", bootstrap, "--rows", 10, "--out", target).code == 0
    assert len(read_output(target)) == 10


def test_copula_samples_conditions_from_the_cli(capsys, copula, tmp_path):
    """The copula conditions through SDV's own conditional sampling (one value, then per-row)."""
    target = tmp_path / "x.csv"
    result = cli(capsys, "sample", copula, "--rows", 12, "--condition", "colour=red", "--out", target)
    assert result.code == 0, result
    assert read_output(target)["colour"].tolist() == ["red"] * 12
    conditions_file = tmp_path / "cond.csv"
    CONDITIONS.to_csv(conditions_file, index=False)
    assert cli(capsys, "sample", copula, "--conditions", conditions_file, "--out", target).code == 0
    sampled = read_output(target)
    assert len(sampled) == len(CONDITIONS)
    given = CONDITIONS["colour"].notna()
    assert sampled["colour"][given].tolist() == CONDITIONS["colour"][given].tolist()


# ----------------------------------------------------------------------------------------------------------
# ProgressLog: sparse lines for logs, a bar only on a terminal


@pytest.fixture
def progress_records(caplog):
    caplog.set_level(logging.INFO, logger="synthwright.progress")

    def records() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "synthwright.progress"]

    return records


def test_progress_log_throttles_to_about_every_tenth(progress_records):
    progress = ProgressLog()
    progress(ProgressUpdate(0, 300, "training X"))
    for epoch in range(1, 301):
        progress(ProgressUpdate(epoch, 300, "training X", {"loss": 1.0 / epoch}))
    lines = progress_records()
    assert 10 <= len(lines) <= 13, lines
    assert lines[0] == "training X [0/300]"
    assert lines[-1].startswith("training X [300/300] loss=")
    logged = [int(line.split("[")[1].split("/")[0]) for line in lines]
    assert logged == [0, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300]
    assert "loss=0.003333" in lines[-1]  # metrics with 4 significant digits


def test_progress_log_always_logs_updates_without_metrics_or_total(progress_records):
    progress = ProgressLog()
    progress(ProgressUpdate(0, 300, "training X"))
    progress(ProgressUpdate(1, 300, "training X", {"loss": 2.0}))  # throttled
    progress(ProgressUpdate(2, 300, "time budget of 1 min reached after 2 epoch(s); stopping"))
    progress(ProgressUpdate(0, None, "encoding 6 columns of 120 rows"))
    progress(ProgressUpdate(5, None, "encoding 6 columns of 120 rows", {"seconds": 1.5}))
    lines = progress_records()
    assert lines == [
        "training X [0/300]",
        "time budget of 1 min reached after 2 epoch(s); stopping [2/300]",
        "encoding 6 columns of 120 rows [0]",
        "encoding 6 columns of 120 rows [5] seconds=1.5",
    ]


def test_progress_log_every_seconds_zero_logs_every_update(progress_records):
    progress = ProgressLog(every_seconds=0)
    for epoch in range(51):
        progress(ProgressUpdate(epoch, 50, "training X", {"loss": 1.0} if epoch else {}))
    assert len(progress_records()) == 51


def test_progress_log_logs_again_after_every_seconds(progress_records):
    """A slow run still logs now and then between tenths (here: every update is 'slow')."""
    progress = ProgressLog(every_seconds=1e-9)
    progress(ProgressUpdate(0, 1000, "training X"))
    progress(ProgressUpdate(1, 1000, "training X", {"loss": 1.0}))
    progress(ProgressUpdate(2, 1000, "training X", {"loss": 1.0}))
    assert len(progress_records()) == 3


def test_progress_log_uses_the_given_logger(caplog):
    caplog.set_level(logging.INFO, logger="synthwright.custom")
    ProgressLog(logging.getLogger("synthwright.custom"))(ProgressUpdate(1, 1, "done"))
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("synthwright.custom", "done [1/1]")]


def test_progress_display_logs_when_stderr_is_not_a_terminal(progress_records, capsys):
    with progress_display() as progress:  # pytest's captured stderr is not a terminal
        assert isinstance(progress, ProgressLog)
        progress(ProgressUpdate(0, 2, "training X"))
    assert progress_records() == ["training X [0/2]"]
    with progress_display(bar=False) as progress:
        assert isinstance(progress, ProgressLog)


def test_progress_display_bar_shows_the_last_state_on_stderr(capsys, progress_records):
    with progress_display(bar=True) as progress:
        assert not isinstance(progress, ProgressLog)
        progress(ProgressUpdate(0, 2, "training X"))
        progress(ProgressUpdate(1, 2, "training X", {"loss": 1.5}))
        progress(ProgressUpdate(2, 2, "training X", {"loss": 1.25}))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "training X" in captured.err and "2/2" in captured.err and "loss 1.250" in captured.err
    assert progress_records() == []  # the bar replaces the log lines
