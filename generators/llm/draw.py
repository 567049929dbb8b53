"""Drawing one token per row among the allowed ones: temperature, top-k and top-p, then an inverse CDF."""

from __future__ import annotations

import torch


def draw(
    logits: torch.Tensor,
    allowed: torch.Tensor | None,
    *,
    temperature: float,
    top_k: int | None,
    top_p: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Indices into the last axis of `logits` (rows × tokens); a disallowed token is never drawn."""
    if temperature != 1.0:
        logits = logits / temperature
    if allowed is not None:
        logits = logits.masked_fill(~allowed, float("-inf"))
    if top_k is not None and top_k < logits.shape[1]:
        kth = logits.topk(top_k, dim=1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        ordered, index = logits.sort(dim=1, descending=True)
        probs = ordered.softmax(dim=1)
        drop = (probs.cumsum(dim=1) - probs) >= top_p  # keep the token that crosses top_p
        logits = logits.scatter(1, index, ordered.masked_fill(drop, float("-inf")))
    cumulative = logits.softmax(dim=1).cumsum(dim=1)
    total = cumulative[:, -1:]
    u = torch.rand(len(cumulative), 1, generator=generator, device=cumulative.device) * total
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))  # u < total, always
    # the first token whose cumulative mass exceeds u: never one of zero probability (a masked one)
    return torch.searchsorted(cumulative, u, right=True).squeeze(1)
