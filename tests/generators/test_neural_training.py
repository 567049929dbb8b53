"""The training clock: epochs reported as progress, and a time budget that stops the training."""

from __future__ import annotations

import time

import torch

from synthwright.generators.neural.training import TrainingClock, measure_step_seconds

CPU = torch.device("cpu")


def test_the_clock_reports_epochs_and_stops_at_its_budget():
    updates = []
    clock = TrainingClock(5, 0.0001, updates.append, "a test")  # 6 ms: planned after the first epoch
    for epoch in clock:
        time.sleep(0.02)
        clock.record(epoch, {"loss": 1.0 / (epoch + 1)})
    assert clock.completed == 1 and clock.stopped_early
    summary = clock.summary(CPU)
    assert summary["epochs_requested"] == 5 and summary["epochs_completed"] == 1
    assert summary["stopped_early"] is True and summary["device"] == "cpu"
    assert summary["losses"] == [{"loss": 1.0}]
    assert [(u.done, u.total) for u in updates] == [(0, 5), (1, 1), (1, 1)]
    assert updates[1].metrics == {"loss": 1.0}
    assert "time budget of 0.0001 min: trained 1 of 5 epochs" in updates[-1].message


def test_a_measured_epoch_time_plans_the_epochs_before_the_first():
    """A 0.3 s budget at a measured 50 ms an epoch plans six epochs out of a hundred, fixed before
    training: the schedule's length is known from the first step."""
    clock = TrainingClock(100, 0.005, lambda update: None, "a test")
    assert clock.plan(0.05) == 6 and clock.planned_steps(per_epoch=10) == 60
    for epoch in clock:
        clock.record(epoch, {"loss": 1.0})
    assert clock.completed == 6 and clock.stopped_early
    assert clock.summary(CPU)["epochs_planned"] == 6


def test_without_a_measurement_the_first_epoch_plans_the_rest():
    clock = TrainingClock(100, 0.005, lambda update: None, "a test")
    for epoch in clock:
        time.sleep(0.05)
        clock.record(epoch, {"loss": 1.0})
    assert 3 <= clock.completed <= 7 and clock.stopped_early
    assert clock.planned_steps(per_epoch=10) == clock.completed * 10


def test_a_machine_that_slows_down_still_stops_past_the_budget():
    clock = TrainingClock(100, 0.001, lambda update: None, "a test")  # 60 ms
    clock.plan(0.001)  # measured 1 ms an epoch: 60 planned, but each takes 30 ms
    for epoch in clock:
        time.sleep(0.03)
        clock.record(epoch, {"loss": 1.0})
    assert clock.completed < 10 and clock.stopped_early


def test_measuring_a_step_takes_the_median_after_warm_up():
    calls = []

    def step():
        calls.append(1)
        time.sleep(0.05 if len(calls) <= 2 else 0.01)

    seconds = measure_step_seconds(step, CPU, steps=5)
    assert len(calls) == 7 and 0.009 <= seconds < 0.04


def test_the_budget_never_plans_more_than_the_epochs_asked_for():
    clock = TrainingClock(4, 10.0, lambda update: None, "a test")
    for epoch in clock:
        clock.record(epoch, {"loss": 1.0})
    assert clock.completed == 4 and not clock.stopped_early
    assert clock.planned_steps(per_epoch=3) == 12


def test_the_clock_without_a_budget_runs_every_epoch():
    updates = []
    clock = TrainingClock(3, None, updates.append, "a test")
    for epoch in clock:
        clock.record(epoch, {"loss": float(epoch)})
    assert clock.completed == 3 and not clock.stopped_early
    assert [u.done for u in updates] == [0, 1, 2, 3]
