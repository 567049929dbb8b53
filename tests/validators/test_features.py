"""Contract-typed frames as numbers: the distance space, nearest distances and the tree matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from synthwright.data_contracts.model import Column, ColumnKind, Contract
from synthwright.validators.features import (
    MAX_ONE_HOT,
    MAX_TREE_CATEGORIES,
    DistanceSpace,
    nearest_distances,
    scored_columns,
    tree_matrices,
)
from synthwright.validators.fidelity import detection

NUMBER = Column(name="x", kind=ColumnKind.FLOAT)
NULLABLE_NUMBER = Column(name="x", kind=ColumnKind.FLOAT, nullable=True)
CATEGORY = Column(name="c", kind=ColumnKind.CATEGORICAL)
FLAG = Column(name="b", kind=ColumnKind.BOOLEAN)
WHEN = Column(name="t", kind=ColumnKind.DATETIME)


def _distance(space: DistanceSpace, a: pd.DataFrame, b: pd.DataFrame) -> float:
    pa, pb = space.transform(a), space.transform(b)
    return float(np.linalg.norm(pa.astype("float64") - pb.astype("float64")))


# --- DistanceSpace -------------------------------------------------------------------------------------


def test_full_range_numeric_difference_and_category_mismatch_both_cost_one():
    reference = pd.DataFrame({"x": [10.0, 20.0, 30.0], "c": ["a", "b", "a"]})
    space = DistanceSpace(reference, [NUMBER, CATEGORY])
    low = pd.DataFrame({"x": [10.0], "c": ["a"]})
    high = pd.DataFrame({"x": [30.0], "c": ["a"]})
    other_category = pd.DataFrame({"x": [10.0], "c": ["b"]})
    assert _distance(space, low, high) == pytest.approx(1.0, abs=1e-6)
    assert _distance(space, low, other_category) == pytest.approx(1.0, abs=1e-6)
    # both at once: two unit differences on orthogonal axes
    assert _distance(space, high, other_category) == pytest.approx(np.sqrt(2), abs=1e-6)
    # half the range costs half
    middle = pd.DataFrame({"x": [20.0], "c": ["a"]})
    assert _distance(space, low, middle) == pytest.approx(0.5, abs=1e-6)


def test_numbers_outside_the_reference_range_are_clipped():
    space = DistanceSpace(pd.DataFrame({"x": [0.0, 1.0]}), [NUMBER])
    far = pd.DataFrame({"x": [1000.0, -1000.0]})
    points = space.transform(far)
    assert points[:, 0].tolist() == [1.0, 0.0]


def test_datetimes_scale_like_numbers():
    reference = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-11"])})
    space = DistanceSpace(reference, [WHEN])
    a = pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])})
    b = pd.DataFrame({"t": pd.to_datetime(["2024-01-06"])})
    assert _distance(space, a, b) == pytest.approx(0.5, abs=1e-6)


def test_a_null_number_is_a_separate_indicator_adding_one():
    reference = pd.DataFrame({"x": [0.0, 4.0, np.nan]})
    space = DistanceSpace(reference, [NUMBER])
    assert space.dimensions == 2  # value + null indicator (the reference has a null)
    null = pd.DataFrame({"x": [np.nan]})
    at_low = pd.DataFrame({"x": [0.0]})
    at_three_quarters = pd.DataFrame({"x": [3.0]})
    assert _distance(space, null, at_low) == pytest.approx(1.0, abs=1e-6)
    # the indicator adds 1 to the squared distance on top of the value axis (a null sits at the low end)
    assert _distance(space, null, at_three_quarters) ** 2 == pytest.approx(1.0 + 0.75**2, abs=1e-5)
    assert _distance(space, null, null.copy()) == 0.0


def test_a_column_the_contract_calls_nullable_gets_the_indicator_even_without_nulls():
    reference = pd.DataFrame({"x": [0.0, 4.0]})
    assert DistanceSpace(reference, [NULLABLE_NUMBER]).dimensions == 2
    assert DistanceSpace(reference, [NUMBER]).dimensions == 1


def test_a_null_category_is_its_own_category():
    space = DistanceSpace(pd.DataFrame({"c": ["a", "b", None]}), [CATEGORY])
    null = pd.DataFrame({"c": [None]})
    assert _distance(space, null, pd.DataFrame({"c": ["a"]})) == pytest.approx(1.0, abs=1e-6)
    assert _distance(space, null, pd.DataFrame({"c": [np.nan]})) == 0.0


def test_booleans_are_categories():
    space = DistanceSpace(pd.DataFrame({"b": pd.array([True, False, None], dtype="boolean")}), [FLAG])
    yes = pd.DataFrame({"b": pd.array([True], dtype="boolean")})
    no = pd.DataFrame({"b": pd.array([False], dtype="boolean")})
    assert _distance(space, yes, no) == pytest.approx(1.0, abs=1e-6)


def test_categories_beyond_the_most_frequent_go_to_other():
    # category k appears (70 - k) times: a strict frequency order, so the kept set is unambiguous
    labels = [f"k{k:02d}" for k in range(MAX_ONE_HOT + 10) for _ in range(MAX_ONE_HOT + 20 - k)]
    space = DistanceSpace(pd.DataFrame({"c": labels}), [CATEGORY])
    assert space.dimensions == MAX_ONE_HOT + 2  # kept levels + "other" + null
    kept_a, kept_b = pd.DataFrame({"c": ["k00"]}), pd.DataFrame({"c": [f"k{MAX_ONE_HOT - 1:02d}"]})
    rare_a, rare_b = pd.DataFrame({"c": [f"k{MAX_ONE_HOT:02d}"]}), pd.DataFrame({"c": ["k59"]})
    assert _distance(space, kept_a, kept_b) == pytest.approx(1.0, abs=1e-6)
    assert _distance(space, rare_a, rare_b) == 0.0  # both "other"
    assert _distance(space, rare_a, kept_a) == pytest.approx(1.0, abs=1e-6)


def test_unseen_categories_in_transform_do_not_crash_and_count_as_other():
    space = DistanceSpace(pd.DataFrame({"c": ["a", "b", "b"]}), [CATEGORY])
    unseen = space.transform(pd.DataFrame({"c": ["zzz", "yyy", "a"]}))
    assert unseen.shape == (3, space.dimensions)
    assert np.linalg.norm(unseen[0] - unseen[1]) == 0.0  # both "other"
    assert np.linalg.norm(unseen[0] - unseen[2]) == pytest.approx(1.0, abs=1e-6)


def test_transform_gives_float32_rows_and_every_row_one_point():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    points = DistanceSpace(frame, [NUMBER, CATEGORY]).transform(frame)
    assert points.dtype == np.float32
    assert points.shape == (3, 1 + 4)


def test_scored_columns_leave_out_identifiers_and_personal_data(mixed):
    names = [c.name for c in scored_columns(mixed)]
    assert names == ["age", "income", "colour", "member", "start_date", "end_date"]
    assert "age" not in [c.name for c in scored_columns(mixed, exclude=("age",))]


def test_mixed_frame_with_nulls_transforms_to_finite_points(mixed_frame, mixed):
    columns = scored_columns(mixed)
    points = DistanceSpace(mixed_frame, columns).transform(mixed_frame)
    assert np.isfinite(points).all()
    assert points.shape[0] == len(mixed_frame)


# --- nearest_distances ------------------------------------------------------------------------------------


def _brute_force(queries: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    distances = cdist(queries.astype("float64"), reference.astype("float64"))
    return np.sort(distances, axis=1)[:, :k]


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 100, 101, 1000])
def test_nearest_distances_equal_brute_force_in_float64(k, chunk_rows):
    rng = np.random.default_rng(k * 1000 + chunk_rows)
    queries, reference = rng.random((201, 6)), rng.random((150, 6))  # 201 = 2 × 100 + 1 crosses chunks
    got = nearest_distances(queries, reference, k=k, chunk_rows=chunk_rows)
    assert got.shape == (201, k)
    np.testing.assert_allclose(got, _brute_force(queries, reference, k), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("chunk_rows", [3, 50, 256])
def test_nearest_distances_on_float32_points_are_close_to_float64(k, chunk_rows):
    rng = np.random.default_rng(chunk_rows)
    queries = rng.random((120, 10)).astype("float32")
    reference = rng.random((90, 10)).astype("float32")
    got = nearest_distances(queries, reference, k=k, chunk_rows=chunk_rows)
    np.testing.assert_allclose(got, _brute_force(queries, reference, k), rtol=1e-4, atol=1e-4)


def test_nearest_distances_are_ascending_per_row():
    rng = np.random.default_rng(3)
    got = nearest_distances(rng.random((50, 4)), rng.random((40, 4)), k=2, chunk_rows=16)
    assert (got[:, 0] <= got[:, 1]).all()


def _wide_table(columns: int, rows: int, seed: int) -> tuple[pd.DataFrame, list[Column]]:
    """Half numbers in [0, 1), half 8-level categories: the kind of points DistanceSpace makes."""
    rng = np.random.default_rng(seed)
    data, kinds = {}, []
    for j in range(columns):
        if j % 2:
            data[f"c{j}"] = rng.choice(list("abcdefgh"), rows)
            kinds.append(Column(name=f"c{j}", kind=ColumnKind.CATEGORICAL))
        else:
            data[f"x{j}"] = rng.random(rows)
            kinds.append(Column(name=f"x{j}", kind=ColumnKind.FLOAT))
    return pd.DataFrame(data), kinds


@pytest.mark.parametrize("chunk_rows", [32, 256])
def test_equal_points_are_exactly_zero_in_float32(chunk_rows, mixed_frame, mixed):
    space = DistanceSpace(mixed_frame, scored_columns(mixed))
    points = space.transform(mixed_frame)
    got = nearest_distances(points[::-1].copy(), points, k=1, chunk_rows=chunk_rows)
    assert (got[:, 0] == 0.0).all()
    frame, columns = _wide_table(15, 2000, seed=1)  # as wide as Adult
    points = DistanceSpace(frame, columns).transform(frame)
    got = nearest_distances(points[:500], points, k=1, chunk_rows=chunk_rows)
    assert (got[:, 0] == 0.0).all()


def test_equal_points_are_exactly_zero_for_a_60_column_table():
    """Wide rows have large norms: ‖q‖² + ‖r‖² − 2 q·r in float32 left ≈0.0034 between a row and its copy."""
    frame, columns = _wide_table(60, 3000, seed=2)
    points = DistanceSpace(frame, columns).transform(frame)
    got = nearest_distances(points[:1000], points, k=1)
    nonzero = got[:, 0][got[:, 0] > 0]
    assert nonzero.size == 0, f"{nonzero.size} of 1000 copies at distance > 0 (max {nonzero.max():.4f})"


def test_duplicates_in_the_reference_give_two_zero_distances():
    reference = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]], dtype="float32")
    got = nearest_distances(np.array([[0.0, 0.0]], dtype="float32"), reference, k=2)
    assert got.tolist() == [[0.0, 0.0]]


def test_a_point_next_to_its_twin_gets_the_second_nearest_distance():
    reference = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0]])
    got = nearest_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), reference, k=2)
    np.testing.assert_allclose(got, [[0.0, 5.0], [0.0, 5.0]])


def test_k_larger_than_the_reference_is_cut_to_its_size():
    got = nearest_distances(np.zeros((3, 2)), np.ones((1, 2)), k=2)
    assert got.shape == (3, 1)
    np.testing.assert_allclose(got, np.sqrt(2))


# --- tree_matrices --------------------------------------------------------------------------------------


def test_tree_matrices_share_category_codes_across_frames():
    first = pd.DataFrame({"c": ["b", "a", None]})
    second = pd.DataFrame({"c": ["c", "a", "b"]})
    (m1, m2), categorical = tree_matrices([first, second], [CATEGORY])
    assert categorical == [True]
    # one vocabulary over both frames, alphabetical: a=0, b=1, c=2
    np.testing.assert_array_equal(m1[:, 0], [1.0, 0.0, 3.0])  # null: a code of its own
    np.testing.assert_array_equal(m2[:, 0], [2.0, 0.0, 1.0])


def test_tree_matrices_give_nulls_a_value_below_the_column_never_nan():
    frame = pd.DataFrame(
        {
            "x": [1.5, np.nan, -2.0],
            "n": pd.array([3, None, 7], dtype="Int64"),
            "b": pd.array([True, False, None], dtype="boolean"),
        }
    )
    columns = [NUMBER, Column(name="n", kind=ColumnKind.INTEGER, nullable=True), FLAG]
    (matrix,), categorical = tree_matrices([frame], columns)
    assert matrix.dtype == np.float64
    assert categorical == [False, False, True]
    np.testing.assert_array_equal(matrix[:, 0], [1.5, -4.0, -2.0])  # below -2 by max(1, |-2|)
    np.testing.assert_array_equal(matrix[:, 1], [3.0, 0.0, 7.0])  # below 3 by max(1, |3|)
    np.testing.assert_array_equal(matrix[:, 2], [1.0, 0.0, 2.0])  # "False" < "True" < null


def test_detection_scores_a_column_that_is_null_in_every_row():
    """sklearn's trees cannot bin a feature with no value (a ValueError): an augmentation's few
    conditioned rows met it. A null column now tells real from synthetic rows nothing."""
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": rng.normal(size=60), "y": [np.nan] * 60})
    synthetic = pd.DataFrame({"x": rng.normal(size=60), "y": [np.nan] * 60})
    contract = Contract(dataset="t", columns=[NUMBER, Column(name="y", kind=ColumnKind.FLOAT, nullable=True)])
    assert 0.0 <= detection(real, synthetic, contract).auc <= 1.0


def test_tree_matrices_give_datetimes_as_seconds():
    frame = pd.DataFrame({"t": pd.to_datetime(["1970-01-02 00:00:00", None, "2024-01-01 00:00:01"])})
    (matrix,), categorical = tree_matrices([frame], [WHEN])
    assert categorical == [False]
    expected = [86400.0, 0.0, pd.Timestamp("2024-01-01 00:00:01").timestamp()]
    np.testing.assert_array_equal(matrix[:, 0], expected)


def test_a_column_with_more_than_255_categories_is_not_flagged_categorical():
    wide = pd.DataFrame({"c": [f"v{i:04d}" for i in range(MAX_TREE_CATEGORIES + 1)]})
    narrow = pd.DataFrame({"c": [f"v{i:04d}" for i in range(MAX_TREE_CATEGORIES)]})
    (matrix,), flags = tree_matrices([wide], [CATEGORY])
    assert flags == [False]
    np.testing.assert_array_equal(matrix[:, 0], np.arange(MAX_TREE_CATEGORIES + 1))  # alphabetical codes
    assert tree_matrices([narrow], [CATEGORY])[1] == [True]
    # the limit counts the union over frames
    _, split_flags = tree_matrices([narrow, pd.DataFrame({"c": ["zzz"]})], [CATEGORY])
    assert split_flags == [False]
