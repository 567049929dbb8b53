"""The training clock: epochs reported as progress, and a time budget that stops the training."""

from __future__ import annotations

import time

import torch

from synthwright.generators.neural.training import TrainingClock

CPU = torch.device("cpu")


def test_the_clock_reports_epochs_and_stops_at_its_budget():
    updates = []
    clock = TrainingClock(5, 0.0001, updates.append, "a test")  # 6 ms
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


def test_the_budget_sizes_the_epochs_from_the_measured_epoch_time():
    """A 0.3 s budget at 50 ms an epoch plans about six epochs out of a hundred, and the schedule's
    length follows the plan, so a learning rate decays to its end within the budget."""
    clock = TrainingClock(100, 0.005, lambda update: None, "a test")
    planned_steps = []
    for epoch in clock:
        time.sleep(0.05)
        clock.record(epoch, {"loss": 1.0})
        planned_steps.append(clock.planned_steps(per_epoch=10))
    assert 3 <= clock.completed <= 7 and clock.stopped_early
    assert planned_steps[-1] == clock.completed * 10 < 100 * 10
    assert clock.seconds < 0.3 + 0.1  # ends at the plan, not an epoch past the budget


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
