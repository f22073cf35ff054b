"""Apps hook their own due work into every worker round."""

from __future__ import annotations

import pytest

from casedesk.ops import worker


@pytest.fixture
def sweeps():
    saved = dict(worker.SWEEPS)
    yield worker.SWEEPS
    worker.SWEEPS.clear()
    worker.SWEEPS.update(saved)


@pytest.mark.django_db
def test_a_sweep_runs_every_round_until_it_has_nothing_left(sweeps):
    left = [3]

    def sweep():
        if left[0]:
            left[0] -= 1
            return 1
        return 0

    worker.register_sweep("count", sweep)
    assert worker.run_once() == (0, 3)
    assert left == [0]


@pytest.mark.django_db
def test_a_failing_sweep_is_logged_and_does_not_stop_the_others(sweeps, caplog):
    ran = []

    def broken():
        raise RuntimeError("down")

    worker.register_sweep("broken", broken)
    worker.register_sweep("fine", lambda: ran.append(1) or 0)
    worker.run_once()
    assert ran == [1] and "sweep broken failed" in caplog.text
