"""The `llm` generator: a language model that writes table rows, valid by construction.

Default: our own GPT-2-style causal transformer trained from scratch on a column-aware vocabulary
(REaLTabFormer's design, synthwright.generators.llm.tokens and .network); no download, no `transformers`. With
`base_model: PATH` it fine-tunes a local Hugging Face causal LM on rows written as sentences instead
(GReaT's design, synthwright.generators.llm.pretrained; needs the `llm` extra).

Every sampled row is valid by construction: each step may only write the tokens that keep the row
inside the contract (the right column next, a known category, a number inside its range, nothing
after a text's end), so there is no rejection loop to hang. Conditions are written first, as the
model learned on `conditioned_share` of the training rows, and the rest of the row follows them.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from synthwright.data_contracts.model import Contract
from synthwright.generators.base import Generator, Progress, ProgressUpdate, with_preset
from synthwright.generators.conditions import with_given_values

PRESETS: dict[str, dict[str, Any]] = {
    "fast": {"epochs": 2, "batch_size": 64, "width": 32, "depth": 1, "heads": 2},
    "default": {"epochs": 25, "batch_size": 256, "width": 96, "depth": 4, "heads": 4},
    "quality": {"epochs": 200, "batch_size": 512, "width": 384, "depth": 8, "heads": 8},
}

WEIGHTS_FILE = "weights.pt"
VOCABULARY_FILE = "vocabulary.json"
TRAINING_FILE = "training.json"
SENTENCES_FILE = "sentences.json"  # base_model: the sentence format; the fine-tuned model in MODEL_FOLDER
MODEL_FOLDER = "model"
_CACHE_BYTES = 512 * 2**20  # key/value cache per sampled batch


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Literal["fast", "default", "quality"] = Field(
        "default", description="fills every knob below that is not given"
    )
    base_model: str | None = Field(
        None,
        description="a local Hugging Face causal LM folder to fine-tune (GReaT-style sentences); "
        "none: our transformer from scratch",
    )
    epochs: PositiveInt = Field(description="passes over the training rows")
    batch_size: PositiveInt = Field(description="rows per step")
    width: PositiveInt = Field(description="the transformer's hidden size (from scratch)")
    depth: PositiveInt = Field(description="transformer blocks (from scratch)")
    heads: PositiveInt = Field(description="attention heads per block (from scratch)")
    dropout: float = Field(0.1, ge=0, lt=1)
    learning_rate: float = Field(1e-3, gt=0, description="AdamW's peak; warm-up, then a cosine to a tenth")
    fine_tune_learning_rate: float = Field(5e-5, gt=0, description="AdamW's, fine-tuning a base_model")
    weight_decay: float = Field(0.01, ge=0)
    conditioned_share: float = Field(
        0.3, ge=0, le=1, description="share of training rows that write some columns first (conditions)"
    )
    temperature: float = Field(1.0, gt=0, description="sampling temperature (1: the learned distribution)")
    top_k: int | None = Field(None, ge=1, description="sample only among the k likeliest tokens")
    top_p: float = Field(
        1.0, gt=0, le=1, description="nucleus sampling: the likeliest tokens up to this mass"
    )
    sample_batch: PositiveInt = Field(4096, description="rows written at once when sampling")
    max_bins: int = Field(256, ge=1, description="a number's first-token bins (quantiles of training values)")
    max_radix: int = Field(1024, ge=2, description="largest base of a number's offset digits inside its bin")
    max_decimals: int = Field(6, ge=0, le=12, description="most decimals a float column is written with")
    max_text_length: int = Field(
        256, ge=1, description="characters of a text column (tokens with base_model); longer are cut"
    )
    max_categories: int = Field(1000, ge=2, description="tokens per category column; rarer values pool")
    max_minutes: float | None = Field(None, gt=0, description="stop training after this wall time")

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, values: Any) -> Any:
        return with_preset(values, PRESETS)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> LLMConfig:
        if self.width % self.heads:
            raise ValueError(f"width ({self.width}) must be a multiple of heads ({self.heads})")
        return self


class LLMGenerator(Generator):
    name = "llm"
    Config = LLMConfig
    summary = "our own transformer writing rows token by token (or a local LLM fine-tuned); text columns"
    libraries: tuple[str, ...] = ("torch",)
    supports_conditions = True
    benefits_from_gpu = True
    writes_text = True
    config: LLMConfig

    # ---- fit ----------------------------------------------------------------------------------

    def _fit(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        import torch

        from synthwright.generators.llm.tokens import RowVocabulary
        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.training import (
            TrainingClock,
            cosine_schedule,
            plan_from_a_timed_step,
        )

        cfg = self.config
        if cfg.base_model is not None:
            self._fine_tune(data, contract, progress)
            return
        device = resolve_device(self.device)
        rng = np.random.default_rng(self.seed)
        torch.manual_seed(self.seed)
        progress(ProgressUpdate(0, None, f"building the vocabulary of {len(data.columns)} columns"))
        vocabulary = RowVocabulary.fit(
            data,
            contract,
            max_categories=cfg.max_categories,
            max_bins=cfg.max_bins,
            max_radix=cfg.max_radix,
            max_decimals=cfg.max_decimals,
            max_text_length=cfg.max_text_length,
        )
        tokens = torch.from_numpy(vocabulary.encode(data)).to(device)
        layout = _Layout(vocabulary, device)
        net = self._network(vocabulary).to(device)
        n_rows = len(data)
        batch = min(cfg.batch_size, n_rows)
        per_epoch = math.ceil(n_rows / batch)
        clock = TrainingClock(
            cfg.epochs,
            cfg.max_minutes,
            progress,
            f"llm on {n_rows:,} rows × {vocabulary.length} tokens",
            diverged_hint="lower learning_rate or change the seed",
        )
        net.train()

        def spare_step():
            spare = _Trainer(copy.deepcopy(net), layout, cfg)
            return lambda picked: spare.step(tokens[picked], cfg.learning_rate)

        # a budget is planned from steps timed on a copy: the schedule has its length from the start
        plan_from_a_timed_step(
            clock, device, seed=self.seed, n_rows=n_rows, batch=batch, spare_step=spare_step
        )
        trainer = _Trainer(net, layout, cfg)
        for epoch in clock:
            order = torch.from_numpy(rng.permutation(n_rows)).to(device)
            running, batches, total = 0.0, 0, clock.planned_steps(per_epoch)
            for start in range(0, n_rows, batch):
                learning_rate = cosine_schedule(cfg.learning_rate, trainer.steps, total, warm_share=0.02)
                running += trainer.step(tokens[order[start : start + batch]], learning_rate)
                batches += 1
            clock.record(epoch, {"loss": running / max(batches, 1)})
        self.vocabulary_ = vocabulary
        self.network_ = net.eval()
        self.training_ = clock.summary(device)

    def _fine_tune(self, data: pd.DataFrame, contract: Contract, progress: Progress) -> None:
        import torch

        from synthwright.generators.llm import pretrained
        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.training import TrainingClock

        cfg = self.config
        device = resolve_device(self.device)
        torch.manual_seed(self.seed)
        progress(ProgressUpdate(0, None, f"loading the base model from {cfg.base_model}"))
        model, tokenizer = pretrained.load_pretrained(cfg.base_model, device)
        sentences = pretrained.SentenceFormat.fit(
            data,
            contract,
            max_categories=cfg.max_categories,
            max_decimals=cfg.max_decimals,
            max_text=cfg.max_text_length,
        )
        writer = pretrained.Writer(sentences, tokenizer)
        writer.fit_context(pretrained.context_length(model))
        clock = TrainingClock(
            cfg.epochs,
            cfg.max_minutes,
            progress,
            f"fine-tuning {Path(cfg.base_model).name} on {len(data):,} rows",
            diverged_hint="lower fine_tune_learning_rate or change the seed",
        )
        pretrained.fine_tune(model, writer, data, cfg, clock, np.random.default_rng(self.seed))
        self.libraries = ("torch", "transformers")  # recorded on save: the model folder needs both
        self.base_ = (model, tokenizer)
        self.writer_ = writer
        self.training_ = clock.summary(device)

    def _network(self, vocabulary):
        from synthwright.generators.llm.network import RowTransformer

        cfg = self.config
        return RowTransformer(
            vocabulary.size, vocabulary.length, cfg.width, cfg.depth, cfg.heads, cfg.dropout
        )

    # ---- sampling -----------------------------------------------------------------------------

    def _sample(self, n: int, seed: int) -> pd.DataFrame:
        return self._write(n, seed, None)

    def _sample_conditioned(self, n: int, seed: int, conditions: pd.DataFrame) -> pd.DataFrame:
        return with_given_values(self._write(n, seed, conditions), conditions)

    def _write(self, n: int, seed: int, conditions: pd.DataFrame | None) -> pd.DataFrame:
        import torch

        from synthwright.generators.neural.device import seeded_draws

        if self.config.base_model is not None:
            from synthwright.generators.llm import pretrained

            programs = pretrained.write_rows(self.base_[0], self.writer_, n, conditions, self.config, seed)
            return pretrained.decode_values(self.writer_, programs, seeded_draws(seed))
        vocabulary = self.vocabulary_
        rng = seeded_draws(seed)
        device = next(self.network_.parameters()).device
        draws = torch.Generator(device=device).manual_seed(seed)
        tokens = np.zeros((n, vocabulary.length), dtype=np.int64)
        batch = self._batch_rows()
        for rows, fields, given in self._groups(n, conditions):
            order = _writing_order(vocabulary, fields)
            for start in range(0, len(rows), batch):
                part = rows[start : start + batch]
                prefix = None if given is None else torch.from_numpy(given[start : start + len(part)])
                written = self._write_batch(len(part), order, prefix, draws, device)
                tokens[part] = written.cpu().numpy()
        return vocabulary.decode(tokens, rng)

    def _batch_rows(self) -> int:
        cfg, vocabulary = self.config, self.vocabulary_
        per_row = 2 * 4 * cfg.depth * cfg.width * (vocabulary.length + 1)
        return max(1, min(cfg.sample_batch, _CACHE_BYTES // per_row))

    def _groups(self, n: int, conditions: pd.DataFrame | None):
        """Rows that share which columns are given: (row ids, given field names, their tokens)."""
        if conditions is None:
            yield np.arange(n), [], None
            return
        vocabulary = self.vocabulary_
        names = [f.name for f in vocabulary.fields if f.name in conditions.columns]
        pattern = conditions[names].notna().to_numpy() if names else np.zeros((n, 0), dtype=bool)
        keys, inverse = np.unique(pattern, axis=0, return_inverse=True)
        for key_index, key in enumerate(keys):
            rows = np.flatnonzero(inverse.reshape(-1) == key_index)
            fields = [name for name, on in zip(names, key, strict=True) if on]
            if not fields:
                yield rows, [], None
                continue
            blocks = [vocabulary.encode_field(name, conditions[name].iloc[rows]) for name in fields]
            yield rows, fields, np.concatenate(blocks, axis=1)

    def _write_batch(self, rows: int, order: list[int], prefix, draws, device):
        """Write `rows` rows slot by slot in `order`; the first `prefix.shape[1]` slots are given."""
        import torch

        from synthwright.generators.llm.draw import draw
        from synthwright.generators.llm.tokens import BOS, SlotRules

        cfg, vocabulary, net = self.config, self.vocabulary_, self.network_
        slots = vocabulary.slots()
        length = len(order)
        out = torch.zeros(rows, length, dtype=torch.long, device=device)
        rules = SlotRules(vocabulary, rows, device)
        given = 0 if prefix is None else prefix.shape[1]
        order_t = torch.tensor(order, device=device)
        with torch.inference_mode():
            cache = net.new_cache(rows, length + 1, device)
            inputs = torch.full((rows, 1 + given), BOS, dtype=torch.long, device=device)
            here = torch.full((rows, 1 + given), net.start_slot, dtype=torch.long, device=device)
            if given:
                prefix = prefix.to(device)
                inputs[:, 1:] = prefix
                here[:, 1:] = order_t[:given]
                out[:, order_t[:given]] = prefix
            upcoming = order_t[: 1 + given].expand(rows, -1) if given < length else None
            if upcoming is None:
                return out
            hidden = net.hidden(inputs, here, upcoming, cache, 0)[:, -1]
            for position in range(given, length):
                slot_id = order[position]
                slot = slots[slot_id]
                logits = net.logits_in(hidden, slot.low, slot.high).float()
                allowed = rules.allowed(slot_id)
                chosen = slot.low + draw(
                    logits,
                    allowed,
                    temperature=cfg.temperature,
                    top_k=cfg.top_k,
                    top_p=cfg.top_p,
                    generator=draws,
                )
                rules.record(slot_id, chosen)
                out[:, slot_id] = chosen
                if position + 1 < length:
                    hidden = net.hidden(
                        chosen[:, None],
                        torch.full((rows, 1), slot_id, device=device),
                        torch.full((rows, 1), order[position + 1], device=device),
                        cache,
                        position + 1,
                    )[:, -1]
        return out

    # ---- save and load ------------------------------------------------------------------------

    def _save(self, folder: Path) -> list[str]:
        from synthwright.generators.neural.weights import save_weights

        if self.config.base_model is not None:
            model, tokenizer = self.base_
            model.save_pretrained(folder / MODEL_FOLDER)
            tokenizer.save_pretrained(folder / MODEL_FOLDER)
            (folder / SENTENCES_FILE).write_text(json.dumps(self.writer_.format.model_dump(mode="json")))
            (folder / TRAINING_FILE).write_text(json.dumps(self.training_, indent=2))
            saved = sorted(
                str(p.relative_to(folder)) for p in (folder / MODEL_FOLDER).rglob("*") if p.is_file()
            )
            return [*saved, SENTENCES_FILE, TRAINING_FILE]

        save_weights(folder / WEIGHTS_FILE, {"transformer": self.network_})
        (folder / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary_.model_dump(mode="json")))
        (folder / TRAINING_FILE).write_text(json.dumps(self.training_, indent=2))
        return [WEIGHTS_FILE, VOCABULARY_FILE, TRAINING_FILE]

    def _load(self, folder: Path, contract: Contract) -> None:
        from synthwright.generators.llm.tokens import RowVocabulary
        from synthwright.generators.neural.device import resolve_device
        from synthwright.generators.neural.weights import restore_weights

        device = resolve_device(self.device)
        if self.config.base_model is not None:
            from synthwright.generators.llm import pretrained

            self.libraries = ("torch", "transformers")
            self.base_ = pretrained.load_pretrained(folder / MODEL_FOLDER, device)
            sentences = pretrained.SentenceFormat.model_validate_json((folder / SENTENCES_FILE).read_text())
            self.writer_ = pretrained.Writer(sentences, self.base_[1])
            self.training_ = json.loads((folder / TRAINING_FILE).read_text())
            return
        vocabulary = RowVocabulary.model_validate_json((folder / VOCABULARY_FILE).read_text())
        net = restore_weights(lambda: self._network(vocabulary), folder / WEIGHTS_FILE, "transformer", device)
        self.vocabulary_ = vocabulary
        self.network_ = net.to(device).eval()
        self.training_ = json.loads((folder / TRAINING_FILE).read_text())


class _Layout:
    """Training orders: most rows in the vocabulary's order; on a share, a random subset of fields
    first (as conditions are written when sampling). Slots keep their ids whatever the order."""

    def __init__(self, vocabulary, device):
        import torch

        from synthwright.generators.llm.tokens import BOS

        self.torch, self.device, self.bos = torch, device, BOS
        field_of = [i for i, f in enumerate(vocabulary.fields) for _ in range(f.slots)]
        self.field_of_slot = torch.tensor(field_of, dtype=torch.long, device=device)
        self.n_fields = len(vocabulary.fields)
        self.length = vocabulary.length
        self.positions = torch.arange(self.length, device=device)
        # slots that share a token range are scored together (text characters, digits of one base);
        # a slot with a single possible token teaches nothing and is left out
        groups: dict[tuple[int, int], list[int]] = {}
        for slot_id, slot in enumerate(vocabulary.slots()):
            if slot.high - slot.low > 1:
                groups.setdefault((slot.low, slot.high), []).append(slot_id)
        self.groups = [(low, high, torch.tensor(ids, device=device)) for (low, high), ids in groups.items()]
        self.scored = sum(len(ids) for ids in groups.values())

    def training_orders(self, rows: int, share: float):
        """Slot ids in writing order, per row (rows × slots)."""
        torch = self.torch
        conditioned = torch.rand(rows, 1, device=self.device) < share
        chance = torch.rand(rows, 1, device=self.device)
        first = (torch.rand(rows, self.n_fields, device=self.device) < chance) & conditioned
        rank = torch.arange(self.n_fields, device=self.device) + (~first) * self.n_fields
        keys = rank[:, self.field_of_slot] * self.length + self.positions
        return keys.argsort(dim=1)

    def loss(self, net, rows, slots):
        """Mean cross entropy of each slot's token, over the slot's own token range only.

        `rows` are token rows in the vocabulary's order, `slots` the order each row is written in."""
        torch = self.torch
        size = rows.shape[0]
        written = rows.gather(1, slots)
        inputs = torch.cat([torch.full((size, 1), self.bos, device=self.device), written[:, :-1]], dim=1)
        start = torch.full((size, 1), net.start_slot, device=self.device)
        hidden = net.hidden(inputs, torch.cat([start, slots[:, :-1]], dim=1), slots)
        # the hidden state that predicts slot s, for every s: position of s in each row's order
        where = slots.argsort(dim=1)
        by_slot = hidden.gather(1, where[..., None].expand(-1, -1, hidden.shape[-1]))
        total = hidden.new_zeros(())
        for low, high, ids in self.groups:
            logits = net.logits_in(by_slot[:, ids], low, high)
            targets = rows[:, ids] - low
            total = total + torch.nn.functional.cross_entropy(
                logits.flatten(0, 1), targets.flatten(), reduction="sum"
            )
        return total / (size * max(self.scored, 1))


def _writing_order(vocabulary, given: list[str]) -> list[int]:
    """Slot ids: the given fields' slots first (vocabulary order), then the rest."""
    starts = vocabulary.field_starts()
    first, rest = [], []
    for index, field in enumerate(vocabulary.fields):
        span = list(range(starts[index], starts[index] + field.slots))
        (first if field.name in given else rest).extend(span)
    return first + rest


class _Trainer:
    """One optimisation step of the from-scratch model: AdamW with the gradient's norm clipped at 1."""

    def __init__(self, net, layout, cfg: LLMConfig):
        import torch

        self.net, self.layout, self.cfg = net, layout, cfg
        self.optimiser = torch.optim.AdamW(
            net.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay, fused=True
        )
        self.steps = 0

    def step(self, rows, learning_rate: float) -> float:
        """Train on a batch of token rows; returns its loss."""
        import torch

        slots = self.layout.training_orders(len(rows), self.cfg.conditioned_share)
        loss = self.layout.loss(self.net, rows, slots)
        for group in self.optimiser.param_groups:
            group["lr"] = learning_rate
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.optimiser.step()
        self.steps += 1
        return float(loss.detach())
