"""GReaT-style rows as sentences, for fine-tuning a local Hugging Face causal LM (`base_model: PATH`).

A row is written "age is 39, workclass is State-gov, …" (GReaT, Borisov et al. 2023), its columns in
the contract's order (text last), or with some columns first: on `conditioned_share` of the training
rows a random subset goes first, as conditions are written when sampling. Values are written under
constraint, one token at a time, so every row is valid by construction with no retry loop:
  - a category is one of the token sequences of the values seen in training (a trie walk), ended by
    the comma token; an empty value is a null;
  - a number is written digit by digit (one token per digit, '-' and '.' tokens) with only the digits
    that keep it inside the column's range, in the column's decimals; datetimes are written as whole
    days (or hours, minutes, seconds) since 1970 — valid, if not words a pretrained model knows;
  - free text is any of the tokenizer's ordinary tokens, at most `max_text_length` of them, ended by
    the end-of-text token.
The model folder is read with `local_files_only` and safetensors weights only: nothing is downloaded
and no pickled code runs. The fine-tuned model is saved the same way, beside the sentence format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from synthwright.data_contracts.model import ColumnKind, Contract
from synthwright.errors import ConfigError, MissingDependencyError
from synthwright.generators.llm.tokens import number_grid, number_values, text_last
from synthwright.generators.neural.encoding import (
    OTHER,
    DiscreteEncoding,
    as_seconds,
    codes_of,
    fit_discrete,
    labels_of,
)

MODEL_FOLDER = "model"
_DIGITS = "0123456789"


def require_transformers():
    """The `transformers` module; a clear error naming the extra when it is not installed."""
    try:
        import transformers
    except ImportError as exc:
        raise MissingDependencyError(
            "the llm generator's base_model option needs the Hugging Face `transformers` library",
            hint="install the extra: pip install 'synthwright[llm]' (or leave base_model out: from scratch)",
        ) from exc
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # our own progress reports the work
    return transformers


def context_length(model: Any) -> int | None:
    """The model's context window in tokens, if its config says."""
    config = model.config
    for name in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def load_pretrained(path: Path | str, device: Any):
    """A causal LM and its tokenizer from a local folder: no download, safetensors only, no remote code."""
    transformers = require_transformers()
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise ConfigError(
            f"base_model {str(folder)!r} is not a Hugging Face model folder (no config.json)",
            hint="point base_model at a folder written by save_pretrained (models are never downloaded)",
        )
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            folder, local_files_only=True, use_safetensors=True, trust_remote_code=False
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"base_model {str(folder)!r} could not be loaded: {exc}",
            hint="the folder needs a causal LM in safetensors format and its tokenizer (save_pretrained)",
        ) from exc
    return model.to(device), tokenizer


# ---- the sentence format (fitted, saved as JSON) ----------------------------------------------------


class SentenceField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["category", "number", "text"]
    name: str
    encoding: DiscreteEncoding | None = None  # categories
    datetime: bool = False  # numbers: value = count * unit, count in [low, high]
    unit: float = 1.0
    decimals: int = 0
    low: int = 0
    high: int = 0
    has_nulls: bool = False
    all_null: bool = False


class SentenceFormat(BaseModel):
    """The columns as written in sentences, in writing order (text last)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[SentenceField]
    max_text_tokens: int

    @classmethod
    def fit(
        cls, data: pd.DataFrame, contract: Contract, *, max_categories: int, max_decimals: int, max_text: int
    ) -> SentenceFormat:
        fields = []
        for column in text_last(contract):
            values = data[column.name]
            nulls = bool(values.isna().any())
            if column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
                encoding, _ = fit_discrete(column, values, max_categories)
                fields.append(SentenceField(kind="category", name=column.name, encoding=encoding))
            elif column.kind is ColumnKind.TEXT:
                fields.append(SentenceField(kind="text", name=column.name, has_nulls=nulls))
            else:
                x = as_seconds(values)
                present = x[~np.isnan(x)]
                unit, decimals, low_count, high_count = number_grid(column, present, max_decimals)
                fields.append(
                    SentenceField(
                        kind="number",
                        name=column.name,
                        datetime=column.kind is ColumnKind.DATETIME,
                        unit=unit,
                        decimals=decimals,
                        low=low_count,
                        high=high_count,
                        has_nulls=nulls,
                        all_null=present.size == 0,
                    )
                )
        return cls(fields=fields, max_text_tokens=max_text)


class Writer:
    """Token ids of the format under one tokenizer: the phrases, separators and value sequences."""

    def __init__(self, format_: SentenceFormat, tokenizer: Any):
        self.format, self.tokenizer = format_, tokenizer
        self.eos = tokenizer.eos_token_id
        if self.eos is None:
            raise ConfigError(
                "the base model's tokenizer has no end-of-text token", hint="use a causal LM's tokenizer"
            )
        self.start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else self.eos
        self.comma = self._single(",")
        self.digit = [self._single(d) for d in _DIGITS]
        self.digit_value = {token: i for i, token in enumerate(self.digit)}
        self.minus, self.point = self._single("-"), self._single(".")
        if len({*self.digit, self.minus, self.point, self.comma}) != 13:
            raise ConfigError(
                "the base model's tokenizer does not tell the digits, '-', '.' and ',' apart "
                "(some read as the same token, e.g. its unknown token)",
                hint="use a tokenizer with a token of its own for each of them",
            )
        self.phrases = [(self._ids(f"{f.name} is "), self._ids(f" {f.name} is ")) for f in format_.fields]
        # each category's tokens, comma included: what training writes, and what the trie walks
        self.category_ids = {
            i: [[*self._ids(self.category_text(f, s)), self.comma] for s in range(f.encoding.width)]  # type: ignore[union-attr]
            for i, f in enumerate(format_.fields)
            if f.kind == "category"
        }
        self.tries = {
            i: _trie(sequences, format_.fields[i].name) for i, sequences in self.category_ids.items()
        }
        special = set(tokenizer.all_special_ids)
        self.vocabulary = max(len(tokenizer), max(special, default=0) + 1)
        self.text_tokens = np.array([t for t in range(self.vocabulary) if t not in special], dtype=np.int64)

    def fixed_tokens(self) -> int:
        """The most tokens a row can take besides its texts' own (start, phrases, longest values)."""
        total = 1
        for index, field in enumerate(self.format.fields):
            total += max(len(p) for p in self.phrases[index])
            if field.kind == "category":
                total += _depth(self.tries[index])
            elif field.kind == "number":
                scale = 10**field.decimals
                whole = max(len(str(abs(field.low) // scale)), len(str(abs(field.high) // scale)))
                sign = 1 if field.low < 0 else 0
                total += sign + whole + (1 + field.decimals if field.decimals else 0) + 1  # and the comma
            else:
                total += 1  # the end of text
        return total

    def fit_context(self, context: int | None) -> None:
        """Shorten texts so that a whole row fits the model's context window."""
        texts = sum(f.kind == "text" for f in self.format.fields)
        if context is None:
            return
        room = context - self.fixed_tokens()
        if room < texts or room < 1:
            raise ConfigError(
                f"the base model's context window ({context} tokens) is too short for a row of this table "
                f"(at least {self.fixed_tokens() + texts} tokens)",
                hint="use a base model with a longer context, or fewer columns",
            )
        if texts:
            per_text = min(self.format.max_text_tokens, room // texts)
            self.format = self.format.model_copy(update={"max_text_tokens": per_text})

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def _single(self, char: str) -> int:
        ids = self._ids(char)
        problem = None
        if len(ids) != 1:
            problem = f"writes {char!r} as {len(ids)} tokens"
        elif self.tokenizer.decode(ids) != char:
            problem = f"reads {char!r} back as {self.tokenizer.decode(ids)!r} (an unknown token?)"
        if problem:
            raise ConfigError(
                f"the base model's tokenizer {problem}; numbers are written one character per token",
                hint="use a tokenizer with single-character tokens for digits, '-', '.' and ','",
            )
        return ids[0]

    def category_text(self, field: SentenceField, slot: int) -> str:
        value = field.encoding.values[slot]  # type: ignore[union-attr]
        return "" if value is None else "other" if value == OTHER else str(value)

    # ---- values → ids (training and conditions) ---------------------------------------------

    def value_ids(self, index: int, values: pd.Series) -> list[list[int]]:
        field = self.format.fields[index]
        if field.kind == "category":
            codes = codes_of(field.encoding, values)  # type: ignore[arg-type]
            if (codes < 0).any():
                raise ConfigError(
                    f"condition {field.name}={values[codes < 0].iloc[0]!r}: the value never occurs in the "
                    "training data, so the model cannot write it",
                    hint="ask for a value seen in training",
                )
            return [self.category_ids[index][c] for c in codes]
        if field.kind == "text":
            cache: dict[str, list[int]] = {}
            out = []
            for value in values.astype(object):
                if value is None or (not isinstance(value, str) and pd.isna(value)):
                    out.append([self.eos])
                    continue
                if value not in cache:
                    cache[value] = self._ids(str(value))[: self.format.max_text_tokens] + [self.eos]
                out.append(cache[value])
            return out
        x = as_seconds(values)
        out = []
        for v in x:
            if np.isnan(v):
                out.append([self.comma])
                continue
            count = int(np.clip(round(v / field.unit), field.low, field.high))
            out.append([*self._number_tokens(count, field.decimals), self.comma])
        return out

    def _number_tokens(self, count: int, decimals: int) -> list[int]:
        text = f"{abs(count) // 10**decimals}"
        if decimals:
            text += "." + f"{abs(count) % 10**decimals:0{decimals}d}"
        ids = [self.point if ch == "." else self.digit[int(ch)] for ch in text]
        return ([self.minus] if count < 0 else []) + ids

    def row_ids(self, order: list[int], values: list[list[list[int]]], row: int) -> list[int]:
        """A training row: start token, then each field's phrase and value, in `order`."""
        ids = [self.start]
        for position, index in enumerate(order):
            ids += self.phrases[index][1 if position else 0]
            ids += values[index][row]
        return ids

    # ---- constrained writing --------------------------------------------------------------------

    def program(self, order: list[int], given: dict[int, list[int]]) -> RowProgram:
        """What a row writes in `order`: forced phrases and given values, free values under rules."""
        steps: list[Any] = []
        for position, index in enumerate(order):
            steps.append(self.phrases[index][1 if position else 0])
            steps.append(given[index] if index in given else _field_rule(self, index))
        return RowProgram(steps, order, self)


ANY_TEXT = "any text"


class RowProgram:
    """One row being written: a list of forced token lists and value rules, consumed token by token."""

    def __init__(self, steps: list[Any], order: list[int], writer: Writer):
        self.steps, self.order, self.writer = steps, order, writer
        self.step, self.within = 0, 0
        self.values: dict[int, Any] = {}
        self._skip_empty()

    @property
    def done(self) -> bool:
        return self.step >= len(self.steps)

    def allowed(self) -> list[int] | str:
        """Token ids this row may write next (ANY_TEXT: any ordinary token or the end of text)."""
        if self.done:
            return [self.writer.eos]
        current = self.steps[self.step]
        if isinstance(current, list):
            return [current[self.within]]
        return current.allowed()

    def take(self, token: int) -> None:
        if self.done:
            return
        current = self.steps[self.step]
        if isinstance(current, list):
            self.within += 1
            if self.within == len(current):
                self._next()
            return
        current.take(token)
        if current.finished:
            self.values[self.order[self.step // 2]] = current.value
            self._next()

    def _next(self) -> None:
        self.step, self.within = self.step + 1, 0
        self._skip_empty()

    def _skip_empty(self) -> None:
        while not self.done and isinstance(self.steps[self.step], list) and not self.steps[self.step]:
            self.step += 1


def _field_rule(writer: Writer, index: int):
    field = writer.format.fields[index]
    if field.kind == "category":
        return _CategoryRule(writer.tries[index])
    if field.kind == "text":
        return _TextRule(writer, field)
    return _NumberRule(writer, field)


class _CategoryRule:
    def __init__(self, trie: dict):
        self.node, self.finished, self.value = trie, False, None

    def allowed(self) -> list[int]:
        return [t for t in self.node if t is not None]

    def take(self, token: int) -> None:
        self.node = self.node[token]
        if None in self.node:
            self.finished, self.value = True, self.node[None][0]


class _TextRule:
    def __init__(self, writer: Writer, field: SentenceField):
        self.writer, self.field, self.tokens = writer, field, []
        self.finished, self.value = False, None

    def allowed(self) -> list[int] | str:
        if len(self.tokens) >= self.writer.format.max_text_tokens:
            return [self.writer.eos]
        return ANY_TEXT

    def take(self, token: int) -> None:
        if token == self.writer.eos:
            self.finished = True
            if not self.tokens and self.field.has_nulls:
                self.value = None
            else:
                self.value = self.writer.tokenizer.decode(self.tokens, skip_special_tokens=True)
            return
        self.tokens.append(token)


class _NumberRule:
    """Digits that keep the count inside [low, high]: sign, integer part (no leading zeros), point, and
    exactly `decimals` fraction digits; an empty value (comma first) is a null where nulls occur."""

    def __init__(self, writer: Writer, field: SentenceField):
        self.writer, self.field = writer, field
        self.scale = 10**field.decimals
        self.phase = "start"
        self.negative = False
        self.whole, self.whole_digits, self.fraction, self.fraction_digits = 0, 0, 0, 0
        self.finished, self.value = False, None

    def _magnitudes(self) -> tuple[int, int]:
        low, high = self.field.low, self.field.high
        if self.negative:
            return max(-high, 1), -low
        return max(low, 0), high

    def allowed(self) -> list[int]:
        w, f = self.writer, self.field
        if self.phase == "start":
            options = []
            if f.has_nulls or f.all_null:
                options.append(w.comma)
            if f.all_null:
                return options
            if f.low < 0:
                options.append(w.minus)
            if f.high >= 0:
                options += [w.digit[d] for d in self._whole_digits()]
            return options
        if self.phase == "whole":
            options = [w.digit[d] for d in self._whole_digits()]
            low, high = self._magnitudes()
            if self.whole_digits and low // self.scale <= self.whole <= high // self.scale:
                options.append(w.point if f.decimals else w.comma)
            return options
        if self.phase == "fraction":
            if self.fraction_digits == f.decimals:
                return [w.comma]
            return [w.digit[d] for d in self._fraction_digits()]
        return [w.comma]

    def _whole_digits(self) -> list[int]:
        low, high = self._magnitudes()
        q_low, q_high = low // self.scale, high // self.scale
        if low > high or (self.whole_digits and self.whole == 0):
            return []  # no leading zeros
        longest = len(str(q_high))
        found = []
        for digit in range(10):
            prefix, length = self.whole * 10 + digit, self.whole_digits + 1
            if prefix == 0 and length == 1:
                if q_low <= 0:
                    found.append(digit)
                continue
            if any(
                prefix * 10 ** (n - length) <= q_high and (prefix + 1) * 10 ** (n - length) - 1 >= q_low
                for n in range(length, longest + 1)
            ):
                found.append(digit)
        return found

    def _fraction_digits(self) -> list[int]:
        low, high = self._magnitudes()
        base = self.whole * self.scale
        f_low, f_high = max(0, low - base), min(self.scale - 1, high - base)
        rest = self.field.decimals - self.fraction_digits - 1
        return [
            d
            for d in range(10)
            if (self.fraction * 10 + d) * 10**rest <= f_high
            and (self.fraction * 10 + d + 1) * 10**rest - 1 >= f_low
        ]

    def take(self, token: int) -> None:
        w = self.writer
        if token == w.comma:
            self.finished = True
            if self.phase == "start":
                self.value = None
                return
            count = self.whole * self.scale + self.fraction
            self.value = -count if self.negative else count
            return
        if token == w.minus:
            self.negative, self.phase = True, "whole"
        elif token == w.point:
            self.phase = "fraction"
        elif self.phase in ("start", "whole"):
            self.phase = "whole"
            self.whole, self.whole_digits = self.whole * 10 + w.digit_value[token], self.whole_digits + 1
        else:
            self.fraction, self.fraction_digits = (
                self.fraction * 10 + w.digit_value[token],
                self.fraction_digits + 1,
            )


def _depth(node: dict) -> int:
    """Tokens of the longest category sequence in a trie."""
    return max((1 + _depth(child) for token, child in node.items() if token is not None), default=0)


def _trie(sequences: list[list[int]], name: str) -> dict:
    """Token → child node; a node where a category ends holds its slot under None."""
    trie: dict = {}
    for slot, sequence in enumerate(sequences):
        node = trie
        for token in sequence:
            node = node.setdefault(token, {})
        node.setdefault(None, []).append(slot)
    _require_prefix_free(trie, name)
    return trie


def _require_prefix_free(node: dict, name: str) -> None:
    """Each category must end where its tokens end: no two alike, none the start of another."""
    ended = node.get(None, [])
    if len(ended) > 1 or (ended and len(node) > 1):
        raise ConfigError(
            f"column {name!r}: its categories cannot be told apart once written as tokens "
            "(two read the same, or one reads as the start of another followed by a comma)",
            hint="rename the categories so that each reads differently",
        )
    for token, child in node.items():
        if token is not None:
            _require_prefix_free(child, name)


def decode_values(writer: Writer, programs: list[RowProgram], rng: np.random.Generator) -> pd.DataFrame:
    """The values the programs wrote → model columns (given values are filled in by the caller)."""
    out: dict[str, pd.Series] = {}
    for index, field in enumerate(writer.format.fields):
        got = [p.values.get(index) for p in programs]
        if field.kind == "category":
            codes = np.array([0 if v is None else v for v in got], dtype=np.int64)
            out[field.name] = labels_of(field.encoding, codes, rng)  # type: ignore[arg-type]
        elif field.kind == "text":
            out[field.name] = pd.Series(got, dtype=object)
        else:
            x = np.array([np.nan if v is None else v * field.unit for v in got], dtype=np.float64)
            out[field.name] = number_values(x, 0 if field.datetime else field.decimals, field.datetime)
    return pd.DataFrame(out)


# ---- fine-tuning and writing ----------------------------------------------------------------------


def training_order(fields: int, rng: np.random.Generator, share: float) -> list[int]:
    """The contract's order, or on `share` of the rows a random subset of the fields first."""
    if rng.random() >= share:
        return list(range(fields))
    first = rng.random(fields) < rng.random()
    return [i for i in range(fields) if first[i]] + [i for i in range(fields) if not first[i]]


def fine_tune(model, writer: Writer, data: pd.DataFrame, config: Any, clock: Any, rng: np.random.Generator):
    """Causal-LM fine-tuning on the rows written as sentences (padding right, ignored by the loss)."""
    import torch

    fields = writer.format.fields
    values = [writer.value_ids(i, data[f.name]) for i, f in enumerate(fields)]
    device = next(model.parameters()).device
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.fine_tune_learning_rate, weight_decay=config.weight_decay
    )
    n_rows = len(data)
    batch = min(config.batch_size, n_rows)
    model.train()
    for epoch in clock:
        order = rng.permutation(n_rows)
        running, batches = 0.0, 0
        for start in range(0, n_rows, batch):
            rows = [
                writer.row_ids(training_order(len(fields), rng, config.conditioned_share), values, r)
                for r in order[start : start + batch]
            ]
            longest = max(len(r) for r in rows)
            ids = torch.full((len(rows), longest), writer.eos, dtype=torch.long)
            labels = torch.full((len(rows), longest), -100, dtype=torch.long)
            attention = torch.zeros((len(rows), longest), dtype=torch.long)
            for i, row in enumerate(rows):
                ids[i, : len(row)] = torch.tensor(row)
                labels[i, 1 : len(row)] = torch.tensor(row[1:])  # the start token is given, not learned
                attention[i, : len(row)] = 1
            loss = model(
                input_ids=ids.to(device), attention_mask=attention.to(device), labels=labels.to(device)
            ).loss
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            running += float(loss.detach())
            batches += 1
        clock.record(epoch, {"loss": running / max(batches, 1)})
    model.eval()


def write_rows(
    model, writer: Writer, n: int, conditions: pd.DataFrame | None, config: Any, seed: int
) -> list[RowProgram]:
    """`n` rows written under constraint, all rows of a batch one token per step (equal lengths)."""
    import torch

    from synthwright.generators.llm.draw import draw

    fields = writer.format.fields
    given_ids: dict[int, dict[int, list[int]]] = {}  # field → row → the given value's tokens
    if conditions is not None:
        for index, field in enumerate(fields):
            if field.name in conditions.columns:
                rows = np.flatnonzero(conditions[field.name].notna().to_numpy())
                ids = writer.value_ids(index, conditions[field.name].iloc[rows])
                given_ids[index] = dict(zip(rows.tolist(), ids, strict=True))
    programs = []
    for row in range(n):
        given = {i: by_row[row] for i, by_row in given_ids.items() if row in by_row}
        order = [i for i in range(len(fields)) if i in given] + [
            i for i in range(len(fields)) if i not in given
        ]
        programs.append(writer.program(order, given))
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    text_tokens = torch.from_numpy(writer.text_tokens).to(device)
    with torch.inference_mode():
        for start in range(0, n, config.sample_batch):
            batch = programs[start : start + config.sample_batch]
            ids = torch.full((len(batch), 1), writer.start, dtype=torch.long, device=device)
            past = None
            while not all(p.done for p in batch):
                out = model(input_ids=ids, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[:, -1, :].float()
                allowed = torch.zeros_like(logits, dtype=torch.bool)
                for i, program in enumerate(batch):
                    options = program.allowed()
                    if isinstance(options, str):  # ANY_TEXT
                        allowed[i, text_tokens] = True
                        allowed[i, writer.eos] = True
                    else:
                        allowed[i, options] = True
                chosen = draw(
                    logits,
                    allowed,
                    temperature=config.temperature,
                    top_k=config.top_k,
                    top_p=config.top_p,
                    generator=generator,
                )
                for i, program in enumerate(batch):
                    program.take(int(chosen[i]))
                ids = chosen[:, None]
    return programs
