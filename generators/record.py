"""A saved model's metadata, `generator.json`: one typed record, written by `Generator.save` and read
by `Generator.load` and by whoever needs to know about a saved model (the pipeline's manifest, the
run's step log) without loading its weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from synthwright.config_io import validate_model
from synthwright.errors import ConfigError

SAVE_FORMAT = 1
MODEL_RECORD_FILE = "generator.json"


class ModelRecord(BaseModel):
    """What a model folder says about itself; `sha256` covers every other file in the folder."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    format: int
    generator: str
    config: dict[str, Any]
    seed: int
    n_training_rows: int
    n_fitted_rows: int
    """Rows the model learned from: fewer than `n_training_rows` when it fits a seeded sample."""
    plan: dict[str, Any]
    """The column plan (synthwright.generators.columns), without its contract (contract.json)."""
    versions: dict[str, str]
    device: str = "cpu"
    training: dict[str, Any] | None = None
    """Epochs asked for, planned by the time budget and completed (torch models; see Generator)."""
    sha256: dict[str, str]
    signature: str | None = None
    """This installation's signature of a model saved as a pickle (synthwright.trust); null when the
    key could not be written, absent from the file for models that hold no pickle."""

    @model_validator(mode="before")
    @classmethod
    def _fitted_on_every_row(cls, data: Any) -> Any:
        """Records saved before `n_fitted_rows` existed: the model learned from every training row."""
        if isinstance(data, dict) and "n_fitted_rows" not in data:
            data = {**data, "n_fitted_rows": data.get("n_training_rows")}
        return data

    @classmethod
    def read(cls, folder: Path | str) -> Self:
        """The record of a model folder; a missing, damaged or foreign-format one is a clear error."""
        folder = Path(folder)
        path = folder / MODEL_RECORD_FILE
        if not path.is_file():
            raise ConfigError(
                f"{folder} is not a synthwright model folder (no {MODEL_RECORD_FILE})",
                hint="point at the folder written by `synthwright fit --out`",
            )
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} is damaged: {exc}") from exc
        if isinstance(data, dict) and data.get("format") != SAVE_FORMAT:
            raise ConfigError(
                f"{folder} was saved in format {data.get('format')}; this version reads {SAVE_FORMAT}"
            )
        return validate_model(
            cls,
            data,
            f"{path} is damaged",
            hint="re-fit the model, or restore the folder from where it was saved",
        )

    def write(self, folder: Path, *, pickled: bool) -> None:
        """Write the record into `folder`; only a `pickled` model's record has a signature field."""
        fields = self.model_dump(mode="json", exclude=None if pickled else {"signature"})
        (folder / MODEL_RECORD_FILE).write_text(json.dumps(fields, indent=2))

    @property
    def signed_fields(self) -> dict[str, Any]:
        """What a pickled model's signature covers: its generator, format and file checksums."""
        return {"format": self.format, "generator": self.generator, "sha256": self.sha256}
