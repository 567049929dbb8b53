"""Generator names → classes, imported only when asked for (each family pulls heavy libraries)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from synthwright.errors import ConfigError

if TYPE_CHECKING:
    from synthwright.generators.base import Generator

GENERATORS: dict[str, str] = {
    "copula": "synthwright.generators.copula:CopulaGenerator",
    "ctgan": "synthwright.generators.ctgan:CTGANGenerator",
    "tvae": "synthwright.generators.tvae:TVAEGenerator",
    "diffusion": "synthwright.generators.diffusion.generator:DiffusionGenerator",
    "llm": "synthwright.generators.llm.generator:LLMGenerator",
    "bootstrap": "synthwright.generators.bootstrap:BootstrapGenerator",
}

# What a spec, an augmentation request and `synthwright fit` use when no generator is named: the best
# fidelity per minute on CPU in the benchmark suite (benchmarks/suite.py), its training sized by a time
# budget. The copula stays as the seconds-fast baseline.
DEFAULT_GENERATOR = "diffusion"


def generator_names() -> list[str]:
    return list(GENERATORS)


def generator_class(name: str) -> type[Generator]:
    """The class registered under `name`; an unknown name lists what exists."""
    target = GENERATORS.get(name)
    if target is None:
        raise ConfigError(
            f"unknown generator {name!r}",
            hint=f"choose one of: {', '.join(GENERATORS)} (`synthwright generators` describes them)",
        )
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


def create_generator(
    name: str, config: dict[str, Any] | None = None, *, seed: int = 0, device: str = "auto"
) -> Generator:
    return generator_class(name)(config, seed=seed, device=device)
