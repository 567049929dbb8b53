"""A saved model's metadata (`generator.json`) as one typed record: written by `save`, read by `load`
and by the pipeline, with clear errors for a folder that is not a model or a record that is damaged."""

from __future__ import annotations

import json

import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.errors import ConfigError
from synthwright.generators.record import MODEL_RECORD_FILE, SAVE_FORMAT, ModelRecord
from synthwright.generators.registry import create_generator


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "bootstrap"
    create_generator("bootstrap", seed=5).fit(make_mixed_frame(40), mixed_contract()).save(folder)
    return folder


def test_the_record_of_a_saved_model_says_what_it_is(saved):
    record = ModelRecord.read(saved)
    assert (record.format, record.generator, record.seed) == (SAVE_FORMAT, "bootstrap", 5)
    assert record.n_training_rows == record.n_fitted_rows == 40
    assert record.device == "cpu" and "synthwright" in record.versions
    assert sorted(record.sha256) == sorted(p.name for p in saved.iterdir() if p.name != MODEL_RECORD_FILE)
    assert "signature" not in json.loads((saved / MODEL_RECORD_FILE).read_text())  # no pickle, no signature


def test_write_and_read_round_trip_and_only_a_pickled_model_has_a_signature_field(saved, tmp_path):
    record = ModelRecord.read(saved)
    for pickled in (False, True):
        record.write(tmp_path, pickled=pickled)
        assert ("signature" in json.loads((tmp_path / MODEL_RECORD_FILE).read_text())) is pickled
        assert ModelRecord.read(tmp_path) == record


def test_a_record_from_before_fitted_rows_were_recorded_reads_as_every_row(saved, tmp_path):
    fields = json.loads((saved / MODEL_RECORD_FILE).read_text())
    del fields["n_fitted_rows"]
    (tmp_path / MODEL_RECORD_FILE).write_text(json.dumps(fields))
    assert ModelRecord.read(tmp_path).n_fitted_rows == fields["n_training_rows"]


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda fields: "{not json", "is damaged"),
        (lambda fields: json.dumps({k: v for k, v in fields.items() if k != "sha256"}), "is damaged"),
        (lambda fields: json.dumps({**fields, "format": 99}), "saved in format 99"),
    ],
)
def test_a_damaged_or_foreign_record_is_a_clear_error(saved, tmp_path, damage, message):
    fields = json.loads((saved / MODEL_RECORD_FILE).read_text())
    (tmp_path / MODEL_RECORD_FILE).write_text(damage(fields))
    with pytest.raises(ConfigError, match=message) as info:
        ModelRecord.read(tmp_path)
    assert str(tmp_path) in info.value.message


def test_a_folder_without_a_record_is_not_a_model(tmp_path):
    with pytest.raises(ConfigError, match="not a synthwright model folder") as info:
        ModelRecord.read(tmp_path)
    assert "synthwright fit --out" in info.value.hint
