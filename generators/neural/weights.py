"""Saved network weights: state dicts only, loaded without unpickling code, checked against the config.

Every torch generator saves and restores its networks this way, so a save folder never runs code on
load and a folder loaded with the wrong config fails with a clear ConfigError.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from synthwright.errors import ConfigError


def save_weights(path: Path, modules: dict[str, torch.nn.Module]) -> None:
    """State dicts only (tensors, loadable with weights_only=True): no pickled code."""
    torch.save({name: module.state_dict() for name, module in modules.items()}, path)


def load_weights(path: Path, device: torch.device) -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(path, map_location=device, weights_only=True)


def restore_weights(
    build: Callable[[], torch.nn.Module], path: Path, key: str, device: torch.device
) -> torch.nn.Module:
    """Build a network as the saved config says and load its weights; a mismatch is a ConfigError."""
    try:
        module = build()
        module.load_state_dict(load_weights(path, device)[key])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"{path} does not fit the model's config: {exc}",
            hint="load the folder with the config it was saved with (generator.json)",
        ) from exc
    return module
