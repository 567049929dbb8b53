"""Cache keys: one per step, a hash of everything that shapes that step's output and nothing else.

    ingest   ← code version, source bytes (sha256), read options, the contract (its fingerprint), dataset
    split    ← ingest key, holdout share, stratification, target, seed
    fit      ← split key, generator name + config + device, seed, rare-value protection
    sample   ← fit key, rows, seed
    evaluate ← sample key, split key, gates, rare-value protection, target, task, seed

Each key folds in the one before it, so a change anywhere invalidates exactly the steps downstream of
it: new gates re-evaluate but reuse the fitted model; a new seed refits. The code version (package
version plus git commit) is in every key: new code never reuses old results.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthwright import code_version
from synthwright.data_contracts.io import contract_fingerprint
from synthwright.data_contracts.model import Contract
from synthwright.files import file_sha256
from synthwright.pipelines.ingest import builtin_path
from synthwright.pipelines.spec import CacheSpec, GeneratorSpec, PipelineSpec

CACHE_DIR_ENV = "SYNTHWRIGHT_CACHE_DIR"


def cache_root(spec: PipelineSpec | CacheSpec) -> Path:
    """The spec's cache folder, else $SYNTHWRIGHT_CACHE_DIR, else $XDG_CACHE_HOME (~/.cache)/synthwright.
    Runs keep their work folders there too, cache or not (synthwright.pipelines.workspace)."""
    cache = spec.cache if isinstance(spec, PipelineSpec) else spec
    if cache.root is not None:
        return cache.root
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "synthwright"


@dataclass(frozen=True)
class RunKeys:
    """The keys of one run's cacheable steps; `fit`, `sample` and `evaluate` per contender title."""

    ingest: str
    split: str
    fit: dict[str, str]
    sample: dict[str, str]
    evaluate: dict[str, str]


def run_keys(spec: PipelineSpec, root: Path, contract: Contract | None) -> RunKeys | None:
    """Every step key of `spec` read with `contract` (None: inferred from the data); None when the
    source cannot be read (ingest then says why, uncached).

    The sample size is `sample.rows`; null ("as many as trained on") is fixed by the split key.
    `root` is folded in so two cache folders never share a record. The contract counts by its content
    (its fingerprint): a comment added to its file reuses every step.
    """
    source = _source_digest(spec)
    if source is None:
        return None
    contract = contract_fingerprint(contract) if contract is not None else "inferred"
    options = spec.source.model_dump(mode="json", exclude={"path", "builtin"})
    ingest = digest("ingest", code_version(), str(root.resolve()), source, options, contract, spec.dataset)
    split = digest("split", ingest, spec.split.model_dump(mode="json"), spec.target, spec.seed)
    fit: dict[str, str] = {}
    sample: dict[str, str] = {}
    evaluate: dict[str, str] = {}
    for contender in spec.contenders:
        title = contender.title
        rare = spec.rare_values.model_dump(mode="json")
        fit[title] = fit_key(split, contender, spec.seed, rare)
        sample[title] = digest("sample", fit[title], spec.sample.rows, spec.seed)
        gates = spec.gates.model_dump(mode="json")
        evaluate[title] = digest("evaluate", sample[title], split, gates, rare, spec.target, spec.task)
    return RunKeys(ingest=ingest, split=split, fit=fit, sample=sample, evaluate=evaluate)


def fit_key(split: str, generator: GeneratorSpec, seed: int, rare_values: dict[str, Any]) -> str:
    """The label is left out: renaming a contender does not refit it."""
    return digest("fit", split, generator.name, generator.config, generator.device, seed, rare_values)


def digest(*parts: Any) -> str:
    """A short, stable hash of JSON-able parts (dict keys sorted)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _source_digest(spec: PipelineSpec) -> str | None:
    if spec.source.builtin is not None:
        try:
            return _file_digest(builtin_path(spec.source.builtin))
        except Exception:  # an unknown builtin: ingest raises the user-facing error
            return None
    return _file_digest(spec.source.path)


def _file_digest(path: Path | None) -> str | None:
    try:
        return file_sha256(path) if path is not None else None
    except OSError:
        return None
