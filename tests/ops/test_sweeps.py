"""Apps hook their own due work into every worker round."""

from __future__ import annotations

import pytest

from casedesk.jobs import sweeps as registry
from casedesk.ops import worker


@pytest.fixture
def sweeps():
    saved = dict(registry.SWEEPS)
    yield registry.SWEEPS
    registry.SWEEPS.clear()
    registry.SWEEPS.update(saved)


@pytest.mark.django_db
def test_a_sweep_runs_every_round_until_it_has_nothing_left(sweeps):
    left = [3]

    def sweep():
        if left[0]:
            left[0] -= 1
            return 1
        return 0

    registry.register_sweep("count", sweep)
    assert worker.run_once() == (0, 3)
    assert left == [0]


@pytest.mark.django_db
def test_a_failing_sweep_is_logged_and_does_not_stop_the_others(sweeps, caplog):
    ran = []

    def broken():
        raise RuntimeError("down")

    registry.register_sweep("broken", broken)
    registry.register_sweep("fine", lambda: ran.append(1) or 0)
    worker.run_once()
    assert ran == [1] and "sweep broken failed" in caplog.text


@pytest.mark.django_db
def test_queued_tasks_run_through_django_tasks_own_worker_and_are_counted(world):
    """The worker runs ready tasks with `db_worker --batch`; a task enqueued in a change
    runs on the next round, once, and its result is stored by the backend."""
    from django_tasks import default_task_backend

    from casedesk.releases.models import Deployment
    from casedesk.releases.tasks import deliver_deployment

    result = deliver_deployment.enqueue(deployment_id=Deployment.objects.count() + 999)
    assert worker.run_once() == (0, 1)
    done = default_task_backend.get_result(result.id)
    assert done.status == "SUCCESSFUL" and done.return_value == 0
    assert worker.run_once() == (0, 0)


def test_the_worker_uses_only_the_public_interface_of_django_tasks():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(worker))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not {m for m in imported if m.startswith("django_tasks_db")}
