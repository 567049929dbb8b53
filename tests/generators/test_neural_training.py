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
    assert [(u.done, u.total) for u in updates] == [(0, 5), (1, 5), (1, 5)]
    assert updates[1].metrics == {"loss": 1.0}
    assert "time budget" in updates[-1].message


def test_the_clock_without_a_budget_runs_every_epoch():
    updates = []
    clock = TrainingClock(3, None, updates.append, "a test")
    for epoch in clock:
        clock.record(epoch, {"loss": float(epoch)})
    assert clock.completed == 3 and not clock.stopped_early
    assert [u.done for u in updates] == [0, 1, 2, 3]
