"""CTGAN's critic: the WGAN-GP loss and gradient penalty with its backward worked by hand, and its scores.

Apart from the training step (ctgan_training.py) because it is most of an epoch's cost and its own
piece of maths, checked against ctgan's losses. `_after_first` is looked up at each call so that
benchmarks/ctgan_step_layouts.py can swap it.
"""

from __future__ import annotations

import torch

from synthwright.errors import GeneratorError


def critic_backward(
    critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, pac: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """WGAN-GP's critic loss and gradient penalty (lambda 10, on pac-grouped interpolates), as ctgan;
    their gradients are added to the critic's `.grad`. Returns both losses, detached.

    The critic's first layer is `pac` × row width wide (2,620 inputs on Adult) and was most of an epoch,
    so it is worked as little as the maths allows:
      - forward: fake and real rows go through it in one matrix product (the critic has no batch
        statistics, so rows do not interact). An interpolate is a per-group mix of a fake and a real
        group, and the layer is linear, so its output is the same mix of theirs: no product at all;
      - the penalty needs the critic's gradient at the interpolates; through a linear first layer that
        is (gradient at its output) @ its weight, taken for the interpolates' rows only, where autograd
        would build a gradient for every input row;
      - backward: its weight's gradient has three parts, (gradient at its output)ᵀ @ inputs for the
        fake and the real rows, the interpolates' share of that folded into them by the same mix, and
        slopesᵀ @ (gradient at the penalty's input). One product over the three row sets writes it once.
    The fakes carry no generator graph: ctgan's `calc_gradient_penalty` needs that graph and
    backpropagates into the generator for nothing.
    """
    first, rest = _critic_layers(critic)
    width, groups = real.size(1), real.size(0) // pac
    alpha = torch.rand(groups, 1, 1, device=real.device)  # one per group, drawn as ctgan draws it
    share = alpha.view(groups, 1)
    # rows 0..2g-1 of `rows`: fake and real groups; rows 2g..3g-1 later take the gradient at the
    # penalty's input, so the weight gradient is one product over all 3g rows
    rows = real.new_empty(3 * groups, pac * width)
    torch.cat([fake, real], dim=0, out=rows.view(-1, width)[: 2 * real.size(0)])
    weight = first.weight.detach()
    first_out = torch.addmm(first.bias.detach(), rows[: 2 * groups], weight.t())
    between = torch.lerp(first_out[:groups], first_out[groups:], share)  # = first(interpolates)
    hidden = torch.cat([first_out, between], dim=0).requires_grad_()
    judged = _after_first(rest, hidden)
    (slopes,) = torch.autograd.grad(judged[2 * groups :].sum(), hidden, create_graph=True)
    slopes = slopes[2 * groups :]
    gradients = slopes @ weight  # the critic's gradient at each interpolated group
    gradients.retain_grad()
    penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * 10
    loss = judged[:groups].mean() - judged[groups : 2 * groups].mean()
    (loss + penalty).backward()  # the layers after the first; `hidden` and `gradients` keep theirs
    rows[2 * groups :] = gradients.grad
    at_fake, at_real, at_between = hidden.grad.split(groups)
    # an interpolate is share × real + (1 - share) × fake, so its rows' part of the weight gradient
    # goes to the fake and real rows it was made of
    at_output = torch.cat(
        [at_fake + (1 - share) * at_between, at_real + share * at_between, slopes.detach()], dim=0
    )
    _add_grad(first.weight, at_output.t() @ rows)
    _add_grad(first.bias, hidden.grad.sum(dim=0))
    return loss.detach(), penalty.detach()


def critic_scores(critic: torch.nn.Module, rows: torch.Tensor) -> torch.Tensor:
    """`critic(rows)`, with the faster dropout of `_after_first`."""
    first, rest = _critic_layers(critic)
    return _after_first(rest, first(rows.view(-1, first.in_features)))


def _critic_layers(critic: torch.nn.Module) -> tuple[torch.nn.Linear, torch.nn.Sequential]:
    first, rest = critic.seq[0], critic.seq[1:]  # ctgan's Discriminator: Linear, then the other layers
    if not isinstance(first, torch.nn.Linear):
        raise GeneratorError(
            f"ctgan's Discriminator starts with {type(first).__name__}, not Linear: this ctgan is not the "
            "one the training loop was written for",
            hint="install the ctgan that sdv 2.0 depends on (ctgan 0.12, pyproject.toml pins sdv)",
        )
    return first, rest


def _after_first(rest: torch.nn.Sequential, hidden: torch.Tensor) -> torch.Tensor:
    """The critic's layers after the first. A training-mode dropout keeps each value where a uniform
    draw is at least p, and scales it by 1 / (1 - p): the same law and gradient as torch's dropout,
    whose `bernoulli_` is about 2.5 times slower on CPU (0.56 ms against 0.22 ms for 150 × 256 values).
    """
    for layer in rest:
        if isinstance(layer, torch.nn.Dropout) and layer.training and 0 < layer.p < 1:
            keep = torch.rand_like(hidden).ge_(layer.p).mul_(1 / (1 - layer.p))
            hidden = hidden * keep
        else:
            hidden = layer(hidden)
    return hidden


def _add_grad(parameter: torch.nn.Parameter, gradient: torch.Tensor) -> None:
    """Accumulate as autograd would: the first gradient is stored, later ones are added."""
    if parameter.grad is None:
        parameter.grad = gradient
    else:
        parameter.grad += gradient
