"""The stories count what the worker does for the workflow (timers, warnings, release
tasks). Mail has its own tests (tests/mail); here its outbox consumer and sending step are
set aside, so the counts stay about the workflow."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _without_mail():
    from casedesk.ops import worker
    from casedesk.tickets import outbox

    consumer, step = outbox.CONSUMERS.pop("mail", None), worker.STEPS.pop("mail", None)
    yield
    if consumer is not None:
        outbox.CONSUMERS["mail"] = consumer
    if step is not None:
        worker.STEPS["mail"] = step
