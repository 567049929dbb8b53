"""Saved weights: state dicts only, loadable without unpickling code."""

from __future__ import annotations

import torch

from synthwright.generators.neural.weights import load_weights, save_weights

CPU = torch.device("cpu")


def test_weights_are_state_dicts_loadable_without_pickled_code(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    save_weights(tmp_path / "w.pt", {"net": module})
    raw = torch.load(tmp_path / "w.pt", weights_only=True)
    assert set(raw) == {"net"}
    loaded = load_weights(tmp_path / "w.pt", CPU)
    for key, tensor in module.state_dict().items():
        assert torch.equal(loaded["net"][key], tensor), key
