"""CTGAN's training passes that skip work: the gathered generator and the critic's faster dropout."""

from __future__ import annotations

import copy

import pytest
import torch
from ctgan.synthesizers.ctgan import Discriminator
from ctgan.synthesizers.ctgan import Generator as Network

from synthwright.errors import GeneratorError
from synthwright.generators.neural.critic import critic_scores
from synthwright.generators.neural.gathered import GatheredGenerator

NOISE, CONDITION, ROWS = 8, 5, 32


def _twins(condition_dim: int = CONDITION) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    network = Network(NOISE + condition_dim, (16, 12), 7)
    return network, copy.deepcopy(network)


def _inputs(condition_dim: int = CONDITION) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    noise = torch.randn(ROWS, NOISE, generator=generator)
    slots = torch.randint(condition_dim, (ROWS,), generator=generator)
    one_hot = torch.nn.functional.one_hot(slots, condition_dim).float()
    return noise, slots, torch.cat([noise, one_hot], dim=1)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_the_gathered_generator_computes_the_modules_function_and_gradients(mode):
    network, reference = _twins()
    network.train(mode == "train")
    reference.train(mode == "train")
    noise, slots, dense = _inputs()

    ours = GatheredGenerator(network, NOISE, CONDITION)(noise, slots)
    expected = reference(dense)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)

    weights = torch.randn_like(ours)
    (ours * weights).sum().backward()
    (expected * weights).sum().backward()
    for (name, parameter), (_, twin) in zip(
        network.named_parameters(), reference.named_parameters(), strict=True
    ):
        torch.testing.assert_close(parameter.grad, twin.grad, rtol=1e-4, atol=1e-5, msg=name)
    for (name, buffer), (_, twin) in zip(network.named_buffers(), reference.named_buffers(), strict=True):
        torch.testing.assert_close(buffer, twin, msg=name)  # batch norm's running statistics


def test_every_condition_slot_reaches_its_own_weights():
    """A wrong slot offset would still give the right shapes; each slot must move the output its way."""
    network, reference = _twins()
    network.eval()
    reference.eval()
    noise = torch.zeros(CONDITION, NOISE)
    slots = torch.arange(CONDITION)
    dense = torch.cat([noise, torch.eye(CONDITION)], dim=1)
    ours = GatheredGenerator(network, NOISE, CONDITION)(noise, slots)
    torch.testing.assert_close(ours, reference(dense), rtol=1e-5, atol=1e-5)
    assert len({tuple(row.tolist()) for row in ours.detach().round(decimals=4)}) == CONDITION


def test_without_conditions_it_is_the_module_on_the_noise():
    network, reference = _twins(condition_dim=0)
    noise = torch.randn(ROWS, NOISE)
    ours = GatheredGenerator(network, NOISE, 0)(noise, None)
    torch.testing.assert_close(ours, reference(noise), rtol=1e-5, atol=1e-5)


def test_a_generator_of_another_shape_is_refused_with_a_clear_error():
    class Other(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.seq = torch.nn.Sequential(torch.nn.Linear(NOISE, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))

    with pytest.raises(GeneratorError, match="Residual"):
        GatheredGenerator(Other(), NOISE, 0)


def test_critic_scores_equal_the_critic_without_dropout():
    torch.manual_seed(0)
    critic = Discriminator(6, (16, 16), pac=4).eval()
    rows = torch.randn(12, 6)
    torch.testing.assert_close(critic_scores(critic, rows), critic(rows))


def test_the_critics_dropout_keeps_half_the_values_twice_as_large():
    torch.manual_seed(0)
    critic = Discriminator(250, (1000,), pac=1).train()
    critic.seq[0].weight.data.zero_()
    critic.seq[0].bias.data.fill_(1.0)  # the hidden layer's output is all ones; LeakyReLU keeps them
    critic.seq[-1].weight.data.fill_(1.0)
    critic.seq[-1].bias.data.zero_()
    scores = critic_scores(critic, torch.randn(40, 250)).squeeze(1)
    scores.sum().backward()
    # each score is 2 × the values kept of its 1,000; each hidden unit's bias gradient, 2 × the rows
    # that kept it: a kept value is scaled by 1 / (1 - 0.5), and the gradient goes through the same mask
    assert torch.equal(scores, scores.round()) and (scores.remainder(2) == 0).all()
    assert set(critic.seq[0].bias.grad.remainder(2).unique().tolist()) == {0.0}
    assert 0.47 < scores.mean().item() / 2000 < 0.53  # 40,000 draws: ± 0.03 is over 10 sigma
    assert critic.seq[0].bias.grad.sum().item() == scores.sum().item()
