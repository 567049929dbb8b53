"""Device resolution: auto, cpu and cuda, and clear errors for the rest."""

from __future__ import annotations

import pytest
import torch

from synthwright.errors import ConfigError
from synthwright.generators.neural.device import resolve_device

CPU = torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU (tests/generators: gpu)")
def test_explicit_cuda_without_a_gpu_is_a_clear_error():
    for asked in ["cuda", "cuda:0"]:
        with pytest.raises(ConfigError, match="CUDA") as info:
            resolve_device(asked)
        assert "auto" in info.value.hint


def test_auto_and_cpu_devices():
    assert resolve_device("cpu") == CPU
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.parametrize("asked", ["nonsense", "", "mps", "meta"])
def test_unknown_or_unsupported_devices_are_config_errors(asked):
    with pytest.raises(ConfigError, match="device") as info:
        resolve_device(asked)
    assert "auto, cpu or cuda" in info.value.hint
