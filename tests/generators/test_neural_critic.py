"""The critic's WGAN-GP loss and gradient penalty, worked by hand: the same losses and gradients as ctgan."""

from __future__ import annotations

import pytest
import torch
from ctgan.synthesizers.ctgan import Discriminator

from synthwright.errors import GeneratorError
from synthwright.generators.neural.critic import critic_backward


def _critic_inputs(pac: int = 4, groups: int = 3, width: int = 6):
    torch.manual_seed(0)
    critic = Discriminator(width, (16, 16), pac=pac)
    real = torch.randn(groups * pac, width)
    fake = torch.randn(groups * pac, width)
    return critic, real, fake


def test_gradient_penalty_matches_ctgans_with_the_same_seed():
    critic, real, fake = _critic_inputs()
    # dropout off: our single pass over fake, real and interpolated rows draws its dropout masks in another
    # order than ctgan's separate passes; alpha is drawn first in both, from the seeded generator
    critic.eval()
    torch.manual_seed(123)
    _, penalty = critic_backward(critic, real, fake, pac=4)
    torch.manual_seed(123)
    # in ctgan the fakes carry the generator's graph; a leaf that requires grad stands in for it
    reference = critic.calc_gradient_penalty(real, fake.clone().requires_grad_(True), device="cpu", pac=4)
    torch.testing.assert_close(penalty, reference.detach())
    assert penalty.item() > 0


def test_critic_loss_is_fake_minus_real_and_every_weight_gets_a_gradient():
    critic, real, fake = _critic_inputs()
    critic.eval()  # no dropout: the loss is a plain function of the inputs
    torch.manual_seed(5)
    loss, penalty = critic_backward(critic, real, fake, pac=4)
    with torch.no_grad():
        expected = critic(fake).mean() - critic(real).mean()
    torch.testing.assert_close(loss, expected)
    assert not loss.requires_grad and not penalty.requires_grad
    for name, parameter in critic.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def _reference_gradients(critic, real, fake, seed: int) -> dict[str, torch.Tensor]:
    """ctgan's formulation: separate passes, autograd all the way."""
    torch.manual_seed(seed)
    reference_penalty = critic.calc_gradient_penalty(real, fake.clone().requires_grad_(True), "cpu", pac=4)
    critic.zero_grad()
    (critic(fake).mean() - critic(real).mean() + reference_penalty).backward()
    return {name: p.grad.clone() for name, p in critic.named_parameters()}


def _assert_gradients_are_ctgans(critic, real, fake) -> None:
    """critic_backward's gradients on every weight equal ctgan's, dropout off, alpha from one seed."""
    critic.eval()
    torch.manual_seed(9)
    critic.zero_grad(set_to_none=True)
    critic_backward(critic, real, fake, pac=4)
    ours = {name: p.grad.clone() for name, p in critic.named_parameters()}
    reference = _reference_gradients(critic, real, fake, seed=9)
    for name, gradient in reference.items():
        torch.testing.assert_close(ours[name], gradient, msg=name)


def test_the_critic_weight_gradients_are_those_of_ctgans_losses():
    """The penalty's gradient is taken through the first layer by hand and the first layer's weight
    gradient is one product; every weight must still get exactly ctgan's gradient."""
    critic, real, fake = _critic_inputs()
    _assert_gradients_are_ctgans(critic, real, fake)


def test_the_interpolates_share_of_the_first_layer_gradient_goes_to_their_fake_and_real_rows():
    """With ctgan's LeakyReLU the penalty's gradient at the interpolates' hidden values is zero (the
    critic is piecewise linear there), so that share is only exercised by a smooth critic."""
    critic, real, fake = _critic_inputs()
    critic.seq = torch.nn.Sequential(
        *[torch.nn.Tanh() if isinstance(layer, torch.nn.LeakyReLU) else layer for layer in critic.seq]
    )
    _assert_gradients_are_ctgans(critic, real, fake)


def test_the_critic_gradients_accumulate_like_autograds():
    """Without zero_grad a second call adds to `.grad`, as backward() does, first layer included."""
    critic, real, fake = _critic_inputs()
    critic.eval()
    critic.zero_grad(set_to_none=True)
    for _ in range(2):
        torch.manual_seed(9)
        critic_backward(critic, real, fake, pac=4)
    twice = {name: p.grad.clone() for name, p in critic.named_parameters()}
    reference = _reference_gradients(critic, real, fake, seed=9)
    for name, gradient in reference.items():
        torch.testing.assert_close(twice[name], 2 * gradient, msg=name)


def test_a_critic_not_starting_with_a_linear_layer_is_refused():
    critic, real, fake = _critic_inputs()
    critic.seq = torch.nn.Sequential(torch.nn.Identity(), *critic.seq)
    with pytest.raises(GeneratorError, match="not Linear"):
        critic_backward(critic, real, fake, pac=4)
