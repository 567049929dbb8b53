"""The pipeline spec: one YAML file that says what to synthesise, how, and what must hold to publish.

Relative paths in a spec file are read from the spec file's folder (so a spec runs from anywhere);
relative paths given with `--set` are read from the current folder (where the user typed them).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from synthwright.config_io import read_yaml_mapping, validate_model
from synthwright.data_contracts.model import RareValues
from synthwright.errors import ConfigError
from synthwright.generators.registry import DEFAULT_GENERATOR
from synthwright.limits import RowCount, Seed
from synthwright.pipelines.ingest import ReadOptions
from synthwright.pipelines.store import validate_dataset_name
from synthwright.validators.gates import Gates

PATH_KEYS = ("source.path", "contract", "output.root", "cache.root")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class SourceSpec(ReadOptions):
    """Where the real data comes from: a file (`path`) or a table shipped with the tool (`builtin`)."""

    path: Path | None = None
    builtin: str | None = Field(default=None, description="e.g. student_placements (from sdmetrics' demos)")

    @model_validator(mode="after")
    def _one_source(self) -> SourceSpec:
        if (self.path is None) == (self.builtin is None):
            raise ValueError("give exactly one of source.path or source.builtin")
        return self

    @property
    def label(self) -> str:
        return f"builtin:{self.builtin}" if self.builtin else str(self.path)


class SplitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout: float = Field(default=0.2, gt=0, lt=1, description="share of real rows kept out of training")
    stratify: bool = Field(default=True, description="keep the target's class shares in both parts")


class GeneratorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(
        default=DEFAULT_GENERATOR,
        description="default: our diffusion model, its training sized to a few minutes (see README)",
    )
    config: dict[str, Any] = {}
    device: str = Field(
        default="auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$", description="auto, cpu, cuda or cuda:N"
    )
    label: str | None = Field(
        default=None, description="the contender's name in a tournament; default: the generator's name"
    )

    @property
    def title(self) -> str:
        return self.label or self.name

    @field_validator("label")
    @classmethod
    def _label(cls, label: str | None) -> str | None:
        if label is not None and not _LABEL.fullmatch(label):
            raise ValueError("use letters, digits, '.', '_' and '-' (it names a folder)")
        return label


class CacheSpec(BaseModel):
    """Fitted models and step results reused across runs, keyed by everything that shapes them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="reuse unchanged steps from earlier runs")
    root: Path | None = Field(
        default=None,
        description="where cached steps live (they hold real rows: keep it private); "
        "default: $SYNTHWRIGHT_CACHE_DIR, else ~/.cache/synthwright",
    )


class RunnerSpec(BaseModel):
    """How a tournament's contenders run at once: Prefect's thread pool, or a local Dask cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["threads", "dask"] = "threads"
    workers: int | None = Field(default=None, ge=1, description="threads or Dask worker processes")


class ScheduleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cron: str | None = Field(default=None, description="when `serve`/`deploy` run it, e.g. '0 3 * * *'")
    timezone: str = "UTC"


class SampleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: RowCount | None = Field(default=None, description="rows to publish; default: as many as trained on")


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    root: Path = Path("outputs")


class PipelineSpec(BaseModel):
    """Everything one run needs; stored in the manifest of what it publishes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    _file: Path | None = PrivateAttr(default=None)
    """The spec file it was read from (errors found later name it); not part of the spec's content."""

    dataset: str
    source: SourceSpec
    contract: Path | None = Field(default=None, description="contract file; omitted: inferred from the data")
    target: str | None = Field(
        default=None,
        description="the column a model would predict: stratifies the split; the utility test's target",
    )
    task: Literal["classification", "regression"] | None = Field(
        default=None, description="utility task; default: from the target's kind"
    )
    seed: Seed = 0
    split: SplitSpec = SplitSpec()
    generator: GeneratorSpec = GeneratorSpec()
    generators: list[GeneratorSpec] | None = Field(
        default=None, description="a tournament: fit each, publish the best that passes every gate"
    )
    sample: SampleSpec = SampleSpec()
    gates: Gates = Gates()
    rare_values: RareValues = Field(
        default_factory=RareValues,
        description="rare-value protection for columns whose contract entry has no `rare` of its own",
    )
    approval: Literal["none", "required"] = Field(
        default="none", description="required: pause before publishing until a person approves"
    )
    approval_timeout_minutes: float = Field(default=24 * 60, gt=0)
    output: OutputSpec = OutputSpec()
    cache: CacheSpec = CacheSpec()
    runner: RunnerSpec = RunnerSpec()
    schedule: ScheduleSpec = ScheduleSpec()

    @property
    def spec_file(self) -> Path | None:
        return self._file

    @property
    def contenders(self) -> list[GeneratorSpec]:
        """The generators this run fits: the tournament's list, or the one generator."""
        return list(self.generators) if self.generators else [self.generator]

    @property
    def is_tournament(self) -> bool:
        return self.generators is not None and len(self.generators) > 1

    @model_validator(mode="after")
    def _one_generator_section(self) -> PipelineSpec:
        if self.generators is not None:
            if "generator" in self.model_fields_set:
                raise ValueError("give either generator (one) or generators (a tournament), not both")
            if not self.generators:
                raise ValueError("generators: list at least one generator")
            titles = [g.title for g in self.generators]
            repeated = sorted({t for t in titles if titles.count(t) > 1})
            if repeated:
                raise ValueError(
                    f"generators: two contenders are named {', '.join(repeated)}; give each a distinct label"
                )
        return self

    @field_validator("dataset")
    @classmethod
    def _dataset_name(cls, name: str) -> str:
        try:
            return validate_dataset_name(name)
        except ConfigError as exc:
            raise ValueError(f"{exc.message}; {exc.hint}") from None


def load_spec(path: Path | str, overrides: list[str] | tuple[str, ...] = ()) -> PipelineSpec:
    """Read a spec file, apply `--set KEY=VALUE` overrides, validate."""
    path = Path(path)
    data = read_yaml_mapping(path, "pipeline spec")
    resolve_paths(data, path.resolve().parent, PATH_KEYS)
    for override in overrides:
        key, value = parse_override(override)
        if key == "generators":  # `--set generators=[...]` makes a one-generator spec a tournament
            data.pop("generator", None)
        assign_override(data, key, value)
        if key in PATH_KEYS and isinstance(value, str):
            assign_override(data, key, str(Path(value).expanduser().resolve()))
    spec = validate_model(
        PipelineSpec, data, str(path), hint="see README.md, 'The pipeline spec format', for every key"
    )
    spec._file = path
    return spec


def parse_override(text: str, option: str = "--set") -> tuple[str, Any]:
    """`a.b=3` → ("a.b", 3); the value is read as YAML, so numbers, booleans and lists work."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        example = "--set seed=3 --set output.root=/tmp/out" if option == "--set" else f"{option} name=value"
        raise ConfigError(f"{option} expects KEY=VALUE, got {text!r}", hint=f"e.g. {example}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def assign_override(data: dict[str, Any], dotted: str, value: Any) -> None:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(
                f"--set {dotted}: {part!r} is a value, not a section",
                hint=f"set {part!r} itself: --set {'.'.join(parts[: parts.index(part) + 1])}=VALUE",
            )
        node = child
    node[parts[-1]] = value


def resolve_paths(data: dict[str, Any], base: Path, keys: tuple[str, ...]) -> None:
    """Relative paths at the dotted `keys` of `data`, made absolute from `base`."""
    for dotted in keys:
        node: Any = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(parts[-1]), str):
            node[parts[-1]] = str((base / Path(node[parts[-1]]).expanduser()).resolve())
