"""A GPT-2-style causal transformer over row tokens, with a key/value cache for fast sampling.

Plain torch (no `transformers` needed): pre-norm blocks of multi-head self-attention (torch's fused
scaled-dot-product attention) and a GELU MLP. There are no position embeddings; instead each input
carries two slot embeddings, the slot of the token it holds and the slot of the token to predict
next (XLNet's "target-aware" trick). The slot says which column and which part of it, so the same
weights serve rows whose columns are written in different orders (conditions are written first).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


class Block(nn.Module):
    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.dropout = dropout

    def forward(self, h: torch.Tensor, cache: list[torch.Tensor] | None = None, at: int = 0) -> torch.Tensor:
        rows, length, width = h.shape
        q, k, v = (
            self.qkv(self.norm1(h))
            .view(rows, length, 3, self.heads, width // self.heads)
            .permute(2, 0, 3, 1, 4)
        )
        causal = True
        if cache is not None:  # write this call's keys and values at `at`, attend to everything so far
            cache[0][:, :, at : at + length] = k
            cache[1][:, :, at : at + length] = v
            k, v = cache[0][:, :, : at + length], cache[1][:, :, : at + length]
            causal = length > 1  # a prefill starts at 0; a single new token may see every earlier one
        drop = self.dropout if self.training else 0.0
        if causal or self.training:
            attended = functional.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=causal)
        else:  # one new token per row: two batched products beat the fused kernel's per-head overhead
            attended = ((q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5).softmax(dim=-1) @ v
        attended = attended.transpose(1, 2).reshape(rows, length, width)
        h = h + functional.dropout(self.out(attended), drop, self.training)
        return h + functional.dropout(self.mlp(self.norm2(h)), drop, self.training)


class RowTransformer(nn.Module):
    """Predicts each token of a row from the ones before it, told which slot comes next."""

    def __init__(self, vocabulary: int, slots: int, width: int, depth: int, heads: int, dropout: float):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not a multiple of heads {heads}")
        self.tokens = nn.Embedding(vocabulary, width)
        self.here = nn.Embedding(slots + 1, width)  # the last row stands for the start of a row
        self.next = nn.Embedding(slots, width)
        self.blocks = nn.ModuleList(Block(width, heads, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocabulary)
        self.start_slot = slots
        self.apply(_initialise)

    def hidden(
        self,
        tokens: torch.Tensor,
        here: torch.Tensor,
        upcoming: torch.Tensor,
        cache: list[list[torch.Tensor]] | None = None,
        at: int = 0,
    ) -> torch.Tensor:
        """Final hidden states (rows × length × width); with a cache, positions from `at` on."""
        h = self.tokens(tokens) + self.here(here) + self.next(upcoming)
        for index, block in enumerate(self.blocks):
            h = block(h, None if cache is None else cache[index], at)
        return self.norm(h)

    def forward(self, tokens: torch.Tensor, here: torch.Tensor, upcoming: torch.Tensor) -> torch.Tensor:
        """Logits over the whole vocabulary for every position (training)."""
        return self.head(self.hidden(tokens, here, upcoming))

    def logits_in(self, hidden: torch.Tensor, low: int, high: int) -> torch.Tensor:
        """Logits of token ids [low, high) only: a slot's range, all a sampling step needs."""
        return functional.linear(hidden, self.head.weight[low:high], self.head.bias[low:high])

    def new_cache(self, rows: int, length: int, device: torch.device) -> list[list[torch.Tensor]]:
        width = self.norm.normalized_shape[0]
        heads = self.blocks[0].heads if len(self.blocks) else 1
        shape = (rows, heads, length, width // heads)
        dtype = self.head.weight.dtype
        return [
            [torch.empty(shape, device=device, dtype=dtype), torch.empty(shape, device=device, dtype=dtype)]
            for _ in self.blocks
        ]


def _initialise(module: nn.Module) -> None:
    """GPT-2's initialisation: normal(0, 0.02) weights, zero biases."""
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
