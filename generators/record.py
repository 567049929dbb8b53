"""A saved model's metadata, `generator.json`: one typed record, written by `Generator.save` and read
by `Generator.load` and by whoever needs to know about a saved model (the pipeline's manifest, the
run's step log) without loading its weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

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
    sha256: dict[str, str]
    signature: str | None = None
    """Only for models saved as pickles (synthwright.trust); absent from the file otherwise."""
    signed: bool = False
    """Whether the record carries a `signature` field at all (a pickled model), even a null one."""

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {**data, "signed": "signature" in data}
            data.setdefault("n_fitted_rows", data.get("n_training_rows"))
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
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(f"{path} is damaged: {exc.errors()[0]['msg']}") from exc

    def write(self, folder: Path) -> None:
        fields = self.model_dump(mode="json", exclude={"signed"})
        if not self.signed:
            fields.pop("signature")
        (folder / MODEL_RECORD_FILE).write_text(json.dumps(fields, indent=2))

    @property
    def signed_fields(self) -> dict[str, Any]:
        """What a pickled model's signature covers: its generator, format and file checksums."""
        return {"format": self.format, "generator": self.generator, "sha256": self.sha256}
