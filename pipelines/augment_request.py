"""An augmentation request: what an ML team wants added to a real table, in one validated YAML file.

    dataset: adult-balanced          # the name the augmented version is published under
    source: {path: adult.csv}        # a file, a built-in table, or a published version (`version:`)
    target: income
    rebalance: {income: {">50K": 0.5}}   # or rows: 10000 | multiplier: 2 | conditions: [...]

Exactly one of `rows`, `multiplier`, `rebalance` and `conditions` says what to add. The request runs
through the pipeline's own steps (ingest, input contract, split, fit), so the same keys, cache and
gates apply; `pipeline_spec` is that translation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthwright.config_io import read_yaml_mapping, validate_model
from synthwright.data_contracts.model import RareValues
from synthwright.errors import ConfigError
from synthwright.limits import RowCount, Seed
from synthwright.pipelines.ingest import ReadOptions
from synthwright.pipelines.spec import (
    CacheSpec,
    GeneratorSpec,
    OutputSpec,
    PipelineSpec,
    SourceSpec,
    SplitSpec,
    assign_override,
    parse_override,
    resolve_paths,
)
from synthwright.pipelines.store import validate_dataset_name
from synthwright.validators.gates import AugmentGates

PATH_KEYS = ("source.path", "source.root", "contract", "output.root", "cache.root")
FORMS = ("rows", "multiplier", "rebalance", "conditions")


class AugmentSource(ReadOptions):
    """A file (`path`), a table shipped with the tool (`builtin`), or a published version
    (`version: DATASET@vN`, from the store at `root`, default the output root)."""

    path: Path | None = None
    builtin: str | None = None
    version: str | None = Field(default=None, description="DATASET@vN or DATASET@latest")
    root: Path | None = Field(default=None, description="the store holding `version`")

    @model_validator(mode="after")
    def _one_source(self) -> AugmentSource:
        given = [k for k in ("path", "builtin", "version") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of source.path, source.builtin or source.version")
        if self.root is not None and self.version is None:
            raise ValueError("source.root is the store of source.version; give version too")
        return self


class ConditionGroup(BaseModel):
    """`{income: ">50K", sex: Female, rows: 3000}`: 3,000 synthetic rows with those values."""

    model_config = ConfigDict(extra="allow", frozen=True)

    rows: RowCount

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @model_validator(mode="after")
    def _some_values(self) -> ConditionGroup:
        if not self.values:
            raise ValueError("a condition names at least one column and its value, besides rows")
        return self


class AugmentRequest(BaseModel):
    """Everything one augmentation needs; stored in the manifest of what it publishes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(description="the augmented dataset's name in the store")
    source: AugmentSource
    contract: Path | None = Field(default=None, description="contract file; omitted: inferred")
    target: str | None = Field(default=None, description="the column models predict (the lift's target)")
    rows: RowCount | None = Field(default=None, description="synthetic rows to add")
    multiplier: float | None = Field(
        default=None, gt=1, le=100, description="final rows = real rows × multiplier"
    )
    rebalance: dict[str, dict[str, float]] | None = Field(
        default=None, description="{column: {class: share}}: shares of the published table"
    )
    conditions: list[ConditionGroup] | None = None
    synthetic_column: str = Field(default="is_synthetic", min_length=1, description="marks synthetic rows")
    seed: Seed = 0
    split: SplitSpec = SplitSpec()
    generator: GeneratorSpec = GeneratorSpec()
    gates: AugmentGates = AugmentGates()
    rare_values: RareValues = Field(
        default_factory=RareValues, description="rare-value protection, as in a pipeline spec"
    )
    output: OutputSpec = OutputSpec()
    cache: CacheSpec = CacheSpec()

    @property
    def form(self) -> str:
        return next(f for f in FORMS if getattr(self, f) is not None)

    @field_validator("dataset")
    @classmethod
    def _dataset_name(cls, name: str) -> str:
        try:
            return validate_dataset_name(name)
        except ConfigError as exc:
            raise ValueError(f"{exc.message}; {exc.hint}") from None

    @model_validator(mode="after")
    def _one_form(self) -> AugmentRequest:
        given = [f for f in FORMS if getattr(self, f) is not None]
        if len(given) != 1:
            said = f"got {', '.join(given)}" if given else "got none"
            raise ValueError(f"give exactly one of rows, multiplier, rebalance or conditions ({said})")
        if self.rebalance is not None:
            if len(self.rebalance) != 1:
                raise ValueError("rebalance one column: {column: {class: share, …}}")
            column, shares = next(iter(self.rebalance.items()))
            if not shares:
                raise ValueError(f"rebalance.{column}: give at least one class and its share")
            bad = {k: v for k, v in shares.items() if not 0 < v < 1}
            if bad:
                raise ValueError(f"rebalance.{column}: shares must be between 0 and 1, got {bad}")
            if sum(shares.values()) > 1 + 1e-9:
                raise ValueError(f"rebalance.{column}: the shares add up to {sum(shares.values()):g} (> 1)")
        if self.conditions is not None and not self.conditions:
            raise ValueError("conditions: list at least one condition")
        return self

    def pipeline_spec(self, source_path: Path | None = None) -> PipelineSpec:
        """The pipeline spec whose ingest, split and fit steps this request runs.

        `source_path` replaces the source when it is a published version (resolved by the run into
        its Parquet file; the contract stored in its manifest is passed to ingest as an object)."""
        options = self.source.model_dump(exclude={"path", "builtin", "version", "root"})
        if self.source.version is not None:
            source = SourceSpec(**options, path=source_path)
        else:
            source = SourceSpec(**options, path=self.source.path, builtin=self.source.builtin)
        return PipelineSpec(
            dataset=self.dataset,
            source=source,
            contract=self.contract,
            target=self.target,
            seed=self.seed,
            split=self.split,
            generator=self.generator,
            gates=self.gates.pipeline_gates,
            rare_values=self.rare_values,
            output=self.output,
            cache=self.cache,
        )


def load_request(path: Path | str | None, overrides: list[str] | tuple[str, ...] = ()) -> AugmentRequest:
    """Read a request file (or start from nothing), apply `--set KEY=VALUE` overrides, validate.

    Relative paths in the file are read from the file's folder; those given with --set from the
    current folder. An override of one form (`rows`, …) replaces the file's form."""
    data: dict[str, Any] = {}
    label = "augmentation request (command-line flags)"
    if path is not None:
        path = Path(path)
        data = read_yaml_mapping(path, "augmentation request")
        resolve_paths(data, path.resolve().parent, PATH_KEYS)
        label = str(path)
    for override in overrides:
        key, value = parse_override(override)
        if key in FORMS:
            for form in FORMS:
                data.pop(form, None)
        assign_override(data, key, value)
        if key in PATH_KEYS and isinstance(value, str):
            assign_override(data, key, str(Path(value).expanduser().resolve()))
    return validate_model(
        AugmentRequest, data, label, hint="see README.md, 'Augmentation requests', for every key"
    )
