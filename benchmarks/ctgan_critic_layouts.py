"""Seconds per CTGAN epoch on Adult for three layouts of the critic step, in one process, alternating.

Whole-fit timings on this 2-core virtual machine move by about ±10 % between runs, so the layouts are
compared inside one process, one after the other, for `--rounds`
rounds of `--epochs` epochs each (the first epoch of each fit, which warms torch up, is left out):

- one_pass (until 2026-12-03): fake, real and interpolated rows through the critic together, the penalty's
  gradient by autograd (a gradient for all 150 input row groups, 100 of them zero) and the critic's backward
  also reaching the interpolates (a gradient nobody reads);
- hand_penalty (2026-12-03): the same single pass, but the penalty's gradient taken through the first
  layer by hand (gradient at its output @ its weight) for the 50 interpolated groups only; autograd's
  backward then writes the first layer's weight gradient twice (once per path) and adds them;
- current (generators.neural.runtime.critic_backward): as hand_penalty, with the first layer's weight
  gradient written once, as one product over both paths' rows.

All are the same WGAN-GP losses: tests/generators/test_neural_runtime.py checks the penalty and every
weight gradient of the current layout against ctgan's. Prints one JSON object: per layout the per-epoch
seconds, their median and mean, and the ratios of the medians to one_pass's.

    .venv/bin/python benchmarks/ctgan_critic_layouts.py [--rounds 4] [--epochs 3]
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

import torch  # noqa: E402, TID251 (the earlier layout below is torch code)
from ctgan_vs_sdv import CONTRACT, prepare  # noqa: E402 — Adult split as the pipeline does

import generators.neural.runtime as runtime  # noqa: E402
from data_contracts.io import load_contract  # noqa: E402
from generators.registry import create_generator  # noqa: E402
from pipelines.frames import read_frame  # noqa: E402


def one_pass_backward(critic, real, fake, pac):
    """The earliest layout: all three kinds of rows in one critic pass, autograd for the rest."""
    width, groups = real.size(1), real.size(0) // pac
    alpha = torch.rand(groups, 1, 1, device=real.device).repeat(1, pac, width).view(-1, width)
    between = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    judged = critic(torch.cat([fake, real, between], dim=0))
    on_between = judged[2 * groups :]
    (gradients,) = torch.autograd.grad(on_between, between, torch.ones_like(on_between), create_graph=True)
    penalty = ((gradients.view(-1, pac * width).norm(2, dim=1) - 1) ** 2).mean() * 10
    loss = judged[:groups].mean() - judged[groups : 2 * groups].mean()
    (loss + penalty).backward()
    return loss.detach(), penalty.detach()


def hand_penalty_backward(critic, real, fake, pac):
    """The penalty's gradient through the first layer by hand; autograd's backward for the weights."""
    first, rest = critic.seq[0], critic.seq[1:]
    width, groups = real.size(1), real.size(0) // pac
    alpha = torch.rand(groups, 1, 1, device=real.device).repeat(1, pac, width).view(-1, width)
    between = alpha * real + (1 - alpha) * fake
    hidden = first(torch.cat([fake, real, between], dim=0).view(-1, pac * width))
    judged = rest(hidden)
    (slopes,) = torch.autograd.grad(judged[2 * groups :].sum(), hidden, create_graph=True)
    gradients = slopes[2 * groups :] @ first.weight
    penalty = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * 10
    loss = judged[:groups].mean() - judged[groups : 2 * groups].mean()
    (loss + penalty).backward()
    return loss.detach(), penalty.detach()


# CTGAN._fit imports `critic_backward` from the runtime module at each fit, so swapping it swaps the layout
LAYOUTS = {
    "one_pass": one_pass_backward,
    "hand_penalty": hand_penalty_backward,
    "current": runtime.critic_backward,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3, help="per fit; the first is not counted")
    args = parser.parse_args()
    if args.rounds < 1 or args.epochs < 2:
        parser.error("--rounds must be at least 1 and --epochs at least 2")
    contract = load_contract(CONTRACT)
    with tempfile.TemporaryDirectory() as folder:
        prepare(Path(folder), None)
        train = read_frame(Path(folder) / "train.parquet", contract)
    seconds: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    started = time.perf_counter()
    try:
        for round_ in range(args.rounds):
            for name, backward in LAYOUTS.items():
                runtime.critic_backward = backward
                ends: list[float] = []

                def progress(update, ends=ends):
                    if update.total is not None:
                        ends.append(time.perf_counter())

                model = create_generator("ctgan", {"epochs": args.epochs}, seed=round_)
                model.fit(train, contract, progress=progress)
                epochs = [b - a for a, b in zip(ends[1:], ends[2:], strict=False)]
                seconds[name] += epochs
                print(f"[round {round_ + 1}] {name}: {[round(s, 3) for s in epochs]}", file=sys.stderr)
    finally:
        runtime.critic_backward = LAYOUTS["current"]
    summary = {
        name: {
            "median": round(statistics.median(v), 3),
            "mean": round(statistics.mean(v), 3),
            "epochs": [round(s, 3) for s in v],
        }
        for name, v in seconds.items()
    }
    print(
        json.dumps(
            {
                "benchmark": "ctgan_critic_layouts",
                "rounds": args.rounds,
                "epochs_per_fit": args.epochs,
                "torch_threads": torch.get_num_threads(),
                "load_average_1min_after": round(os.getloadavg()[0], 2),
                "seconds": time.perf_counter() - started,
                "layouts": summary,
                "ratio_median_to_one_pass": {
                    name: round(summary[name]["median"] / summary["one_pass"]["median"], 3)
                    for name in LAYOUTS
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
