"""Which device a torch generator runs on, and the seeded draws of one sampling call.

Every torch generator (CTGAN, TVAE, diffusion, the llm) resolves `device` and seeds its sampling the
same way; the base class asks here for the device a generator would use, without loading a model.
"""

from __future__ import annotations

import numpy as np
import torch

from synthwright.errors import ConfigError


def resolve_device(device: str) -> torch.device:
    """`auto` → CUDA when torch sees a GPU, else CPU; an explicit `cuda` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {device!r}", hint="use auto, cpu or cuda") from exc
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} was asked for, but torch {torch.__version__} sees no CUDA GPU",
            hint="use --device auto or cpu, or install a CUDA build of torch on a GPU machine",
        )
    if chosen.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r} is not supported", hint="use auto, cpu or cuda")
    return chosen


def seeded_draws(seed: int) -> np.random.Generator:
    """NumPy's generator for one sampling call, with torch's global generator seeded alike.

    The base class seeds torch only if it is already imported; a model loaded in a new process may
    import it later, so the models seed it here too.
    """
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
