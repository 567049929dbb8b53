"""The llm generator's row vocabulary (synthwright.generators.llm.tokens): model columns ↔ rows of tokens, the
bins and offset digits of numbers, the grid a float is written on, and the rules that keep a sampled row
inside the contract.

encode → decode must give the values back exactly, for every column kind and for any value on the
grid inside the contract's range (seen in training or not). Writing a row slot by slot with random
tokens among the ones `SlotRules` allows must always give a valid row.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import torch

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.errors import ConfigError
from synthwright.generators.llm.tokens import (
    BOS,
    CategoryField,
    NumberField,
    RowVocabulary,
    SlotRules,
    TextField,
    _bin_edges,
    _decode_text,
    _smallest_radix,
    unit_of,
)

ROWS = 400
KNOBS = {
    "max_categories": 1000,
    "max_bins": 256,
    "max_radix": 1024,
    "max_decimals": 6,
    "max_text_length": 64,
}
SMALL_BINS = {**KNOBS, "max_bins": 6, "max_radix": 4}
"""Few bins and a small digit base: every number needs several offset digits."""


def _contract() -> Contract:
    return Contract(
        dataset="llm-tokens",
        columns=[
            Column(
                name="note", kind=ColumnKind.TEXT, nullable=True
            ),  # text first: the vocabulary puts it last
            Column(name="count", kind=ColumnKind.INTEGER, min=-50, max=80),
            Column(name="price", kind=ColumnKind.FLOAT, min=-100.0, max=1000.0),
            Column(name="score", kind=ColumnKind.FLOAT, nullable=True),
            Column(name="level", kind=ColumnKind.INTEGER, nullable=True, min=0, max=10),
            Column(
                name="day",
                kind=ColumnKind.DATETIME,
                format="%Y-%m-%d",
                min=dt.datetime(2023, 12, 1),
                max=dt.datetime(2024, 12, 31),
            ),
            Column(
                name="seen",
                kind=ColumnKind.DATETIME,
                format="%Y-%m-%d %H:%M:%S",
                min=dt.datetime(2023, 1, 1),
                max=dt.datetime(2025, 1, 1),
            ),
            Column(name="hour", kind=ColumnKind.DATETIME, format="%Y-%m-%d %H:%M"),
            Column(name="member", kind=ColumnKind.BOOLEAN),
            Column(
                name="colour", kind=ColumnKind.CATEGORICAL, nullable=True, values=["blue", "green", "red"]
            ),
            Column(name="title", kind=ColumnKind.TEXT),
        ],
    )


def _frame(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """Every kind: even integers only (odd ones never seen), floats with 2 decimals across zero, a
    nullable float with 1 decimal, a nullable integer, dates, timestamps to the second and to the
    hour, booleans, a nullable category, and text with empty strings, nulls and non-ASCII characters."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.normal(0, 5, rows), 1)
    score[rng.random(rows) < 0.2] = np.nan
    level = pd.array(rng.integers(0, 11, rows), dtype="Int64")
    level[rng.random(rows) < 0.15] = pd.NA
    colour = rng.choice(["red", "green", "blue"], rows).astype(object)
    colour[rng.random(rows) < 0.1] = None
    note = rng.choice(["fine", "", "très bien!", "no"], rows).astype(object)
    note[rng.random(rows) < 0.2] = None
    return pd.DataFrame(
        {
            "note": note,
            "count": pd.array(2 * rng.integers(-20, 31, rows), dtype="Int64"),
            "price": np.round(rng.uniform(-20, 500, rows), 2),
            "score": score,
            "level": level,
            "day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, rows), unit="D"),
            "seen": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, rows), unit="s"),
            "hour": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 5000, rows), unit="h"),
            "member": pd.array(rng.random(rows) < 0.4, dtype="boolean"),
            "colour": colour,
            "title": rng.choice(["a", "bb", "ccc d"], rows).astype(object),
        }
    )


def _fit(frame: pd.DataFrame, contract: Contract | list[Column], **knobs) -> RowVocabulary:
    if isinstance(contract, list):
        contract = Contract(dataset="llm-tokens", columns=contract)
    return RowVocabulary.fit(frame, contract, **{**KNOBS, **knobs})


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    """The model columns as decode gives them: numbers as float64 (NaN for null), the rest as they are."""
    out = frame.copy()
    for name in out.columns:
        if str(out[name].dtype) == "Int64":
            out[name] = out[name].astype("float64")
    return out


def _round_trip(vocabulary: RowVocabulary, frame: pd.DataFrame) -> pd.DataFrame:
    return vocabulary.decode(vocabulary.encode(frame), np.random.default_rng(0))


def _assert_same(decoded: pd.DataFrame, frame: pd.DataFrame) -> None:
    expected = _expected(frame)
    for name in frame.columns:
        pd.testing.assert_series_equal(
            decoded[name].reset_index(drop=True),
            expected[name].reset_index(drop=True),
            check_exact=True,
            check_names=False,
            obj=name,
        )


def _field(vocabulary: RowVocabulary, name: str):
    return vocabulary.fields[vocabulary.field_index()[name]]


# ---- layout ----------------------------------------------------------------------------------------


def test_text_fields_come_last_and_every_slot_owns_its_fields_token_range():
    vocabulary = _fit(_frame(), _contract())
    names = [f.name for f in vocabulary.fields]
    assert names[-2:] == ["note", "title"] and sorted(names) == sorted(_contract().names)
    assert all(isinstance(f, TextField) for f in vocabulary.fields[-2:])
    slots = vocabulary.slots()
    assert len(slots) == vocabulary.length == sum(f.slots for f in vocabulary.fields)
    starts = vocabulary.field_starts()
    assert starts == [sum(f.slots for f in vocabulary.fields[:i]) for i in range(len(vocabulary.fields))]
    previous_end = BOS + 1
    for index, field in enumerate(vocabulary.fields):
        assert field.first == previous_end  # fields own disjoint, consecutive token ranges after BOS
        previous_end = field.first + field.size
        own = slots[starts[index] : starts[index] + field.slots]
        assert all(s.field == index for s in own) and [s.part for s in own] == list(range(field.slots))
        assert (own[0].low, own[0].high) == (field.first, field.first + field.size)
        for slot in own[1:]:
            if isinstance(field, NumberField):  # offset digits: the shared digit tokens
                assert (slot.low, slot.high) == (vocabulary.digit_first, vocabulary.digit_first + field.radix)
            else:
                assert (slot.low, slot.high) == (field.first, field.first + field.size)
    assert vocabulary.digit_first == previous_end
    assert vocabulary.size == vocabulary.digit_first + vocabulary.radix
    tokens = vocabulary.encode(_frame())
    assert tokens.dtype == np.int64 and tokens.shape == (ROWS, vocabulary.length)
    for slot_id, slot in enumerate(slots):
        assert ((tokens[:, slot_id] >= slot.low) & (tokens[:, slot_id] < slot.high)).all(), slot


# ---- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("knobs", [KNOBS, SMALL_BINS], ids=["default-bins", "small-bins"])
def test_encode_then_decode_gives_the_training_values_back_exactly(knobs):
    frame = _frame()
    vocabulary = _fit(frame, _contract(), **knobs)
    decoded = _round_trip(vocabulary, frame)
    assert sorted(decoded.columns) == sorted(frame.columns)
    _assert_same(decoded, frame)
    # the cases that matter are in the data: nulls, empty text, non-ASCII text, negatives
    assert decoded["note"].isna().any() and (decoded["note"] == "").any()
    assert (decoded["note"] == "très bien!").any()
    assert decoded["colour"].isna().any() and decoded["score"].isna().any() and decoded["level"].isna().any()
    assert (decoded["count"] < 0).any() and (decoded["price"] < 0).any()
    assert str(decoded["member"].dtype) == "boolean"
    assert str(decoded["day"].dtype) == "datetime64[ns]"


def _unseen(frame: pd.DataFrame) -> pd.DataFrame:
    """Values inside the contract that training never holds: odd integers, the contract's ends, cents
    outside the training range, other days and seconds (on the training grid: seconds, hours)."""
    n = 8
    return pd.DataFrame(
        {
            "note": [None, "", "no", "fine"] * 2,
            "count": pd.array([-50, 80, -1, 1, 3, 57, -49, 79], dtype="Int64"),
            "price": [-100.0, 1000.0, -99.99, 999.99, 0.01, -0.01, 777.77, -20.01],
            "score": [np.nan, -0.3, 0.7, 1.1, 2.3, np.nan, 1.0, -0.1],  # no contract range: training's
            "level": pd.array([0, 10, None, 5, 1, 9, None, 2], dtype="Int64"),
            "day": pd.to_datetime(
                ["2023-12-01", "2024-12-31", "2023-12-02", "2024-12-30"]
                + ["2024-11-11", "2023-12-25", "2024-12-01", "2024-10-28"]
            ),
            "seen": pd.to_datetime(
                [
                    "2023-01-01 00:00:00",
                    "2025-01-01 00:00:00",
                    "2023-01-01 00:00:01",
                    "2024-12-31 23:59:59",
                    "2023-07-04 12:34:56",
                    "2024-06-01 00:00:07",
                    "2023-03-03 03:03:03",
                    "2024-12-12 12:12:12",
                ]
            ),
            "hour": pd.Timestamp("2024-01-01")
            + pd.to_timedelta([17, 4321, 100, 200, 300, 400, 5, 9], unit="h"),
            "member": pd.array([True, False] * 4, dtype="boolean"),
            "colour": ["red", None, "green", "blue"] * 2,
            "title": ["a", "bb", "ccc d", "a"] * 2,
        },
        index=pd.RangeIndex(n),
    )


@pytest.mark.parametrize("knobs", [KNOBS, SMALL_BINS], ids=["default-bins", "small-bins"])
def test_any_value_on_the_grid_inside_the_contract_can_be_written(knobs):
    """Not only training values: odd integers between even training values, the contract's min and max
    far beyond every training value, other cents, days and seconds."""
    frame = _frame()
    vocabulary = _fit(frame, _contract(), **knobs)
    unseen = _unseen(frame)
    training = set(frame["count"].dropna().astype(int))
    assert not set(unseen["count"].dropna().astype(int)) & training  # really never seen
    assert not set(unseen["price"]) & set(frame["price"])
    _assert_same(_round_trip(vocabulary, unseen), unseen)


def test_a_number_field_spans_the_contract_range_not_only_the_training_range():
    vocabulary = _fit(_frame(), _contract())
    count, price, day = (_field(vocabulary, n) for n in ("count", "price", "day"))
    assert (count.unit, count.decimals, count.base, count.top) == (1.0, 0, -50, 130)
    assert (price.unit, price.decimals, price.base, price.top) == (0.01, 2, -10_000, 110_000)
    assert day.datetime and day.unit == 86_400.0
    assert day.top == (pd.Timestamp("2024-12-31") - pd.Timestamp("2023-12-01")).days
    # without a contract range, the training range
    score = _field(vocabulary, "score")
    present = _frame()["score"].dropna()
    assert score.base == round(present.min() * 10) and score.base + score.top == round(present.max() * 10)
    assert score.has_nulls and score.null_bin == len(score.edges)
    assert not count.has_nulls and count.null_bin is None


@pytest.mark.parametrize(
    ("stamps", "unit"),
    [
        (["2024-01-01 10:00:00", "2024-03-05 23:00:00"], 3600.0),
        (["2024-01-01 10:07:00", "2024-03-05 23:00:00"], 60.0),
        (["2024-01-01 10:07:01", "2024-03-05 23:00:00"], 1.0),
        (["2024-01-01 00:00:00", "2024-03-05 00:00:00"], 86_400.0),
    ],
)
def test_a_timestamp_is_written_on_the_coarsest_grid_that_holds_every_training_value(stamps, unit):
    frame = pd.DataFrame({"at": pd.to_datetime(stamps)})
    vocabulary = _fit(frame, [Column(name="at", kind=ColumnKind.DATETIME, format="%Y-%m-%d %H:%M:%S")])
    assert _field(vocabulary, "at").unit == unit
    _assert_same(_round_trip(vocabulary, frame), frame)


def test_a_date_only_column_is_written_in_days_whatever_the_values():
    frame = pd.DataFrame({"d": pd.to_datetime(["1969-07-20", "2024-02-29", "1900-01-01"])})
    vocabulary = _fit(frame, [Column(name="d", kind=ColumnKind.DATETIME, format="%d/%m/%Y")])
    assert _field(vocabulary, "d").unit == 86_400.0
    _assert_same(_round_trip(vocabulary, frame), frame)


def test_a_column_that_is_always_null_decodes_to_nulls():
    frame = pd.DataFrame({"x": [np.nan] * 5, "k": pd.array([1, 2, 3, 4, 5], dtype="Int64")})
    columns = [
        Column(name="x", kind=ColumnKind.FLOAT, nullable=True),
        Column(name="k", kind=ColumnKind.INTEGER),
    ]
    vocabulary = _fit(frame, columns)
    assert _field(vocabulary, "x").all_null
    decoded = _round_trip(vocabulary, frame)
    assert decoded["x"].isna().all() and decoded["k"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_text_longer_than_max_text_length_is_cut():
    frame = pd.DataFrame({"t": ["abcdefghij", "ab", ""]})
    vocabulary = _fit(frame, [Column(name="t", kind=ColumnKind.TEXT)], max_text_length=4)
    field = _field(vocabulary, "t")
    assert field.max_length == 4 and field.slots == 5 and not field.has_nulls
    assert _round_trip(vocabulary, frame)["t"].tolist() == ["abcd", "ab", ""]
    # shorter texts: as many slots as the longest text needs, plus END
    short = _fit(frame, [Column(name="t", kind=ColumnKind.TEXT)], max_text_length=100)
    assert _field(short, "t").max_length == 10


# ---- bins and digits ---------------------------------------------------------------------------------


def test_a_small_range_is_one_bin_per_count_and_needs_no_digits():
    frame = pd.DataFrame({"k": pd.array([2, 3, 3, 7], dtype="Int64")})
    vocabulary = _fit(frame, [Column(name="k", kind=ColumnKind.INTEGER, min=0, max=9)], max_bins=10)
    field = _field(vocabulary, "k")
    assert field.edges == list(range(10)) and field.digits == 0 and field.slots == 1
    assert field.widths().tolist() == [1] * 10
    one_more = _fit(frame, [Column(name="k", kind=ColumnKind.INTEGER, min=0, max=10)], max_bins=10)
    assert _field(one_more, "k").digits >= 1  # 11 counts, 10 bins: an offset digit is needed


def _check_edges(edges: np.ndarray, span: int) -> None:
    assert edges.dtype.kind == "i"
    assert edges[0] == 0, edges
    assert (np.diff(edges) > 0).all(), edges  # strictly ascending: no empty bin
    assert edges[-1] <= span


def test_bins_tile_the_range_and_the_digits_write_every_offset_of_the_widest_bin():
    """Many random ranges, training counts and limits: the bins start at 0, ascend and end inside the
    range; the offset digits (in the smallest base that suffices, at most max_radix) write every offset
    of every bin, and no fewer digits would."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        span = int(rng.choice([1, 5, 50, 1000, 10**6, 10**12]) * rng.uniform(0.5, 1.5))
        max_bins = int(rng.integers(1, 40))
        max_radix = int(rng.integers(2, 200))
        counts = rng.integers(0, span + 1, int(rng.integers(1, 300)))
        if rng.random() < 0.3:  # few distinct values
            counts = rng.choice(counts[:3], len(counts))
        edges = _bin_edges(counts, span, max_bins)
        _check_edges(edges, span)
        if span + 1 <= max_bins:
            assert edges.tolist() == list(range(span + 1))
        if np.unique(counts).size <= max_bins:
            assert set(np.unique(counts)) <= set(edges.tolist())  # every training value starts a bin
        widths = np.append(edges[1:], span + 1) - edges
        largest = int(widths.max() - 1)
        column = Column(name="n", kind=ColumnKind.INTEGER, min=0, max=span)
        vocabulary = _fit(
            pd.DataFrame({"n": pd.array(counts, dtype="Int64")}),
            [column],
            max_bins=max_bins,
            max_radix=max_radix,
        )
        field = _field(vocabulary, "n")
        assert field.edges == edges.tolist() and field.top == span
        if largest == 0:
            assert field.digits == 0
            continue
        assert 2 <= field.radix <= max_radix
        assert field.radix**field.digits > largest  # every offset can be written
        assert max_radix ** (field.digits - 1) <= largest  # and no digit is wasted
        assert (field.radix - 1) ** field.digits <= largest  # the smallest base that does it
        assert field.offset_limits().shape == (len(edges), field.digits)


@pytest.mark.parametrize(("largest", "digits"), [(1, 1), (9, 1), (10, 2), (99, 2), (100, 2), (255, 4)])
def test_the_smallest_radix_writes_the_largest_offset_in_the_given_digits(largest, digits):
    radix = _smallest_radix(largest, digits)
    assert radix**digits > largest
    assert radix == 2 or (radix - 1) ** digits <= largest


def test_a_number_never_has_more_bins_than_max_bins():
    assert len(_bin_edges(np.arange(5, 15), 100, 4)) <= 4
    frame = _frame()
    vocabulary = _fit(frame, _contract(), max_bins=16, max_radix=10)
    for field in vocabulary.fields:
        if isinstance(field, NumberField):
            assert len(field.edges) <= 16, (field.name, len(field.edges))


# ---- the grid of a float -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "max_decimals", "decimals"),
    [
        ([1.25, 2.5, 3.0], 6, 2),
        ([0.1, 0.2, 0.3], 6, 1),  # 0.1 + 0.2 is not 0.3 in binary: still one decimal
        ([1.0, 2.0, -7.0], 6, 0),
        ([0.125, 10.0], 6, 3),
        ([-0.001, 0.002], 6, 3),
        ([1.23456789, 2.0], 3, 3),  # capped
        ([0.333333333333], 6, 6),
        ([12345.67, 99.99], 6, 2),
    ],
)
def test_a_float_gets_the_fewest_decimals_that_hold_every_training_value(values, max_decimals, decimals):
    column = Column(name="f", kind=ColumnKind.FLOAT)
    unit, got = unit_of(column, np.asarray(values), max_decimals)
    assert (got, unit) == (decimals, 10.0**-decimals)


def test_integer_and_date_columns_have_whole_units():
    present = np.array([1.5, 2.5])  # never happens for integers, but the kind decides
    assert unit_of(Column(name="k", kind=ColumnKind.INTEGER), present, 6) == (1.0, 0)
    day = Column(name="d", kind=ColumnKind.DATETIME, format="%Y-%m-%d")
    assert unit_of(day, np.array([3600.0]), 6) == (86_400.0, 0)


def test_large_floats_keep_their_decimals():
    values = [1234567.89, 2345678.12, 3456789.5]
    assert unit_of(Column(name="f", kind=ColumnKind.FLOAT), np.asarray(values), 6) == (0.01, 2)
    frame = pd.DataFrame({"f": values})
    vocabulary = _fit(frame, [Column(name="f", kind=ColumnKind.FLOAT)])
    assert _round_trip(vocabulary, frame)["f"].tolist() == values


def test_a_contract_bound_of_large_magnitude_can_be_written():
    frame = pd.DataFrame({"f": [0.25, 1.5]})  # two decimals
    column = Column(name="f", kind=ColumnKind.FLOAT, min=-9616706.77, max=9616706.77)
    vocabulary = _fit(frame, [column])
    ends = pd.DataFrame({"f": [-9616706.77, 9616706.77]})
    assert _round_trip(vocabulary, ends)["f"].tolist() == [-9616706.77, 9616706.77]


def test_a_contract_range_narrower_than_one_unit_is_written_with_more_decimals():
    frame = pd.DataFrame({"f": [0.5, 0.5]})
    column = Column(name="f", kind=ColumnKind.FLOAT, min=0.2, max=0.7)
    vocabulary = _fit(frame, [column], max_decimals=0)  # 0 decimals: no whole number in [0.2, 0.7]
    field = _field(vocabulary, "f")
    assert field.decimals == 1 and field.top == 5
    ends = pd.DataFrame({"f": [0.2, 0.7, 0.5]})
    assert _round_trip(vocabulary, ends)["f"].tolist() == [0.2, 0.7, 0.5]


def test_a_range_of_tiny_floats_is_written_inside_it_or_refused():
    frame = pd.DataFrame({"f": [1.5e-13, 1.5e-13]})
    column = Column(name="f", kind=ColumnKind.FLOAT, min=1e-13, max=1.9e-13)
    try:
        vocabulary = _fit(frame, [column])
    except ConfigError:
        return
    written = _round_trip(vocabulary, frame)["f"]
    assert ((written >= 1e-13) & (written <= 1.9e-13)).all(), written.tolist()


def test_a_range_that_holds_no_writable_value_is_a_clear_config_error():
    frame = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    column = Column(
        name="d",
        kind=ColumnKind.DATETIME,
        format="%Y-%m-%d",
        min=dt.datetime(2024, 1, 1, 6),
        max=dt.datetime(2024, 1, 1, 18),
    )
    with pytest.raises(ConfigError, match="column 'd': its range .* holds no value") as info:
        _fit(frame, [column])
    assert "widen" in info.value.hint


def test_a_range_too_wide_to_count_exactly_is_a_clear_config_error():
    frame = pd.DataFrame({"f": [0.25, 0.5]})
    column = Column(name="f", kind=ColumnKind.FLOAT, min=-1e14, max=1e14)
    with pytest.raises(ConfigError, match="column 'f': its range is too wide to write at 2 decimal") as info:
        _fit(frame, [column])
    assert "max_decimals" in info.value.hint
    _fit(frame, [column], max_decimals=1)  # fewer decimals fit


# ---- the rules of constrained decoding -------------------------------------------------------------------


def _write(vocabulary: RowVocabulary, rows: int, seed: int, masks: dict | None = None) -> np.ndarray:
    """Write rows slot by slot as a model would, with random tokens among the allowed ones: half the
    time the highest allowed token (to press on every bound), else a uniform one."""
    generator = torch.Generator().manual_seed(seed)
    rules = SlotRules(vocabulary, rows, "cpu")
    out = torch.zeros(rows, vocabulary.length, dtype=torch.long)
    for slot_id, slot in enumerate(vocabulary.slots()):
        width = slot.high - slot.low
        allowed = rules.allowed(slot_id)
        if allowed is None:
            allowed = torch.ones(rows, width, dtype=torch.bool)
        assert allowed.shape == (rows, width) and allowed.any(dim=1).all(), slot
        if masks is not None:
            masks[slot_id] = allowed.clone()
        scores = torch.rand(rows, width, generator=generator)
        highest = torch.rand(rows, 1, generator=generator) < 0.5
        scores = torch.where(highest, torch.arange(width, dtype=torch.float32)[None, :], scores)
        chosen = slot.low + scores.masked_fill(~allowed, -1.0).argmax(dim=1)
        rules.record(slot_id, chosen)
        out[:, slot_id] = chosen
    return out.numpy()


def _numbers(vocabulary: RowVocabulary, tokens: np.ndarray, field: NumberField) -> tuple[np.ndarray, ...]:
    """(bins, offsets) of a number field in token rows."""
    start = vocabulary.field_starts()[vocabulary.fields.index(field)]
    bins = tokens[:, start] - field.first
    offsets = np.zeros(len(tokens), dtype=np.int64)
    for position in range(field.digits):
        offsets = offsets * field.radix + tokens[:, start + 1 + position] - vocabulary.digit_first
    return bins, offsets


@pytest.mark.parametrize("knobs", [KNOBS, SMALL_BINS], ids=["default-bins", "small-bins"])
def test_every_row_written_within_the_rules_is_inside_the_contract(knobs):
    frame, contract = _frame(), _contract()
    vocabulary = _fit(frame, contract, **knobs)
    assert any(isinstance(f, NumberField) and f.digits >= 2 for f in vocabulary.fields)
    for seed in range(3):
        tokens = _write(vocabulary, 3000, seed)
        for field in vocabulary.fields:
            if not isinstance(field, NumberField):
                continue
            bins, offsets = _numbers(vocabulary, tokens, field)
            widths = field.widths()
            assert ((offsets >= 0) & (offsets < widths[bins])).all(), field.name  # inside its bin
            counts = np.append(field.edges, 0)[bins] + offsets
            assert (counts[bins != field.null_bin] <= field.top).all(), field.name
            if field.null_bin is None:
                assert (bins < len(field.edges)).all()
        decoded = vocabulary.decode(tokens, np.random.default_rng(seed))
        for column in contract.columns:
            values = decoded[column.name]
            present = values.dropna()
            if not column.nullable:
                assert values.notna().all(), column.name
            if column.min is not None:
                low = pd.Timestamp(column.min) if column.kind is ColumnKind.DATETIME else column.min
                assert (present >= low).all(), column.name
            if column.max is not None:
                high = pd.Timestamp(column.max) if column.kind is ColumnKind.DATETIME else column.max
                assert (present <= high).all(), column.name
            if column.kind is ColumnKind.INTEGER:
                assert (present == np.round(present)).all(), column.name
            if column.kind is ColumnKind.CATEGORICAL:
                assert set(present) <= set(column.values), column.name
            if column.is_date_only:
                assert (present == present.dt.normalize()).all(), column.name
        # the bounds were pressed on: the top of the range is written, and so are nulls
        assert (decoded["count"] == 80).any() and (decoded["price"] == 1000.0).any()
        assert decoded["level"].isna().any() and (decoded["level"] == 10).any()


@pytest.mark.parametrize("knobs", [KNOBS, SMALL_BINS], ids=["default-bins", "small-bins"])
def test_the_rules_allow_every_valid_row(knobs):
    """Encoded rows (training values and unseen values at the contract's ends) pass every mask."""
    frame = _frame()
    vocabulary = _fit(frame, _contract(), **knobs)
    for rows in (frame, _unseen(frame)):
        tokens = torch.from_numpy(vocabulary.encode(rows))
        rules = SlotRules(vocabulary, len(rows), "cpu")
        for slot_id, slot in enumerate(vocabulary.slots()):
            allowed = rules.allowed(slot_id)
            chosen = tokens[:, slot_id]
            if allowed is not None:
                assert allowed[torch.arange(len(rows)), chosen - slot.low].all(), slot
            rules.record(slot_id, chosen)


def test_text_rules_end_pad_and_null():
    frame, contract = _frame(), _contract()
    vocabulary = _fit(frame, contract)
    masks: dict[int, torch.Tensor] = {}
    tokens = _write(vocabulary, 2000, seed=4, masks=masks)
    slots = vocabulary.slots()
    starts = vocabulary.field_starts()
    for name, nullable in (("note", True), ("title", False)):
        field = _field(vocabulary, name)
        assert field.has_nulls is nullable
        start = starts[vocabulary.fields.index(field)]
        block = tokens[:, start : start + field.slots]
        chars = block < field.end
        # a row is characters, then END (or NULL in the first slot), then only PAD
        for row in block:
            if row[0] == field.null:
                assert nullable and (row[1:] == field.pad).all()
                continue
            stop = int(np.flatnonzero(row == field.end)[0])  # END is always written
            assert (row[:stop] < field.end).all() and (row[stop + 1 :] == field.pad).all()
        assert chars.any() and (block == field.pad).any()
        if nullable:
            assert (block[:, 0] == field.null).any()
        for part in range(field.slots):
            mask = masks[start + part].numpy()
            slot = slots[start + part]
            null, end, pad = field.null - slot.low, field.end - slot.low, field.pad - slot.low
            assert mask[:, null].any() == (part == 0 and nullable), (name, part)  # NULL: first slot only
            if part == 0:
                assert not mask[:, pad].any()
                continue
            done = np.isin(block[:, :part], [field.end, field.null]).any(axis=1)
            # after END (or NULL) only PAD; before it never PAD
            assert (mask[done] == np.eye(mask.shape[1], dtype=bool)[pad]).all(), (name, part)
            assert not mask[~done, pad].any(), (name, part)
            if part == field.max_length:  # the last slot: only END for a row still open
                assert (mask[~done] == np.eye(mask.shape[1], dtype=bool)[end]).all(), name
            else:
                assert mask[~done, : len(field.chars)].all() and mask[~done, end].all()


def test_digit_rules_follow_the_bound_digit_by_digit():
    """One number, one bin of 23 counts, base 3 (3 digits): offsets 0..22 = 000..211 in base 3."""
    frame = pd.DataFrame({"k": pd.array([0, 22], dtype="Int64")})
    vocabulary = _fit(
        frame, [Column(name="k", kind=ColumnKind.INTEGER, min=0, max=22)], max_bins=1, max_radix=3
    )
    field = _field(vocabulary, "k")
    assert field.edges == [0] and (field.radix, field.digits) == (3, 3)
    rules = SlotRules(vocabulary, 3, "cpu")
    rules.record(0, torch.tensor([field.first] * 3))
    digit = vocabulary.digit_first
    assert rules.allowed(1).tolist() == [[True, True, True]] * 3  # 2 = the bound's first digit
    rules.record(1, torch.tensor([digit + 2, digit + 1, digit + 2]))
    # first digit at the bound (2): the second may be 0 or 1; below it (1): anything
    assert rules.allowed(2).tolist() == [[True, True, False], [True, True, True], [True, True, False]]
    rules.record(2, torch.tensor([digit + 1, digit + 2, digit + 0]))
    # 2,1 is still the bound (so at most 1); 1,2 and 2,0 are below it
    assert rules.allowed(3).tolist() == [[True, True, False], [True, True, True], [True, True, True]]


# ---- conditions: values the vocabulary cannot write --------------------------------------------------------


def test_encode_field_refuses_a_category_never_seen_in_training():
    frame = _frame()
    frame["colour"] = frame["colour"].replace("blue", "green")
    vocabulary = _fit(frame, _contract())
    assert isinstance(_field(vocabulary, "colour"), CategoryField)
    ok = vocabulary.encode_field("colour", pd.Series(["red", "green"]))
    assert ok.shape == (2, 1)
    with pytest.raises(ConfigError, match="condition colour='blue': .* never occurs in the training data"):
        vocabulary.encode_field("colour", pd.Series(["red", "blue"]))
    with pytest.raises(ValueError, match="'colour' holds values the vocabulary never saw"):
        vocabulary.encode(frame.assign(colour="blue"))


def test_encode_field_refuses_text_with_characters_never_seen_in_training():
    vocabulary = _fit(_frame(), _contract())
    tokens = vocabulary.encode_field("title", pd.Series(["ccc", "dab"]))  # new text, known characters
    assert _round_trip_text(vocabulary, "title", tokens) == ["ccc", "dab"]
    with pytest.raises(ConfigError, match=r"text column 'title': character\(s\) \['x', 'z'\]") as info:
        vocabulary.encode_field("title", pd.Series(["abc", "zax"]))
    assert info.value.hint


def _round_trip_text(vocabulary: RowVocabulary, name: str, tokens: np.ndarray) -> list:
    field = _field(vocabulary, name)
    return _decode_text(field, tokens - field.first).tolist()


def test_encode_field_writes_numbers_like_encode():
    frame = _frame()
    vocabulary = _fit(frame, _contract(), **SMALL_BINS)
    tokens = vocabulary.encode(frame)
    for name in ("count", "price", "day", "seen"):
        field = _field(vocabulary, name)
        start = vocabulary.field_starts()[vocabulary.fields.index(field)]
        values = frame[name]
        np.testing.assert_array_equal(
            vocabulary.encode_field(name, values), tokens[:, start : start + field.slots], err_msg=name
        )
