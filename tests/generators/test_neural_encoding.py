"""The mode-specific encoding of the neural generators: transform → decode, pooling, nulls, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.generators.neural.encoding import OTHER, DiscreteEncoding, NumericEncoding, TableEncoding

ROWS = 300


def _frame(rows: int = ROWS, seed: int = 0) -> tuple[pd.DataFrame, Contract]:
    """Every column kind the encoding handles, with nulls in a number, a category and a boolean."""
    rng = np.random.default_rng(seed)
    # two well separated bumps: a mixture fits them with room to spare inside ±4σ
    bimodal = np.where(rng.random(rows) < 0.6, rng.normal(10, 1, rows), rng.normal(50, 2, rows))
    spend = np.round(rng.gamma(2.0, 30.0, rows), 2)
    spend[rng.random(rows) < 0.2] = np.nan
    colour = rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3, 0.2]).astype(object)
    colour[rng.random(rows) < 0.15] = None
    member = pd.array(rng.random(rows) < 0.4, dtype="boolean")
    member[rng.random(rows) < 0.1] = pd.NA
    seen = pd.Timestamp("2024-03-01 08:00:00") + pd.to_timedelta(rng.integers(0, 90 * 86400, rows), unit="s")
    frame = pd.DataFrame(
        {
            "bimodal": bimodal,
            "count": pd.array(rng.integers(0, 20, rows), dtype="Int64"),
            "spend": spend,
            "colour": colour,
            "member": member,
            "seen": pd.Series(seen, dtype="datetime64[ns]"),
        }
    )
    contract = Contract(
        dataset="encoding",
        columns=[
            Column(name="bimodal", kind=ColumnKind.FLOAT),
            Column(name="count", kind=ColumnKind.INTEGER),
            Column(name="spend", kind=ColumnKind.FLOAT, nullable=True),
            Column(
                name="colour", kind=ColumnKind.CATEGORICAL, nullable=True, values=["blue", "green", "red"]
            ),
            Column(name="member", kind=ColumnKind.BOOLEAN, nullable=True),
            Column(name="seen", kind=ColumnKind.DATETIME),
        ],
    )
    return frame, contract


def _fit(frame: pd.DataFrame, contract: Contract, **options):
    settings = {"max_modes": 10, "max_categories": 1000, "mode_fit_rows": 10_000, "spike_share": 1.0}
    settings |= {"seed": 0, **options}
    return TableEncoding.fit_transform(frame, contract, **settings)


@pytest.fixture(scope="module")
def encoded():
    frame, contract = _frame()
    encoding, matrix, codes = _fit(frame, contract)
    return frame, contract, encoding, matrix, codes


def test_layout_spans_cover_the_matrix_and_every_one_hot_is_one_hot(encoded):
    frame, _, encoding, matrix, codes = encoded
    assert matrix.dtype == np.float32 and matrix.shape == (len(frame), encoding.width)
    spans = encoding.spans()
    assert spans[0].start == 0 and spans[-1].stop == encoding.width
    assert all(a.stop == b.start for a, b in zip(spans, spans[1:], strict=False))
    for span in spans:
        block = matrix[:, span.start : span.stop]
        if span.activation == "softmax":
            assert set(np.unique(block)) <= {0.0, 1.0}
            assert (block.sum(axis=1) == 1).all()
        else:
            assert span.dim == 1 and (np.abs(block) <= 0.99).all()
    discrete = encoding.discrete()
    assert [c.name for c, _ in discrete] == ["colour", "member"]
    assert codes.shape == (len(frame), 2) and codes.dtype == np.int64
    for j, (_, span) in enumerate(discrete):
        assert (matrix[np.arange(len(frame)), span.start + codes[:, j]] == 1).all()


def test_round_trip_recovers_categories_exactly_and_numbers_closely(encoded):
    frame, _, encoding, matrix, _ = encoded
    decoded = encoding.decode(matrix, np.random.default_rng(0))
    assert list(decoded.columns) == list(frame.columns)
    pd.testing.assert_series_equal(
        decoded["colour"].fillna("<null>"), frame["colour"].fillna("<null>"), check_dtype=False
    )
    pd.testing.assert_series_equal(decoded["member"], frame["member"])
    # a mode-friendly column: every value sits well inside ±4σ of its mode, so none is clipped
    np.testing.assert_allclose(decoded["bimodal"], frame["bimodal"], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(decoded["count"], frame["count"].astype(float), atol=1e-4)
    present = frame["spend"].notna()
    close = np.isclose(decoded["spend"][present], frame["spend"][present], rtol=1e-5, atol=1e-3)
    assert close.mean() >= 0.97  # a skewed column: the odd tail value may be clipped at 0.99·4σ


def test_offsets_are_clipped_at_a_mode_edge():
    rng = np.random.default_rng(1)
    values = np.append(rng.normal(0, 1, 199), 1e6)  # a far outlier pulls no mode of its own
    frame = pd.DataFrame({"x": values})
    contract = Contract(dataset="clip", columns=[Column(name="x", kind=ColumnKind.FLOAT)])
    encoding, matrix, _ = _fit(frame, contract, max_modes=1)
    assert np.abs(matrix[:, 0]).max() == pytest.approx(0.99)
    decoded = encoding.decode(matrix, np.random.default_rng(0))["x"]
    column = encoding.columns[0]
    edge = (column.means[0] + 0.99 * 4 * column.stds[0]) * column.scale + column.centre
    assert decoded.iloc[-1] == pytest.approx(edge)


def test_nulls_survive_as_nulls_at_the_same_rate(encoded):
    frame, _, encoding, matrix, _ = encoded
    decoded = encoding.decode(matrix, np.random.default_rng(0))
    for name in ["spend", "colour", "member"]:
        assert frame[name].isna().any(), name
        assert (decoded[name].isna() == frame[name].isna()).all(), name
    spend = encoding.column("spend")
    assert isinstance(spend, NumericEncoding) and spend.has_nulls
    assert not encoding.column("bimodal").has_nulls
    colour = encoding.column("colour")
    assert None in colour.values
    assert colour.counts[colour.values.index(None)] == frame["colour"].isna().sum()


def test_datetimes_decode_as_datetimes_and_booleans_as_pandas_boolean(encoded):
    frame, _, encoding, matrix, _ = encoded
    decoded = encoding.decode(matrix, np.random.default_rng(0))
    assert encoding.column("seen").datetime
    assert pd.api.types.is_datetime64_any_dtype(decoded["seen"])
    # seconds since the epoch through a float32 offset: a few seconds of rounding at most
    assert (decoded["seen"] - frame["seen"]).abs().max() <= pd.Timedelta(seconds=10)
    assert str(decoded["member"].dtype) == "boolean"
    assert str(decoded["bimodal"].dtype) == "float64"


def test_rare_values_pool_into_other_and_decode_to_real_rare_values():
    rng = np.random.default_rng(2)
    names = [f"v{i}" for i in range(8)]
    weights = np.array([40, 25, 15, 8, 5, 4, 2, 1], dtype=float)
    labels = rng.choice(names, 2000, p=weights / weights.sum()).astype(object)
    frame = pd.DataFrame({"label": labels})
    contract = Contract(
        dataset="pool", columns=[Column(name="label", kind=ColumnKind.CATEGORICAL, values=names)]
    )
    encoding, matrix, codes = _fit(frame, contract, max_categories=4)
    column = encoding.columns[0]
    assert isinstance(column, DiscreteEncoding)
    assert column.values == ["v0", "v1", "v2", OTHER]
    assert set(column.rare_values) == set(names[3:])
    assert sum(column.rare_counts) == column.counts[-1]
    rare = ~frame["label"].isin(["v0", "v1", "v2"])
    assert (codes[rare.to_numpy(), 0] == 3).all() and (codes[~rare.to_numpy(), 0] < 3).all()

    decoded = encoding.decode(matrix, np.random.default_rng(0))["label"]
    assert OTHER not in set(decoded)
    assert (decoded[~rare] == frame["label"][~rare]).all()
    assert set(decoded[rare]) <= set(names[3:])
    # the pooled slot is drawn among the rare values by their training counts
    pooled = np.zeros((20_000, column.width), dtype=np.float32)
    pooled[:, 3] = 1.0
    drawn = encoding.decode(pooled, np.random.default_rng(1))["label"].value_counts(normalize=True)
    expected = pd.Series(column.rare_counts, index=column.rare_values, dtype=float)
    expected /= expected.sum()
    np.testing.assert_allclose(drawn.reindex(expected.index).to_numpy(), expected.to_numpy(), atol=0.02)


def test_json_round_trip_gives_an_identical_encoding_and_decode(encoded):
    _, _, encoding, matrix, _ = encoded
    text = json.dumps(encoding.model_dump(mode="json"))
    again = TableEncoding.model_validate_json(text)
    assert again == encoding
    assert again.spans() == encoding.spans()
    # soft rows, not one-hots: the decode takes each slice's largest entry
    noisy = matrix + np.random.default_rng(3).random(matrix.shape).astype(np.float32) * 0.5
    pd.testing.assert_frame_equal(
        again.decode(noisy, np.random.default_rng(4)), encoding.decode(noisy, np.random.default_rng(4))
    )


def test_json_round_trip_keeps_pooled_values_and_booleans():
    frame, contract = _frame(seed=5)
    encoding, matrix, _ = _fit(frame, contract, max_categories=2)
    assert OTHER in encoding.column("colour").values
    again = TableEncoding.model_validate_json(json.dumps(encoding.model_dump(mode="json")))
    assert again == encoding
    pd.testing.assert_frame_equal(
        again.decode(matrix, np.random.default_rng(6)), encoding.decode(matrix, np.random.default_rng(6))
    )
    assert str(again.decode(matrix, np.random.default_rng(6))["member"].dtype) == "boolean"


def test_a_constant_column_and_all_null_columns_encode_and_decode():
    rows = 50
    frame = pd.DataFrame(
        {
            "constant": np.full(rows, 7.5),
            "same_label": ["only"] * rows,
            "nothing": np.full(rows, np.nan),
            "no_label": pd.Series([None] * rows, dtype=object),
            "no_flag": pd.array([pd.NA] * rows, dtype="boolean"),
            "no_time": pd.Series(pd.NaT, index=range(rows), dtype="datetime64[ns]"),
        }
    )
    contract = Contract(
        dataset="degenerate",
        columns=[
            Column(name="constant", kind=ColumnKind.FLOAT),
            Column(name="same_label", kind=ColumnKind.CATEGORICAL),
            Column(name="nothing", kind=ColumnKind.FLOAT, nullable=True),
            Column(name="no_label", kind=ColumnKind.CATEGORICAL, nullable=True),
            Column(name="no_flag", kind=ColumnKind.BOOLEAN, nullable=True),
            Column(name="no_time", kind=ColumnKind.DATETIME, nullable=True),
        ],
    )
    encoding, matrix, codes = _fit(frame, contract)
    assert np.isfinite(matrix).all()
    assert (codes == 0).all()
    again = TableEncoding.model_validate_json(json.dumps(encoding.model_dump(mode="json")))
    decoded = again.decode(matrix, np.random.default_rng(0))
    assert (decoded["constant"] == 7.5).all()
    assert (decoded["same_label"] == "only").all()
    for name in ["nothing", "no_label", "no_flag", "no_time"]:
        assert decoded[name].isna().all(), name
    assert str(decoded["no_flag"].dtype) == "boolean"
    assert pd.api.types.is_datetime64_any_dtype(decoded["no_time"])
    # one row with a null datetime: pandas' to_datetime raised FloatingPointError on a lone NaN
    single = again.decode(matrix[:1], np.random.default_rng(0))
    assert len(single) == 1 and single["no_time"].isna().all()


def test_the_fit_is_seeded():
    frame, contract = _frame(rows=120, seed=7)
    first, matrix, _ = _fit(frame, contract, seed=3)
    again, same, _ = _fit(frame, contract, seed=3)
    assert first == again
    np.testing.assert_array_equal(matrix, same)


def _spiky(rows: int = 400, seed: int = 0) -> tuple[pd.DataFrame, Contract]:
    """A number that is mostly 0 (as Adult's capital-gain), one with two spikes, a frequent datetime."""
    rng = np.random.default_rng(seed)
    gain = np.where(rng.random(rows) < 0.85, 0.0, np.round(rng.gamma(2.0, 3000.0, rows)))
    hours = np.where(
        rng.random(rows) < 0.5, 40.0, np.where(rng.random(rows) < 0.3, 50.0, rng.normal(35, 9, rows))
    )
    stamp = pd.Timestamp("2024-01-01 00:00:00")
    seen = stamp + pd.to_timedelta(rng.integers(1, 365 * 86400, rows), unit="s")
    seen = np.where(rng.random(rows) < 0.3, stamp, seen)
    frame = pd.DataFrame({"gain": gain, "hours": hours, "seen": pd.Series(seen, dtype="datetime64[ns]")})
    contract = Contract(
        dataset="spiky",
        columns=[
            Column(name="gain", kind=ColumnKind.FLOAT),
            Column(name="hours", kind=ColumnKind.FLOAT),
            Column(name="seen", kind=ColumnKind.DATETIME),
        ],
    )
    return frame, contract


def test_a_value_held_by_spike_share_of_rows_is_an_exact_mode():
    frame, contract = _spiky()
    encoding, matrix, _ = _fit(frame, contract, spike_share=0.05)
    gain, hours, seen = encoding.columns
    assert gain.exact == [0.0] and gain.stds[0] == 0.0 and min(gain.stds[1:]) > 0
    assert hours.exact == [40.0, 50.0]  # most frequent first
    assert seen.exact == [pd.Timestamp("2024-01-01").timestamp()]
    # every row holding a spike is in its exact mode with offset 0; the others are in a mixture mode
    zero = (frame["gain"] == 0).to_numpy()
    assert (matrix[zero, 1] == 1).all() and (matrix[zero, 0] == 0).all()
    assert (matrix[~zero, 1] == 0).all()


def test_exact_modes_count_towards_max_modes():
    frame, contract = _spiky()
    encoding, _, _ = _fit(frame, contract, spike_share=0.05, max_modes=3)
    hours = encoding.column("hours")
    assert hours.exact == [40.0, 50.0] and len(hours.means) == 3 and hours.stds[2] > 0


def test_an_exact_mode_decodes_to_its_value_whatever_the_offset():
    frame, contract = _spiky()
    encoding, matrix, _ = _fit(frame, contract, spike_share=0.05)
    noisy = matrix.copy()
    for span in encoding.spans():
        if span.activation == "tanh":  # the offsets a network would emit: anywhere in [-1, 1]
            noisy[:, span.start] = np.random.default_rng(1).uniform(-1, 1, len(noisy))
    decoded = encoding.decode(noisy, np.random.default_rng(0))
    for name in ["gain", "hours"]:
        spiked = frame[name].isin(encoding.column(name).exact).to_numpy()
        np.testing.assert_array_equal(decoded[name].to_numpy()[spiked], frame[name].to_numpy()[spiked])
    spiked = (frame["seen"] == pd.Timestamp("2024-01-01")).to_numpy()
    assert (decoded["seen"][spiked] == pd.Timestamp("2024-01-01")).all()
    # without exact modes a mixture mode gives the spike a width: the same offsets move the zeros
    plain, plain_matrix, _ = _fit(frame, contract, spike_share=1.0)
    assert plain.column("gain").exact == []
    moved = plain_matrix.copy()
    moved[:, 0] = np.random.default_rng(1).uniform(-1, 1, len(moved))
    zeros = plain.decode(moved, np.random.default_rng(0))["gain"][(frame["gain"] == 0).to_numpy()]
    assert (zeros != 0).mean() > 0.9


def test_a_single_value_left_beside_the_spikes_is_exact_too():
    frame = pd.DataFrame({"x": [1.0] * 30 + [2.0] * 10 + [3.0]})
    contract = Contract(dataset="few", columns=[Column(name="x", kind=ColumnKind.FLOAT)])
    encoding, matrix, _ = _fit(frame, contract, spike_share=0.2)
    assert encoding.columns[0].exact == [1.0, 2.0, 3.0] and encoding.columns[0].stds == [0.0, 0.0, 0.0]
    decoded = encoding.decode(matrix, np.random.default_rng(0))
    np.testing.assert_array_equal(decoded["x"].to_numpy(), frame["x"].to_numpy())


def test_an_encoding_saved_before_exact_modes_still_loads_and_decodes_alike(encoded):
    _, _, encoding, matrix, _ = encoded
    saved = encoding.model_dump(mode="json")
    for column in saved["columns"]:
        column.pop("exact", None)
    older = TableEncoding.model_validate_json(json.dumps(saved))
    assert older == encoding  # spike_share 1.0 on columns with many values: no exact modes
    pd.testing.assert_frame_equal(
        older.decode(matrix, np.random.default_rng(0)), encoding.decode(matrix, np.random.default_rng(0))
    )
