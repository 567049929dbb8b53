"""Drift checks against a baseline, their thresholds (flags > contract > defaults), and the contract's
`drift:` section in YAML (written only when set, so older contracts keep their fingerprints)."""

from __future__ import annotations

import pytest
from support import make_mixed_frame, mixed_contract

from synthwright.data_contracts.io import (
    contract_fingerprint,
    contract_from_dict,
    contract_to_dict,
    dump_contract,
)
from synthwright.data_contracts.model import DriftThresholds
from synthwright.errors import ConfigError
from synthwright.validators.drift import drift_checks, drift_thresholds

SCORED = ["age", "income", "colour", "member", "start_date", "end_date"]  # no identifier, no pii column


def with_drift(**limits):
    return mixed_contract().model_copy(update={"drift": DriftThresholds(**limits)})


# ---- thresholds --------------------------------------------------------------------------------------


def test_defaults_when_neither_contract_nor_flags_say():
    assert drift_thresholds(mixed_contract()) == DriftThresholds()
    assert DriftThresholds() == DriftThresholds(
        shape_error_max=10.0, trend_error_max=15.0, column_shape_error_max=20.0
    )


def test_contract_section_over_defaults_and_flags_over_both():
    contract = with_drift(shape_error_max=30, column_shape_error_max=None)
    assert drift_thresholds(contract) == DriftThresholds(
        shape_error_max=30, trend_error_max=15, column_shape_error_max=None
    )
    given = {"shape_error_max": 5.0, "trend_error_max": None, "column_shape_error_max": 25.0}
    assert drift_thresholds(contract, given) == DriftThresholds(
        shape_error_max=5, trend_error_max=15, column_shape_error_max=25
    )


def test_a_threshold_outside_0_to_100_is_a_config_error():
    with pytest.raises(ConfigError, match="shape_error_max") as info:
        drift_thresholds(mixed_contract(), {"shape_error_max": -1})
    assert info.value.hint
    with pytest.raises(ConfigError, match="drift.column_shape_error_max"):
        contract_from_dict({**contract_to_dict(mixed_contract()), "drift": {"column_shape_error_max": 101}})


# ---- the contract's drift section ----------------------------------------------------------------------


def test_contracts_without_a_drift_section_keep_their_dict_and_fingerprint():
    contract = mixed_contract()
    assert contract.drift is None
    assert "drift" not in contract_to_dict(contract)
    assert "drift" not in dump_contract(contract)
    reloaded = contract_from_dict(contract_to_dict(contract))
    assert contract_fingerprint(reloaded) == contract_fingerprint(contract)


def test_drift_section_round_trips_with_only_what_was_decided():
    contract = with_drift(trend_error_max=25, column_shape_error_max=None)
    written = contract_to_dict(contract)
    assert written["drift"] == {"trend_error_max": 25.0, "column_shape_error_max": None}
    reloaded = contract_from_dict(written)
    assert reloaded.drift == contract.drift
    assert contract_fingerprint(reloaded) == contract_fingerprint(contract)
    assert contract_fingerprint(contract) != contract_fingerprint(mixed_contract())
    assert contract_to_dict(with_drift())["drift"] == {}  # present but all defaults


def test_unknown_drift_key_is_named():
    with pytest.raises(ConfigError, match="drift.shape_max"):
        contract_from_dict({**contract_to_dict(mixed_contract()), "drift": {"shape_max": 5}})


# ---- checks --------------------------------------------------------------------------------------------


def test_identical_tables_pass_every_check_one_per_scored_column_and_two_overall():
    frame = make_mixed_frame(200)
    results = drift_checks(frame, frame.copy(), mixed_contract(), DriftThresholds())
    assert [r.column for r in results] == [*SCORED, None, None]
    assert [r.check for r in results[-2:]] == ["shape_error", "trend_error"]
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
    assert results[0].message == "column 'age': shape error 0.0 % vs the baseline, ≤ 20.0 %"


def test_two_samples_of_one_population_pass_the_defaults():
    results = drift_checks(
        make_mixed_frame(400, 0), make_mixed_frame(400, 1), mixed_contract(), DriftThresholds()
    )
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]


def test_a_shifted_column_fails_its_own_check_and_names_it():
    baseline = make_mixed_frame(400, 0)
    drifted = make_mixed_frame(400, 1)
    drifted["age"] = drifted["age"] + 15
    results = {
        r.column or r.check: r for r in drift_checks(baseline, drifted, mixed_contract(), DriftThresholds())
    }
    assert not results["age"].passed
    assert "column 'age'" in results["age"].message and "above 20.0 %" in results["age"].message
    assert all(results[name].passed for name in SCORED if name != "age")


def test_overall_failures_name_the_worst_columns_and_pairs():
    baseline = make_mixed_frame(400, 0)
    drifted = make_mixed_frame(400, 1)
    drifted["age"] = drifted["age"] + 15
    limits = DriftThresholds(shape_error_max=1, trend_error_max=1, column_shape_error_max=None)
    results = drift_checks(baseline, drifted, mixed_contract(), limits)
    assert [r.check for r in results] == ["shape_error", "trend_error"]  # no per-column checks
    shape, trend = results
    assert not shape.passed and "worst: age" in shape.message
    assert not trend.passed and "~" in trend.message.split("worst:")[1]


def test_an_empty_side_is_a_failed_check_not_a_crash():
    frame = make_mixed_frame(50)
    (result,) = drift_checks(frame, frame.iloc[:0], mixed_contract(), DriftThresholds())
    assert not result.passed and "the data has no rows" in result.message


def test_tables_over_the_fidelity_cap_are_scored_on_a_sample_and_say_so():
    frame, contract = make_mixed_frame(120, seed=0), mixed_contract()
    results = drift_checks(frame, make_mixed_frame(120, seed=1), contract, DriftThresholds(), max_rows=50)
    overall = [r for r in results if r.column is None]
    assert len(overall) == 2
    assert all("on a seeded sample of 50 baseline and 50 data rows" in r.message for r in overall)
    whole = drift_checks(frame, make_mixed_frame(120, seed=1), contract, DriftThresholds())
    assert not any("sample" in r.message for r in whole)
