"""Generator names → classes, imported only when asked for (each family pulls heavy libraries)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from synthwright.errors import ConfigError

if TYPE_CHECKING:
    from generators.base import Generator

GENERATORS: dict[str, str] = {
    "copula": "generators.copula:CopulaGenerator",
    "ctgan": "generators.ctgan:CTGANGenerator",
    "tvae": "generators.tvae:TVAEGenerator",
    "diffusion": "generators.diffusion.generator:DiffusionGenerator",
    "llm": "generators.llm.generator:LLMGenerator",
    "bootstrap": "generators.bootstrap:BootstrapGenerator",
}


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
