"""Seconds per CTGAN epoch on Adult with the training step's speed-ups added one at a time, in one process.

Whole-fit timings on this 2-core virtual machine move by 10-30 % between runs (the same code has run
1.45 s and 2.3 s epochs minutes apart), and whole fits alternated in one process still differ by that
much, so each layout gets its own training state (synthwright.generators.neural.ctgan_training.CTGANTraining,
on Adult's training split, encoded once) and they take turns, `--block` steps at a time, for `--rounds`
rounds, after `--warmup` untimed steps each. Each layout adds one change to the one before:

- previous (main until 2026-12-03, 911bc55): the generator is ctgan's module on [noise | one-hot
  condition]; the critic's first layer takes fake, real and interpolated rows in one product, the
  penalty's gradient through it by hand, its weight gradient as one product over 200 row groups; torch's
  dropout;
- lerp_critic: the interpolates' first-layer output is the mix of the fake and real outputs (no product
  for them) and the weight gradient is one product over 150 row groups
  (synthwright.generators.neural.critic.critic_backward);
- gathered: the generator fed condition slots (synthwright.generators.neural.gathered.GatheredGenerator):
  gathered condition weights, one noise product for all layers, no gradient at the inputs;
- current: the critic's dropout mask drawn as rand >= p (critic._after_first), i.e. main as it is.

All compute the same losses and gradients (tests/generators/test_neural_critic.py and
test_neural_gathered.py check the current ones against ctgan's). Prints one JSON object: per layout
milliseconds per step of every block, their median and mean, seconds per epoch at the median (52 steps
on Adult), and the ratios of the medians to previous's, over all blocks and per round (the spread of
the per-round ratios shows what the noise leaves of a difference).

    .venv/bin/python benchmarks/ctgan_step_layouts.py [--rounds 30] [--block 10] [--warmup 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402, TID251 (the earlier layouts below are torch code)
from ctgan_vs_sdv import CONTRACT, prepare  # noqa: E402 — Adult split as the pipeline does

import synthwright.generators.neural.critic as critic_module  # noqa: E402
import synthwright.generators.neural.gathered as gathered  # noqa: E402
from synthwright.data_contracts.io import load_contract  # noqa: E402
from synthwright.generators.base import normalise_input  # noqa: E402
from synthwright.generators.columns import ColumnPlan  # noqa: E402
from synthwright.generators.ctgan import CTGANConfig  # noqa: E402
from synthwright.generators.neural.ctgan_training import CTGANTraining  # noqa: E402
from synthwright.generators.neural.training import fit_encoding  # noqa: E402
from synthwright.pipelines.frames import read_frame  # noqa: E402


def one_product_backward(critic, real, fake, pac):
    """911bc55's critic step: interpolates through the first layer too; one weight product over 4g rows."""
    first, rest = critic.seq[0], critic.seq[1:]
    width, groups = real.size(1), real.size(0) // pac
    alpha = torch.rand(groups, 1, 1, device=real.device).repeat(1, pac, width).view(-1, width)
    rows = real.new_empty(4 * groups, pac * width)
    flat = rows.view(-1, width)
    torch.cat([fake, real], dim=0, out=flat[: 2 * real.size(0)])
    torch.lerp(fake, real, alpha, out=flat[2 * real.size(0) : 3 * real.size(0)])
    weight = first.weight.detach()
    hidden = torch.addmm(first.bias.detach(), rows[: 3 * groups], weight.t()).requires_grad_()
    judged = critic_module._after_first(rest, hidden)
    (slopes,) = torch.autograd.grad(judged[2 * groups :].sum(), hidden, create_graph=True)
    slopes = slopes[2 * groups :]
    gradients = slopes @ weight
    gradients.retain_grad()
    penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * 10
    loss = judged[:groups].mean() - judged[groups : 2 * groups].mean()
    (loss + penalty).backward()
    rows[3 * groups :] = gradients.grad
    at_output = torch.cat([hidden.grad, slopes.detach()], dim=0)
    critic_module._add_grad(first.weight, at_output.t() @ rows)
    critic_module._add_grad(first.bias, hidden.grad.sum(dim=0))
    return loss.detach(), penalty.detach()


class DenseGenerator:
    """The earlier generator pass: ctgan's module on [noise | one-hot condition]."""

    def __init__(self, network, noise_dim: int, condition_dim: int):
        self.network, self.condition_dim = network, condition_dim

    def __call__(self, noise, slots):
        if slots is None:
            return self.network(noise)
        one_hot = torch.nn.functional.one_hot(slots, self.condition_dim).to(noise.dtype)
        return self.network(torch.cat([noise, one_hot], dim=1))


def torch_dropout(rest, hidden):
    """The critic's layers after the first as modules: torch's dropout."""
    return rest(hidden)


CURRENT = {
    "critic_backward": critic_module.critic_backward,
    "GatheredGenerator": gathered.GatheredGenerator,
    "_after_first": critic_module._after_first,
}
# CTGANTraining looks critic_backward up at each step and GatheredGenerator at construction, and
# critic_backward and critic_scores look `_after_first` up at each call: swapping the module
# attributes swaps the layout
LAYOUTS = {
    "previous": {
        "critic_backward": one_product_backward,
        "GatheredGenerator": DenseGenerator,
        "_after_first": torch_dropout,
    },
    "lerp_critic": {**CURRENT, "GatheredGenerator": DenseGenerator, "_after_first": torch_dropout},
    "gathered": {**CURRENT, "_after_first": torch_dropout},
    "current": CURRENT,
}


def use(layout: dict) -> None:
    critic_module.critic_backward = layout["critic_backward"]
    critic_module._after_first = layout["_after_first"]
    gathered.GatheredGenerator = layout["GatheredGenerator"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--block", type=int, default=10, help="steps per layout per round")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps per layout first")
    args = parser.parse_args()
    if args.rounds < 1 or args.block < 1 or args.warmup < 0:
        parser.error("--rounds and --block must be at least 1, --warmup at least 0")
    contract = load_contract(CONTRACT)
    with tempfile.TemporaryDirectory() as folder:
        prepare(Path(folder), None)
        train = read_frame(Path(folder) / "train.parquet", contract)
    config = CTGANConfig()  # the defaults, as ctgan_vs_sdv.py fits
    data = normalise_input(train, contract)
    plan = ColumnPlan.fit(contract, data)
    encoding, matrix, codes = fit_encoding(plan.encode(data), plan.model_contract, config, 0, lambda _: None)
    started = time.perf_counter()
    trainings = {}
    try:
        for name, layout in LAYOUTS.items():
            use(layout)
            torch.manual_seed(0)
            trainings[name] = CTGANTraining(
                config, encoding, matrix, codes, torch.device("cpu"), np.random.default_rng(0)
            )
            for _ in range(args.warmup):
                trainings[name].step()
        blocks: dict[str, list[float]] = {name: [] for name in LAYOUTS}
        for round_ in range(args.rounds):
            for name, layout in LAYOUTS.items():
                use(layout)
                began = time.perf_counter()
                for _ in range(args.block):
                    trainings[name].step()
                blocks[name].append((time.perf_counter() - began) / args.block * 1000)
            line = " ".join(f"{name} {blocks[name][-1]:.1f}" for name in LAYOUTS)
            print(f"[round {round_ + 1}] ms/step: {line}", file=sys.stderr)
    finally:
        use(CURRENT)
    steps_per_epoch = trainings["current"].steps_per_epoch
    summary = {
        name: {
            "median_ms_per_step": round(statistics.median(v), 2),
            "mean_ms_per_step": round(statistics.mean(v), 2),
            "seconds_per_epoch_at_median": round(statistics.median(v) * steps_per_epoch / 1000, 3),
            "ms_per_step": [round(x, 2) for x in v],
        }
        for name, v in blocks.items()
    }
    previous = summary["previous"]["median_ms_per_step"]
    per_round = {
        name: [a / b for a, b in zip(blocks[name], blocks["previous"], strict=True)] for name in LAYOUTS
    }
    print(
        json.dumps(
            {
                "benchmark": "ctgan_step_layouts",
                "rounds": args.rounds,
                "steps_per_block": args.block,
                "steps_per_epoch": steps_per_epoch,
                "torch_threads": torch.get_num_threads(),
                "load_average_1min_after": round(os.getloadavg()[0], 2),
                "seconds": round(time.perf_counter() - started, 1),
                "layouts": summary,
                "ratio_median_to_previous": {
                    name: round(summary[name]["median_ms_per_step"] / previous, 3) for name in LAYOUTS
                },
                "ratio_to_previous_per_round": {
                    name: {
                        "median": round(statistics.median(v), 3),
                        "min": round(min(v), 3),
                        "max": round(max(v), 3),
                    }
                    for name, v in per_round.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
