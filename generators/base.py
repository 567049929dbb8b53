"""The contract every generator keeps (sklearn's rules, one level of inheritance).

A subclass declares `name`, `Config` (pydantic, extra="forbid") and implements `_fit`, `_sample`,
`_save` and `_load` over *model columns* only (see synthwright.generators.columns). The base class does
the rest, once for every generator: config validation, input normalisation, identifiers and personal
data, cross-column rules, seeding, output conformance, and a checksummed save folder whose metadata is
one typed record (synthwright.generators.record.ModelRecord).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from synthwright import __version__, trust
from synthwright.config_io import validation_message
from synthwright.data_contracts.conform import conform, empty_frame
from synthwright.data_contracts.dtypes import parse_frame
from synthwright.data_contracts.io import contract_from_dict, contract_to_dict
from synthwright.data_contracts.model import ColumnKind, Contract, RareValues
from synthwright.data_contracts.sdv_metadata import modelled
from synthwright.errors import ConfigError, GeneratorError, NotFittedError, UserInputError
from synthwright.files import file_sha256, fsync_tree
from synthwright.generators.columns import ColumnPlan
from synthwright.generators.conditions import broken_conditions, condition_table
from synthwright.generators.rare import refuse_rare_conditions
from synthwright.generators.record import MODEL_RECORD_FILE, SAVE_FORMAT, ModelRecord
from synthwright.limits import check_sample_memory, check_seed


@dataclass(frozen=True)
class ProgressUpdate:
    """A step of long work: `done` of `total` units (None when unknown), with optional metrics."""

    done: int
    total: int | None
    message: str
    metrics: dict[str, float] = field(default_factory=dict)


Progress = Callable[[ProgressUpdate], None]


class Generator(ABC):
    """Base class of all generators. The constructor validates `config` into the typed `Config` (a wrong
    key fails at once, before any data is read) and stores it with the seed and the device; it acts on
    nothing (no torch import, no device probe, no data): that waits for `fit`."""

    name: ClassVar[str]
    Config: ClassVar[type[BaseModel]]
    summary: ClassVar[str]
    wraps: ClassVar[str | None] = None
    """The library model this generator delegates to, if it is only a wrapper (said in listings)."""
    builds_on: ClassVar[str | None] = None
    """Library parts used by a generator that is more than a wrapper (said in listings)."""
    libraries: ClassVar[tuple[str, ...]] = ()
    """Distributions whose versions are recorded on save (a model may not load under others)."""
    supports_conditions: ClassVar[bool] = False
    """Whether `sample(conditions=...)` works (the subclass implements `_sample_conditioned`)."""
    benefits_from_gpu: ClassVar[bool] = False
    """Whether fitting runs on torch and gains from CUDA (deployments route such fits to a GPU pool)."""
    writes_text: ClassVar[bool] = False
    """Whether the model writes free text (`text` columns) as text; the others refuse a text column
    rather than learn its values as labels, which would publish them verbatim."""
    saves_pickle: ClassVar[bool] = False
    """Whether the saved model is a pickle: loading it runs code, so it must be signed here or trusted
    (synthwright.trust)."""

    def __init__(
        self, config: BaseModel | Mapping[str, Any] | None = None, *, seed: int = 0, device: str = "auto"
    ):
        self.config = self.parse_config(config)
        self.seed = check_seed(seed, f"{self.name} seed")
        self.device = device

    @classmethod
    def config_defaults(cls) -> dict[str, Any]:
        """Every knob with the value it takes when not given (a preset may fill some)."""
        return cls.Config.model_validate({}).model_dump(mode="json")

    @classmethod
    def parse_config(cls, config: BaseModel | Mapping[str, Any] | None) -> BaseModel:
        if isinstance(config, cls.Config):
            return config
        try:
            return cls.Config.model_validate(dict(config or {}))
        except ValidationError as exc:
            knobs = ", ".join(f"{k} (default {v!r})" for k, v in cls.config_defaults().items())
            raise ConfigError(
                validation_message(exc, f"{cls.name} generator config"),
                hint=f"valid keys: {knobs or 'none'}",
            ) from exc

    def training_summary(self) -> dict[str, Any] | None:
        """How a trained model's fit went, without its per-epoch losses: the epochs asked for, planned
        by the time budget and completed. The completed epochs decide the weights: pinning `epochs`
        to them (budget off) reproduces the model; null for models that train no epochs."""
        training = getattr(self, "training_", None)
        if not isinstance(training, dict):
            return None
        return {key: value for key, value in training.items() if key != "losses"}

    def device_used(self) -> str:
        """The device `device` resolves to here: `cpu` for generators that do not use torch."""
        if not self.benefits_from_gpu:
            return "cpu"
        from synthwright.generators.neural.device import resolve_device

        return str(resolve_device(self.device))

    # ---- the public contract -------------------------------------------------------------------

    def fit(
        self,
        data: pd.DataFrame,
        contract: Contract,
        *,
        progress: Progress | None = None,
        rare_values: RareValues | None = None,
        other_real: pd.DataFrame | None = None,
    ) -> Self:
        """Learn from `data` (any dtypes that parse as the contract says). `rare_values` is the default
        rare-value protection (a column's own `rare` entry wins); None means `RareValues()`.
        `other_real`: real rows of the same source not learned from (the pipeline's holdout): no fake of
        a personal-data column may equal one of their values either."""
        data = normalise_input(data, contract)
        self._refuse_free_text(contract, data)
        if len(data) < 2:
            raise UserInputError(
                f"the {self.name} generator needs at least 2 training rows, got {len(data)}",
                hint="give it more data (check the source and the holdout fraction)",
            )
        plan = ColumnPlan.fit(
            contract,
            data,
            rare_values=rare_values or RareValues(),
            writes_text=self.writes_text,
            seed=self.seed,
            other_real=other_real,
        )
        self.n_fitted_rows_ = len(data)  # `_fit` lowers it when it learns from a sample (the copula)
        with seeded(self.seed):
            self._fit(plan.encode(data), plan.model_contract, progress or _silent)
        self.contract_ = contract
        self.plan_ = plan
        self.n_training_rows_ = len(data)
        return self

    def _refuse_free_text(self, contract: Contract, data: pd.DataFrame) -> None:
        """A text column with values, for a generator that would learn them as labels: refuse."""
        if self.writes_text:
            return
        text = [
            c.name
            for c in contract.columns
            if c.kind is ColumnKind.TEXT and modelled(c) and data[c.name].notna().any()
        ]
        if text:
            raise ConfigError(
                f"column {text[0]!r} is free text, and the {self.name} generator would learn its values "
                "as labels and publish them verbatim"
                + (f" (also: {', '.join(map(repr, text[1:]))})" if len(text) > 1 else ""),
                hint="drop the column from the contract and the data, mark it as personal data "
                "(pii: name, email, …: it is then replaced by fakes), declare it categorical if its "
                "values are labels, or use the llm generator, which writes new text",
            )

    def sample(self, n: int, *, conditions: Any = None, seed: int | None = None) -> pd.DataFrame:
        """`n` rows that conform to the contract; the same seed gives the same rows."""
        self._require_fitted()
        if conditions is not None and not self.supports_conditions:
            raise ConfigError(
                f"the {self.name} generator does not support conditional sampling",
                hint="use a generator that does (`synthwright generators` lists them)",
            )
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise UserInputError(f"the number of rows to sample must be a whole number ≥ 0, got {n!r}")
        seed = self.seed if seed is None else check_seed(seed, "the sample's seed")
        check_sample_memory(int(n), [c.kind.value for c in self.contract_.columns], f"sampling {self.name}")
        table = None
        if conditions is not None:
            derived = {gap.right for gap in self.plan_.gaps}
            table = condition_table(conditions, int(n), self.contract_, derived)
            refuse_rare_conditions(table, self.plan_)
        if n == 0:
            return empty_frame(self.contract_)
        with seeded(seed):
            if table is None:
                rows = self._sample(int(n), seed)
            else:
                rows = self._sample_conditioned(int(n), seed, table)
        if len(rows) != n:
            raise GeneratorError(f"the {self.name} generator returned {len(rows)} rows, {n} were asked for")
        frame, problems = conform(self.plan_.decode(rows, seed, table), self.contract_)
        if table is not None and not problems:
            problems = broken_conditions(frame, table)
        if problems:
            raise GeneratorError(
                f"the {self.name} generator produced output that breaks its contract: " + "; ".join(problems),
                hint="this is a bug; please report it with the contract and the seed",
            )
        return frame

    def save(self, path: Path | str) -> None:
        """Write the fitted model to folder `path` (replaced atomically if it holds a model already)."""
        self._require_fitted()
        target = Path(path)
        if target.exists() and not (target / MODEL_RECORD_FILE).exists() and any(target.iterdir()):
            raise ConfigError(
                f"{target} exists and is not a synthwright model folder; refusing to write into it",
                hint="choose a new or empty folder",
            )
        if target.exists() and not target.is_dir():
            raise ConfigError(f"{target} is a file; a model is saved as a folder", hint="choose a new folder")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        except OSError as exc:
            raise ConfigError(
                f"cannot create the model folder {target}: {exc.strerror}",
                hint="choose a folder you can write to (--out)",
            ) from exc
        try:
            (staging / "contract.json").write_text(json.dumps(contract_to_dict(self.contract_), indent=2))
            files = ["contract.json", *self._save(staging)]
            record = ModelRecord(
                format=SAVE_FORMAT,
                generator=self.name,
                config=self.config.model_dump(mode="json"),
                seed=self.seed,
                n_training_rows=self.n_training_rows_,
                n_fitted_rows=self.n_fitted_rows_,
                plan=self.plan_.model_dump(mode="json", exclude={"contract"}),
                versions={"synthwright": __version__, **_versions(self.libraries)},
                device=self.device_used(),
                training=self.training_summary(),
                sha256={name: file_sha256(staging / name) for name in files},
            )
            if self.saves_pickle:
                record = record.model_copy(update={"signature": trust.signature(record.signed_fields)})
            record.write(staging, pickled=self.saves_pickle)
            _replace_folder(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    @classmethod
    def load(cls, path: Path | str, *, trust_pickle: bool = False) -> Generator:
        """Load a saved model; every file is checked against the sha256 recorded at save. A pickled
        model must also carry this installation's signature, unless `trust_pickle` (the caller vouches
        for the folder: the pipeline's own cache, or a user's explicit --trust-model)."""
        from synthwright.generators.registry import generator_class

        folder = Path(path)
        record = ModelRecord.read(folder)
        record.refuse_foreign_paths(folder)  # before the signature: no listed path is read until then
        name = record.generator
        klass = generator_class(name)
        if cls is not Generator and klass is not cls:
            raise ConfigError(f"{folder} holds a {name!r} model, not a {cls.name!r} one")
        if klass.saves_pickle and not trust_pickle:
            _verify_signature(folder, record)
        record.verify_files(folder)
        contract = contract_from_dict(
            json.loads((folder / "contract.json").read_text()), str(folder / "contract.json")
        )
        model = klass(record.config, seed=record.seed)
        model.contract_ = contract
        model.plan_ = ColumnPlan.model_validate({**record.plan, "contract": contract})
        model.n_training_rows_ = record.n_training_rows
        model.n_fitted_rows_ = record.n_fitted_rows
        model._load(folder, model.plan_.model_contract)
        return model

    # ---- what a subclass implements --------------------------------------------------------------

    @abstractmethod
    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        """Learn from model columns; `contract` describes exactly those columns."""

    @abstractmethod
    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        """Return exactly `n` rows of model columns."""

    def _sample_conditioned(self, n: int, seed: int, conditions: pd.DataFrame) -> pd.DataFrame:
        """Return `n` rows of model columns keeping the per-row `conditions` (null cells are free)."""
        raise NotImplementedError

    @abstractmethod
    def _save(self, folder: Path) -> list[str]:
        """Write learned state into `folder`; return the file names written."""

    @abstractmethod
    def _load(self, folder: Path, contract: Contract) -> None:
        """Restore learned state written by `_save`."""

    # ---- helpers -----------------------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "contract_")

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"this {self.name} generator is not fitted yet", hint="call fit(data, contract) first"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r}, seed={self.seed})"


def _verify_signature(folder: Path, record: ModelRecord) -> None:
    """A pickled model loads only with this installation's signature of its whole generator.json (seed,
    config and checksums included), checked before any file it lists is read."""
    if trust.verify(record.signed_fields, record.signature):
        return
    path, name = folder / MODEL_RECORD_FILE, record.generator
    if record.signature is None:
        problem = f"{path} is unsigned: this installation did not save the pickled {name} model in {folder}"
    else:
        problem = (
            f"{path} does not match its signature: this installation did not save the pickled {name} "
            f"model in {folder} as it is (its seed, config or checksums were edited, or a key other "
            f"than {trust.key_path()} signed it)"
        )
    raise ConfigError(
        f"{problem}; unpickling a file runs code from it, so it is not loaded",
        hint="re-fit the model here with `synthwright fit`, restore generator.json from where it was "
        "saved, or pass --trust-model if you trust where the folder came from",
    )


def normalise_input(data: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """Parse `data` to the contract's dtypes; a column that does not fit is a clear error."""
    if not isinstance(data, pd.DataFrame):
        raise UserInputError(f"training data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [n for n in contract.names if n not in data.columns]
    extra = [n for n in data.columns if n not in contract.names]
    if missing or extra:
        raise UserInputError(
            f"training data does not match the contract: missing {missing}, unexpected {extra}"
        )
    frame, parsed = parse_frame(data, contract)
    for column in contract.columns:
        if parsed[column.name].bad_count:
            raise UserInputError(
                f"training column {column.name!r}: {parsed[column.name].bad_count} value(s) "
                f"cannot be read as {column.kind}"
            )
    return frame


_GLOBAL_GENERATORS = threading.RLock()


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed Python's, NumPy's and (if loaded) torch's global generators; restore them afterwards.

    Libraries we wrap draw from these global generators, so this is what makes a seed reproducible.
    They are global to the process, so seeded work holds a lock: two fits in threads of one process
    (a tournament on Prefect's thread pool) take turns instead of drawing from each other's stream.
    """
    with _GLOBAL_GENERATORS:
        python_state, numpy_state = random.getstate(), np.random.get_state()
        torch = sys.modules.get("torch")
        torch_state = torch.random.get_rng_state() if torch is not None else None
        random.seed(seed)
        np.random.seed(seed % 2**32)
        if torch is not None:
            torch.manual_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)
            if torch is not None and torch_state is not None:
                torch.random.set_rng_state(torch_state)


def with_preset(values: Any, presets: Mapping[str, Mapping[str, Any]]) -> Any:
    """A config's raw values with its preset's knobs filled in where not given (before validation).

    An unknown preset fills the default's knobs, so that the preset's own check alone reports it."""
    if not isinstance(values, dict):
        return values
    preset = values.get("preset", "default")
    return {**presets.get(preset, presets["default"]), **values}


def _silent(update: ProgressUpdate) -> None:
    return None


def _versions(distributions: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for name in distributions:
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def _replace_folder(staging: Path, target: Path) -> None:
    """Move `staging` to `target`; an existing model folder is swapped out, then removed."""
    fsync_tree(staging)
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(staging, target)


DEVICES = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def parse_device(device: str) -> str:
    """`auto`, `cpu`, `cuda` or `cuda:N`; anything else is a typo to report, not a setting to ignore."""
    if not DEVICES.fullmatch(device):
        raise ConfigError(f"unknown device {device!r}", hint="use auto, cpu, cuda or cuda:N (e.g. cuda:1)")
    return device
