"""Model columns ↔ rows of tokens for the from-scratch transformer, and the rules that keep a row valid.

The vocabulary is built from the contract and the training data, one token set per column:
  - a category (or boolean) is one token per value seen in training (null and the pooled rare values
    included, as CTGAN/TVAE pool them);
  - a number (a datetime in days or seconds) is counted in *units* from the bottom of its range
    (1 for integers, 10^-d for floats written with d decimals, a day for date-only columns), so every
    value on that grid between the range's ends can be written. Its first token is a *bin* of
    consecutive counts (every training value its own bin when there are few, else quantile bins of the
    training values, the widest then split while bins are left; the bins tile the whole range),
    followed by `digits` tokens that write the offset inside the bin, most significant first, in the
    smallest base (≤ `max_radix`) that needs no more digits. A null is a bin token of its own;
  - a free-text column is written character by character (the characters seen in training) and ends
    with an END token; PAD fills the rest of its `max_length + 1` positions.
Every row has the same positions ("slots") in the same order (text columns last), so a batch needs no
padding and a slot says which column and which part of it comes next. Each slot owns a contiguous
range of token ids; `SlotRules` narrows it further while a row is written (a bin's offset may not run
past the bin's end, nothing but PAD after a text's END), which is what makes every sampled row valid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.generators.neural.encoding import (
    DiscreteEncoding,
    as_seconds,
    codes_of,
    fit_discrete,
    labels_of,
)
from synthwright.generators.timestamps import datetimes_from_seconds, timestamp_seconds

BOS = 0  # token id that starts every row
_DAY = 86_400
_MAX_COUNT = 2**53  # counts stay exact in float64 (and far inside int64)


class CategoryField(BaseModel):
    """One token per value seen in training (the pooled rare values share one, decoded by a draw)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["category"] = "category"
    name: str
    first: int
    encoding: DiscreteEncoding

    @property
    def size(self) -> int:
        return self.encoding.width

    @property
    def slots(self) -> int:
        return 1


class NumberField(BaseModel):
    """A number as a count of units from `base`: a bin token, then the offset inside the bin in digits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["number"] = "number"
    name: str
    first: int
    datetime: bool
    unit: float  # value = (base + count) * unit; datetimes in seconds
    decimals: int  # floats are rounded to this many decimals on the way out
    base: int
    top: int  # the largest count (the range's top is (base + top) * unit)
    edges: list[int]  # first count of each bin, ascending, edges[0] == 0
    has_nulls: bool
    all_null: bool = False
    radix: int  # base of the offset digits (the smallest that writes every offset in `digits` digits)
    digits: int  # offset tokens after the bin token

    @property
    def size(self) -> int:
        return len(self.edges) + (1 if self.has_nulls else 0)

    @property
    def slots(self) -> int:
        return 1 + self.digits

    @property
    def null_bin(self) -> int | None:
        return len(self.edges) if self.has_nulls else None

    def widths(self) -> np.ndarray:
        """Counts per bin (the null bin holds one: its offset is always 0)."""
        ends = np.append(np.asarray(self.edges[1:], dtype=np.int64), self.top + 1)
        widths = ends - np.asarray(self.edges, dtype=np.int64)
        return np.append(widths, 1) if self.has_nulls else widths

    def offset_limits(self) -> np.ndarray:
        """Per bin, the digits of its largest offset (width - 1): the bound the digits are held to."""
        return _digits_of(self.widths() - 1, self.radix, self.digits)


class TextField(BaseModel):
    """Free text, one token per character; END closes it, PAD fills what is left, NULL for a null."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["text"] = "text"
    name: str
    first: int
    chars: list[str]
    max_length: int
    has_nulls: bool

    @property
    def end(self) -> int:
        return self.first + len(self.chars)

    @property
    def null(self) -> int:
        return self.end + 1

    @property
    def pad(self) -> int:
        return self.end + 2

    @property
    def size(self) -> int:
        return len(self.chars) + 3

    @property
    def slots(self) -> int:
        return self.max_length + 1


Field_ = Annotated[CategoryField | NumberField | TextField, Field(discriminator="kind")]


@dataclass(frozen=True)
class Slot:
    """One position of a row: which field, which part of it, and the token ids it may hold."""

    field: int
    part: int
    low: int
    high: int  # exclusive


class RowVocabulary(BaseModel):
    """The fitted vocabulary: fields in writing order (text last), shared digit tokens, the size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[Field_]
    digit_first: int
    radix: int  # digit tokens shared by all numbers (each uses the first `field.radix` of them)
    size: int

    # ---- layout ---------------------------------------------------------------------------------

    def slots(self) -> list[Slot]:
        found = []
        for index, field in enumerate(self.fields):
            if isinstance(field, NumberField):
                found.append(Slot(index, 0, field.first, field.first + field.size))
                found += [
                    Slot(index, part, self.digit_first, self.digit_first + field.radix)
                    for part in range(1, field.slots)
                ]
            else:
                found += [
                    Slot(index, part, field.first, field.first + field.size) for part in range(field.slots)
                ]
        return found

    def field_starts(self) -> list[int]:
        """The first slot of each field."""
        starts, position = [], 0
        for field in self.fields:
            starts.append(position)
            position += field.slots
        return starts

    @property
    def length(self) -> int:
        return sum(field.slots for field in self.fields)

    def field_index(self) -> dict[str, int]:
        return {field.name: i for i, field in enumerate(self.fields)}

    # ---- fit ------------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        data: pd.DataFrame,
        contract: Contract,
        *,
        max_categories: int,
        max_bins: int,
        max_radix: int,
        max_decimals: int,
        max_text_length: int,
    ) -> RowVocabulary:
        fields: list[Any] = []
        first = BOS + 1
        for column in text_last(contract):
            values = data[column.name]
            if column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
                encoding, _ = fit_discrete(column, values, max_categories)
                field: Any = CategoryField(name=column.name, first=first, encoding=encoding)
            elif column.kind is ColumnKind.TEXT:
                field = _fit_text(column, values, first, max_text_length)
            else:
                field = _fit_number(column, values, first, max_bins, max_radix, max_decimals)
            fields.append(field)
            first += field.size
        radix = max([f.radix for f in fields if isinstance(f, NumberField) and f.digits], default=0)
        return cls(fields=fields, digit_first=first, radix=radix, size=first + radix)

    # ---- rows ↔ tokens --------------------------------------------------------------------------

    def encode(self, data: pd.DataFrame) -> np.ndarray:
        """Model columns → token ids (rows × slots), in the vocabulary's field order."""
        blocks = [self._encode_field(field, data[field.name]) for field in self.fields]
        if not blocks:
            return np.zeros((len(data), 0), dtype=np.int64)
        return np.concatenate(blocks, axis=1)

    def encode_field(self, name: str, values: pd.Series) -> np.ndarray:
        """One column's values (no nulls) → its token ids; raises ConfigError for a value it cannot write."""
        field = self.fields[self.field_index()[name]]
        if isinstance(field, CategoryField):
            codes = codes_of(field.encoding, values)
            if (codes < 0).any():
                unseen = values[codes < 0].iloc[0]
                raise ConfigError(
                    f"condition {name}={unseen!r}: the contract allows this value but it never occurs in "
                    "the training data, so the model cannot write it",
                    hint="ask for a value seen in training, or fit on data that holds it",
                )
        if isinstance(field, TextField):
            unknown = {ch for text in values.astype(str) for ch in text} - set(field.chars)
            if unknown:
                raise ConfigError(
                    f"condition on text column {name!r}: character(s) {sorted(unknown)[:5]} never occur in "
                    "its training data, so the model cannot write them",
                    hint="condition on text made of characters seen in training",
                )
        return self._encode_field(field, values)

    def _encode_field(self, field: Any, values: pd.Series) -> np.ndarray:
        n = len(values)
        if isinstance(field, CategoryField):
            codes = codes_of(field.encoding, values)
            if (codes < 0).any():
                raise ValueError(f"column {field.name!r} holds values the vocabulary never saw")
            return (field.first + codes).reshape(n, 1)
        if isinstance(field, NumberField):
            x = as_seconds(values)
            missing = np.isnan(x)
            counts = np.zeros(n, dtype=np.int64)
            counts[~missing] = _counts_of(x[~missing], field.unit, field.base, field.top)
            edges = np.asarray(field.edges, dtype=np.int64)
            bins = np.searchsorted(edges, counts, side="right") - 1
            offsets = counts - edges[bins]
            if field.has_nulls:
                bins = np.where(missing, field.null_bin, bins)
                offsets = np.where(missing, 0, offsets)
            digits = _digits_of(offsets, field.radix, field.digits) + self.digit_first
            return np.concatenate([(field.first + bins).reshape(n, 1), digits], axis=1)
        index = {ch: field.first + i for i, ch in enumerate(field.chars)}
        out = np.full((n, field.slots), field.pad, dtype=np.int64)
        for row, value in enumerate(values.astype(object)):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                out[row, 0] = field.null
                continue
            text = str(value)[: field.max_length]
            out[row, : len(text)] = [index[ch] for ch in text]
            out[row, len(text)] = field.end
        return out

    def decode(self, tokens: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Token ids (rows × slots, the vocabulary's order) → model columns."""
        out: dict[str, pd.Series] = {}
        for field, start in zip(self.fields, self.field_starts(), strict=True):
            block = tokens[:, start : start + field.slots] - field.first
            if isinstance(field, CategoryField):
                out[field.name] = labels_of(field.encoding, block[:, 0], rng)
            elif isinstance(field, NumberField):
                out[field.name] = _decode_number(
                    field, block[:, 0], tokens[:, start + 1 : start + field.slots] - self.digit_first
                )
            else:
                out[field.name] = _decode_text(field, block)
        return pd.DataFrame(out)


# ---- constrained decoding ------------------------------------------------------------------------


class SlotRules:
    """What each slot may hold, given what the row holds so far; state per row, vectorised.

    One object per batch whose rows share a layout (the order fields are written in). `allowed`
    returns a boolean mask over the slot's token range; `record` updates the state with the chosen
    tokens (also for tokens given as conditions).
    """

    def __init__(self, vocabulary: RowVocabulary, rows: int, device: Any):
        import torch

        self.vocabulary, self.torch = vocabulary, torch
        self.slots = vocabulary.slots()
        self.rows = rows
        self.limits = {
            i: torch.from_numpy(f.offset_limits()).to(device)
            for i, f in enumerate(vocabulary.fields)
            if isinstance(f, NumberField) and f.digits
        }
        self.tight = torch.ones(rows, dtype=torch.bool, device=device)
        self.limit = None  # the current number's offset bound, digit by digit
        self.finished = torch.zeros(rows, dtype=torch.bool, device=device)
        self.digit_values = torch.arange(max(vocabulary.radix, 1), device=device)

    def allowed(self, slot_id: int):
        """Boolean (rows × slot range) of the tokens each row may write next; None when all may."""
        torch = self.torch
        slot = self.slots[slot_id]
        field = self.vocabulary.fields[slot.field]
        if isinstance(field, NumberField) and slot.part:
            bound = self.limit[:, slot.part - 1]
            values = self.digit_values[: field.radix]
            return ~self.tight[:, None] | (values[None, :] <= bound[:, None])
        if isinstance(field, TextField):
            width = slot.high - slot.low
            mask = torch.zeros(self.rows, width, dtype=torch.bool, device=self.tight.device)
            pad, end, null = field.pad - slot.low, field.end - slot.low, field.null - slot.low
            if slot.part < field.max_length:
                mask[:, : len(field.chars)] = True
            mask[:, end] = True
            if slot.part == 0 and field.has_nulls:
                mask[:, null] = True
            if slot.part:
                mask[self.finished] = False
                mask[self.finished, pad] = True
            return mask
        return None

    def record(self, slot_id: int, tokens) -> None:
        torch = self.torch
        slot = self.slots[slot_id]
        field = self.vocabulary.fields[slot.field]
        if isinstance(field, NumberField) and field.digits:
            if slot.part == 0:
                self.limit = self.limits[slot.field][tokens - field.first]
                self.tight = torch.ones_like(self.tight)
            else:
                digit = tokens - self.vocabulary.digit_first
                self.tight = self.tight & (digit == self.limit[:, slot.part - 1])
        elif isinstance(field, TextField):
            if slot.part == 0:
                self.finished = torch.zeros_like(self.finished)
            self.finished = self.finished | (tokens == field.end) | (tokens == field.null)


# ---- fitting a field -----------------------------------------------------------------------------


def _fit_number(
    column: Column, values: pd.Series, first: int, max_bins: int, max_radix: int, max_decimals: int
) -> NumberField:
    x = as_seconds(values)
    present = x[~np.isnan(x)]
    unit, decimals, base, top = number_grid(column, present, max_decimals)
    span = top - base
    edges = _bin_edges(_counts_of(present, unit, base, span), span, max_bins)
    widths = np.append(edges[1:], span + 1) - edges
    largest = int(widths.max() - 1)
    digits = 0
    while max_radix**digits <= largest:
        digits += 1
    radix = _smallest_radix(largest, digits) if digits else 2
    return NumberField(
        name=column.name,
        first=first,
        datetime=column.kind is ColumnKind.DATETIME,
        unit=unit,
        decimals=decimals,
        base=base,
        top=span,
        edges=edges.tolist(),
        has_nulls=bool(np.isnan(x).any()),
        all_null=present.size == 0,
        radix=radix,
        digits=digits,
    )


def number_grid(column: Column, present: np.ndarray, max_decimals: int) -> tuple[float, int, int, int]:
    """How a number column is written: (unit, decimals, first count, last count), value = count × unit.

    The range is the contract's where it says, else the training values'. A float range narrower than
    one unit is written with more decimals; a range with no writable value, or too wide to count
    exactly, is a ConfigError."""
    unit, decimals = unit_of(column, present, max_decimals)
    low = bound_seconds(column.min) if column.min is not None else (present.min() if present.size else 0.0)
    high = bound_seconds(column.max) if column.max is not None else (present.max() if present.size else low)
    base, top = count_range(low, high, unit)
    while top < base and decimals < 12 and column.kind is ColumnKind.FLOAT:
        decimals += 1  # a range narrower than one unit: write finer
        unit = 10.0**-decimals
        base, top = count_range(low, high, unit)
    if top < base:
        raise ConfigError(
            f"column {column.name!r}: its range [{column.min}, {column.max}] holds no value the llm "
            "generator can write",
            hint="widen the contract's range for this column",
        )
    if top - base > _MAX_COUNT:
        raise ConfigError(
            f"column {column.name!r}: its range is too wide to write at {decimals} decimal(s)",
            hint="narrow the contract's min/max, or lower max_decimals",
        )
    return unit, decimals, base, top


def text_last(contract: Contract) -> list[Column]:
    """The columns in writing order: free text last, so it is written knowing the rest of the row."""
    return [c for c in contract.columns if c.kind is not ColumnKind.TEXT] + [
        c for c in contract.columns if c.kind is ColumnKind.TEXT
    ]


def number_values(x: np.ndarray, decimals: int, datetime: bool) -> pd.Series:
    """Written numbers (NaN for null; datetimes in seconds) → a model column."""
    if datetime:
        return datetimes_from_seconds(x)
    return pd.Series(np.round(x, decimals) if decimals else x, dtype="float64")


def _bin_edges(counts: np.ndarray, span: int, max_bins: int) -> np.ndarray:
    """First counts of the bins: one bin per count when the range has at most `max_bins` of them,
    else quantile bins of the training counts, then the widest bins halved while bins are left (so the
    offsets need as few digits as possible)."""
    if span + 1 <= max_bins:
        return np.arange(span + 1, dtype=np.int64)
    edges = np.unique(np.concatenate([[0], counts])).astype(np.int64)
    if edges.size > max_bins:  # quantile bins; the first always starts at 0
        levels = np.linspace(0.0, 1.0, max_bins)[:-1]
        quantiles = np.quantile(counts, levels, method="inverted_cdf").astype(np.int64)
        edges = np.unique(np.concatenate([[0], quantiles])).astype(np.int64)
    if edges.size < max_bins:
        ends = np.append(edges[1:], span + 1)
        widths = ends - edges
        # split the widest bins into equal parts, as many parts as the remaining bins allow
        budget = max_bins - edges.size
        parts = np.ones(edges.size, dtype=np.int64)
        for _ in range(budget):
            widest = int(np.argmax(widths / parts))
            if widths[widest] / parts[widest] <= 1:
                break
            parts[widest] += 1
        extra = [
            edges[i] + (widths[i] * np.arange(1, parts[i]) // parts[i]) for i in np.flatnonzero(parts > 1)
        ]
        edges = np.unique(np.concatenate([edges, *extra])).astype(np.int64)
    return edges


def _smallest_radix(largest: int, digits: int) -> int:
    """The smallest base in which `digits` digits write every offset up to `largest`."""
    radix = max(2, int(math.ceil((largest + 1) ** (1.0 / digits))) - 1)
    while radix**digits <= largest:
        radix += 1
    return radix


def unit_of(column: Column, present: np.ndarray, max_decimals: int) -> tuple[float, int]:
    """The grid a number is written on: whole units for integers and dates, the fewest decimals (at
    most `max_decimals`) that hold every training value for floats, the coarsest of a day, an hour,
    a minute or a second that holds every training timestamp."""
    if column.kind is ColumnKind.INTEGER:
        return 1.0, 0
    if column.kind is ColumnKind.DATETIME:
        if column.is_date_only:
            return float(_DAY), 0
        for unit in (_DAY, 3600, 60):
            if present.size and np.all(np.mod(present, unit) == 0):
                return float(unit), 0
        return 1.0, 0
    for decimals in range(max_decimals + 1):
        scaled = present * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) <= _slack(scaled)):
            return 10.0**-decimals, decimals
    return 10.0**-max_decimals, max_decimals


def _slack(counts: Any) -> Any:
    """How far a value may sit from a whole count and still be that count: float64 rounding only
    (a few units in the last place), never a fraction of a unit."""
    return 16 * np.spacing(np.abs(counts))


def count_range(low: float, high: float, unit: float) -> tuple[int, int]:
    """The first and last whole counts of `unit` inside [low, high] (ends on the grid included)."""
    first, last = low / unit, high / unit
    return math.ceil(first - float(_slack(first))), math.floor(last + float(_slack(last)))


def bound_seconds(bound: Any) -> float:
    if isinstance(bound, int | float):
        return float(bound)
    return timestamp_seconds(bound)


def _fit_text(column: Column, values: pd.Series, first: int, max_length: int) -> TextField:
    texts = values.dropna().astype(str)
    chars = sorted({ch for text in texts for ch in text})
    longest = int(texts.str.len().max()) if len(texts) else 0
    return TextField(
        name=column.name,
        first=first,
        chars=chars,
        max_length=max(1, min(max_length, longest)),
        has_nulls=bool(values.isna().any()),
    )


# ---- helpers -------------------------------------------------------------------------------------


def _counts_of(x: np.ndarray, unit: float, base: int, span: int) -> np.ndarray:
    """Values → their counts of `unit` above `base`, held inside [0, span]."""
    return np.clip(np.round(x / unit).astype(np.int64) - base, 0, span)


def _digits_of(numbers: np.ndarray, radix: int, digits: int) -> np.ndarray:
    """Numbers → their `digits` base-`radix` digits, most significant first (rows × digits)."""
    numbers = np.asarray(numbers, dtype=np.int64)
    out = np.zeros((len(numbers), digits), dtype=np.int64)
    rest = numbers.copy()
    for position in range(digits - 1, -1, -1):
        out[:, position] = rest % radix
        rest //= radix
    return out


def _decode_number(field: NumberField, bins: np.ndarray, digits: np.ndarray) -> pd.Series:
    edges = np.append(np.asarray(field.edges, dtype=np.int64), 0)  # the null bin's edge is unused
    offsets = np.zeros(len(bins), dtype=np.int64)
    for position in range(field.digits):
        offsets = offsets * field.radix + digits[:, position]
    counts = edges[bins] + offsets
    x = (field.base + counts).astype(np.float64) * field.unit
    if field.all_null:
        x = np.full(len(bins), np.nan)
    elif field.has_nulls:
        x = np.where(bins == field.null_bin, np.nan, x)
    return number_values(x, 0 if field.datetime else field.decimals, field.datetime)


def _decode_text(field: TextField, block: np.ndarray) -> pd.Series:
    chars = np.array(field.chars + ["", "", ""], dtype=object)
    values = []
    for row in block:
        if row[0] == len(field.chars) + 1:  # NULL
            values.append(None)
            continue
        ends = np.flatnonzero(row >= len(field.chars))
        stop = ends[0] if ends.size else len(row)
        values.append("".join(chars[row[:stop]]))
    return pd.Series(values, dtype=object)
