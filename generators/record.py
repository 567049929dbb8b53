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
from synthwright.files import file_sha256, within

SAVE_FORMAT = 1
MODEL_RECORD_FILE = "generator.json"
REFIT_HINT = "re-fit the model, or restore the folder from where it was saved"


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
        if not within(path, folder):
            raise ConfigError(
                f"{path} is a link that leads outside the model folder; it is not read",
                hint=REFIT_HINT,
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise ConfigError(f"{path} is damaged: {exc}", hint=REFIT_HINT) from exc
        if isinstance(data, dict) and data.get("format") != SAVE_FORMAT:
            raise ConfigError(
                f"{folder} was saved in format {data.get('format')}; this version reads {SAVE_FORMAT}",
                hint="re-fit the model with this version of synthwright",
            )
        return validate_model(
            cls,
            data,
            f"{path} is damaged",
            hint=REFIT_HINT,
        )

    def write(self, folder: Path, *, pickled: bool) -> None:
        """Write the record into `folder`; only a `pickled` model's record has a signature field."""
        fields = self.model_dump(mode="json", exclude=None if pickled else {"signature"})
        (folder / MODEL_RECORD_FILE).write_text(json.dumps(fields, indent=2))

    @property
    def signed_fields(self) -> dict[str, Any]:
        """What a pickled model's signature covers: every field but the signature (seed, config, plan and
        file checksums included), as the JSON file holds them, so the same record signs the same."""
        fields = self.model_dump(mode="json", exclude={"signature"})
        return json.loads(json.dumps(fields))

    def refuse_foreign_paths(self, folder: Path) -> None:
        """A checksum map naming a path outside the folder (`../x`, `/etc/passwd`) is refused before any
        file is read: a model folder is read only inside itself."""
        for name in self.sha256:
            if not _inside_name(name):
                raise ConfigError(
                    f"{folder / MODEL_RECORD_FILE} lists {name!r} among the model's files, a path outside "
                    "the model folder; none of its files is read",
                    hint=REFIT_HINT,
                )
        if "contract.json" not in self.sha256:
            raise ConfigError(
                f"{folder / MODEL_RECORD_FILE} is damaged: its checksums leave out contract.json",
                hint=REFIT_HINT,
            )

    def verify_files(self, folder: Path) -> None:
        """Each listed file lies in the folder (no link out of it) and has the sha256 recorded at save."""
        for name, expected in self.sha256.items():
            path = folder / name
            if not within(path, folder):
                raise ConfigError(
                    f"{path} is a link that leads outside the model folder; it is not read",
                    hint=REFIT_HINT,
                )
            if not path.is_file() or file_sha256(path) != expected:
                raise ConfigError(
                    f"{path} is missing or changed since the model was saved (sha256 mismatch)",
                    hint=REFIT_HINT,
                )


def _inside_name(name: str) -> bool:
    """A relative path below the folder: no root, no `..`, no empty or `.` part, no backslash."""
    return "\\" not in name and all(part not in ("", ".", "..") for part in name.split("/"))
