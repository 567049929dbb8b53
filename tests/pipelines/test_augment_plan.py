"""Augmentation requests (validation, overrides) and their plans: how many rows of which kind, checked
before any fit. The demo table: 215 students, `placed` True for 148 and False for 67."""

from __future__ import annotations

import pandas as pd
import pytest

from synthwright.errors import ConfigError, UserInputError
from synthwright.pipelines.augment_plan import Plan, matches, plan_augmentation
from synthwright.pipelines.augment_request import AugmentRequest, load_request

BASE = {"dataset": "placements-more", "source": {"builtin": "student_placements"}, "target": "placed"}


def request(**fields) -> AugmentRequest:
    return AugmentRequest(**{**BASE, **fields})


@pytest.fixture(scope="module")
def real(placements) -> pd.DataFrame:
    return placements.frame


@pytest.fixture(scope="module")
def train(real) -> pd.DataFrame:
    return real.sample(frac=0.8, random_state=0)


def plan(placements, train, supports_conditions: bool = True, **fields) -> Plan:
    return plan_augmentation(
        request(**fields),
        placements.contract,
        placements.frame,
        train,
        supports_conditions=supports_conditions,
    )


# ---- the request -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, needle",
    [
        ({}, "give exactly one of rows, multiplier, rebalance or conditions (got none)"),
        ({"rows": 10, "multiplier": 2}, "(got rows, multiplier)"),
        ({"rows": 0}, "greater than or equal to 1"),
        ({"multiplier": 1}, "greater than 1"),
        ({"multiplier": 101}, "less than or equal to 100"),
        ({"rebalance": {"placed": {"false": 1.2}}}, "shares must be between 0 and 1"),
        ({"rebalance": {"placed": {"false": 0.6, "true": 0.6}}}, "add up to 1.2"),
        ({"rebalance": {"placed": {"false": 0.5}, "gender": {"F": 0.5}}}, "rebalance one column"),
        ({"rebalance": {"placed": {}}}, "at least one class"),
        ({"conditions": []}, "list at least one condition"),
        ({"conditions": [{"rows": 5}]}, "names at least one column"),
        ({"conditions": [{"gender": "F"}]}, "rows"),
        ({"rows": 5, "dataset": "../escape"}, "dataset"),
        ({"rows": 5, "source": {"builtin": "student_placements", "path": "x.csv"}}, "exactly one of source"),
        ({"rows": 5, "colour": "red"}, "colour"),
    ],
)
def test_an_invalid_request_names_what_is_wrong(fields, needle):
    with pytest.raises(ValueError, match=None) as info:
        request(**fields)
    assert needle in str(info.value)


def test_a_request_file_with_an_unknown_key_names_the_file_and_key(tmp_path):
    path = tmp_path / "request.yaml"
    path.write_text("dataset: x\nsource: {builtin: student_placements}\nrows: 10\nrebalnce: {}\n")
    with pytest.raises(ConfigError) as info:
        load_request(path)
    assert "request.yaml" in info.value.message and "rebalnce" in info.value.message


def test_load_request_resolves_paths_from_the_file_and_a_form_override_replaces_the_files(tmp_path):
    path = tmp_path / "sub" / "request.yaml"
    path.parent.mkdir()
    path.write_text("dataset: x\nsource: {path: data.csv}\nmultiplier: 2\noutput: {root: out}\n")
    loaded = load_request(path)
    assert loaded.form == "multiplier" and loaded.multiplier == 2
    assert loaded.source.path == path.parent / "data.csv" and loaded.output.root == path.parent / "out"
    overridden = load_request(path, ["rows=25", "synthetic_column=synthetic"])
    assert overridden.form == "rows" and overridden.rows == 25 and overridden.multiplier is None
    assert overridden.synthetic_column == "synthetic"


def test_the_pipeline_spec_carries_the_requests_settings_and_only_the_pipelines_gates():
    asked = request(rows=10, seed=3, gates={"shape_error_max": 30, "minority_f1_lift_min": 0.0})
    spec = asked.pipeline_spec()
    assert spec.dataset == "placements-more" and spec.seed == 3 and spec.target == "placed"
    assert spec.source.builtin == "student_placements"
    assert spec.gates.shape_error_max == 30 and not hasattr(spec.gates, "minority_f1_lift_min")


# ---- the plan, form by form ------------------------------------------------------------------------------


def test_rows_adds_that_many_unconditioned_rows(placements, train):
    planned = plan(placements, train, rows=100)
    assert planned.form == "rows" and planned.synthetic_rows == 100 and not planned.conditioned
    assert planned.conditions_frame() is None
    assert planned.real_rows == 215 and planned.training_rows == len(train)


def test_multiplier_sets_the_final_size(placements, train):
    assert plan(placements, train, multiplier=2).synthetic_rows == 215
    assert plan(placements, train, multiplier=1.5).synthetic_rows == round(215 * 0.5)


def test_rebalance_adds_only_the_rare_class_until_it_has_its_share(placements, train):
    counts = placements.frame["placed"].value_counts()
    assert (counts[True], counts[False]) == (148, 67)
    planned = plan(placements, train, rebalance={"placed": {"false": 0.5}})
    (group,) = planned.groups
    assert group.conditions == {"placed": False} and group.rows == 148 - 67
    assert group.real_rows == 67 and group.training_rows == int((train["placed"] == False).sum())  # noqa: E712
    frame = planned.conditions_frame()
    assert len(frame) == 81 and frame["placed"].eq(False).all()


def test_rebalance_to_a_third_grows_the_table_until_the_common_class_has_the_rest(placements, train):
    planned = plan(placements, train, rebalance={"gender": {"F": 0.5}})
    counts = placements.frame["gender"].value_counts()
    (group,) = planned.groups
    assert group.conditions == {"gender": "F"} and group.rows == counts["M"] - counts["F"]


def test_rebalance_of_every_class_at_once_grows_the_most_over_represented_one_not(placements, train):
    planned = plan(
        placements,
        train,
        rebalance={"high_spec": {"Arts": 0.2, "Commerce": 0.4, "Science": 0.4}},
        gates={"group_rows_min": 1, "synthetic_per_real_max": None},  # Arts: 11 real rows
    )
    assert "Commerce" not in {g.conditions["high_spec"] for g in planned.groups}
    real = placements.frame["high_spec"].value_counts()
    total = max(real[c] / s for c, s in {"Arts": 0.2, "Commerce": 0.4, "Science": 0.4}.items())
    final = {g.conditions["high_spec"]: real[g.conditions["high_spec"]] + g.rows for g in planned.groups}
    for value, share in {"Arts": 0.2, "Commerce": 0.4, "Science": 0.4}.items():
        assert abs(final.get(value, real[value]) - share * round(total)) <= 1


def test_conditions_add_each_group_with_its_values(placements, train):
    planned = plan(
        placements,
        train,
        conditions=[{"gender": "M", "rows": 30}, {"gender": "F", "placed": "true", "rows": 20}],
    )
    assert [g.rows for g in planned.groups] == [30, 20]
    assert planned.groups[1].conditions == {"gender": "F", "placed": True}
    frame = planned.conditions_frame()
    assert len(frame) == 50 and frame["gender"].tolist() == ["M"] * 30 + ["F"] * 20
    assert frame["placed"].iloc[:30].isna().all() and frame["placed"].iloc[30:].eq(True).all()
    real = placements.frame
    assert planned.groups[1].real_rows == int(matches(real, {"gender": "F", "placed": True}).sum())


def test_measured_rows_scale_each_group_to_the_training_split(placements, train):
    planned = plan(placements, train, conditions=[{"gender": "M", "rows": 30}, {"gender": "F", "rows": 20}])
    (a, b), (c, d) = planned.measured_rows()
    assert a == 0 and c == 30
    for (start, stop), group in zip(planned.measured_rows(), planned.groups, strict=True):
        assert stop - start == round(group.rows * group.training_rows / group.real_rows)


# ---- requests that cannot be met fail up front, with the reason ------------------------------------------


def test_a_class_outside_the_contract_is_refused(placements, train):
    with pytest.raises(ConfigError) as info:
        plan(placements, train, conditions=[{"gender": "X", "rows": 10}])
    assert "gender" in info.value.message and "'X'" in info.value.message


def test_a_column_outside_the_contract_is_refused(placements, train):
    with pytest.raises(ConfigError) as info:
        plan(placements, train, conditions=[{"colour": "red", "rows": 10}])
    assert "colour" in info.value.message


def test_a_generator_without_conditional_sampling_is_refused_for_conditioned_forms(placements, train):
    for fields in ({"rebalance": {"placed": {"false": 0.5}}}, {"conditions": [{"gender": "M", "rows": 5}]}):
        with pytest.raises(ConfigError) as info:
            plan(placements, train, supports_conditions=False, generator={"name": "bootstrap"}, **fields)
        assert "bootstrap generator cannot sample under conditions" in info.value.message
    assert plan(placements, train, supports_conditions=False, rows=5).synthetic_rows == 5


def test_more_rows_of_a_rare_group_than_the_gate_allows_are_refused(placements, train):
    training = int(matches(train, {"gender": "F", "placed": False}).sum())
    too_many = training * 10 + 1
    with pytest.raises(UserInputError) as info:
        plan(placements, train, conditions=[{"gender": "F", "placed": "false", "rows": too_many}])
    assert "gates.synthetic_per_real_max" in info.value.message
    assert f"at most {training * 10:,}" in info.value.hint
    allowed = plan(placements, train, conditions=[{"gender": "F", "placed": "false", "rows": training * 10}])
    assert allowed.synthetic_rows == training * 10


def test_a_group_too_small_to_learn_is_refused(placements, train):
    with pytest.raises(UserInputError) as info:
        plan(placements, train, conditions=[{"high_spec": "Arts", "placed": "false", "rows": 5}])
    assert "gates.group_rows_min" in info.value.message
    fine = plan(
        placements,
        train,
        conditions=[{"high_spec": "Arts", "placed": "false", "rows": 5}],
        gates={"group_rows_min": 1},
    )
    assert fine.synthetic_rows == 5


def test_rebalancing_a_numeric_column_or_leaving_no_share_for_other_classes_is_refused(placements, train):
    with pytest.raises(ConfigError, match="only a categorical or boolean column has classes"):
        plan(placements, train, rebalance={"mba_perc": {"60": 0.5}})
    with pytest.raises(ConfigError, match="other class"):
        plan(placements, train, rebalance={"high_spec": {"Arts": 0.5, "Commerce": 0.5}})
    with pytest.raises(ConfigError, match="adds no rows"):
        plan(placements, train, rebalance={"placed": {"true": 148 / 215}})  # as it is


def test_a_synthetic_column_that_is_already_a_column_is_refused(placements, train):
    with pytest.raises(ConfigError, match="already a column"):
        plan(placements, train, rows=5, synthetic_column="placed")
