"""Sending and the claim on each row: a mail is recorded as sent as soon as the server has
it, before the next one goes; a worker whose claim has run out stops; no mail is handed
over after half the lease. (Two real worker processes: tests/ops/test_workers.py.)"""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core import mail as outbox_of_django

from casedesk.common import clock
from casedesk.jobs.queue import jobs_claim
from casedesk.mail.models import OutboundMail
from casedesk.mail.outbound import send
from casedesk.tickets import services


def rows(world, n: int, tickets=None) -> list[OutboundMail]:
    made = [
        OutboundMail(
            desk=world.desk,
            ticket=tickets[i % len(tickets)] if tickets else None,
            kind="adhoc",
            key=f"k{i}",
            to=[f"p{i}@example.org"],
            address=f"p{i}@example.org",
            from_address="desk@example.org",
            subject=f"m{i}",
            body_text="x",
            message_id=f"<m{i}@casedesk.test>",
            created_at=clock.now(),
        )
        for i in range(n)
    ]
    return OutboundMail.objects.bulk_create(made)


def states() -> list[tuple[str, int]]:
    return list(OutboundMail.objects.order_by("id").values_list("status", "attempts"))


def test_a_batch_cut_off_midway_has_recorded_every_mail_that_went(world, monkeypatch):
    rows(world, 5)
    built = send.message_of

    def dies_on_the_third(row):
        if row.subject == "m2":
            raise KeyboardInterrupt  # as if the worker were killed while sending
        return built(row)

    monkeypatch.setattr(send, "message_of", dies_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        send.mail_send_due()
    assert len(outbox_of_django.outbox) == 2
    # the two that went are sent; only the rest waits for the lease to run out
    assert states() == [("sent", 1)] * 2 + [("pending", 1)] * 3


def test_a_worker_whose_claim_ran_out_sends_nothing_more(world, monkeypatch):
    rows(world, 5)
    built = send.message_of
    taken: list[int] = []

    def another_worker_takes_over(row):
        if not taken:  # the lease runs out and another worker claims the rows
            OutboundMail.objects.update(next_attempt_at=clock.now())
            taken.extend(jobs_claim(send.QUEUE, now=clock.now()))
        return built(row)

    monkeypatch.setattr(send, "message_of", another_worker_takes_over)
    assert send.mail_send_due() == 5
    assert len(taken) == 5
    assert len(outbox_of_django.outbox) == 1  # the one under way when it was taken
    # the rows are the other worker's: not marked by this one, not released by it
    assert states() == [("pending", 2)] * 5


def test_no_mail_is_handed_over_after_half_the_lease(world, monkeypatch, settings):
    settings.CASEDESK_JOB_LEASE_SECONDS = 10
    rows(world, 4)
    ticks = iter(range(0, 1000, 3))  # seconds: 3 go by between each look at the time

    class Slow:
        @staticmethod
        def monotonic() -> float:
            return float(next(ticks))

    monkeypatch.setattr(send, "time", Slow)
    send.mail_send_due()  # the deadline is at 5 s: one mail goes at 3 s, then it stops
    assert len(outbox_of_django.outbox) == 1
    # the rest is due again at once, and that claim did not count as a try
    assert states() == [("sent", 1)] + [("pending", 0)] * 3
    monkeypatch.undo()
    assert send.mail_send_due() == 3
    assert states() == [("sent", 1)] * 4


def test_on_several_connections_each_mail_is_recorded_before_its_lane_sends_the_next(
    world, smtp, monkeypatch
):
    tickets = [
        services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{n}") for n in range(3)
    ]
    OutboundMail.objects.all().delete()  # their confirmations are not part of this
    made = rows(world, 9, tickets)
    steps: list[tuple[str, int]] = []  # appended from the lanes' threads and from this one
    built, recorded = send.message_of, send._record_sent

    def build(row):
        steps.append(("build", row.pk))
        return built(row)

    def record(rows, now):
        steps.extend(("sent", row.pk) for row in rows)
        return recorded(rows, now)

    monkeypatch.setattr(send, "message_of", build)
    monkeypatch.setattr(send, "_record_sent", record)
    assert send.mail_send_due() == 9
    assert len(smtp.received) == 9
    for ticket in tickets:
        lane = [r.pk for r in made if r.ticket_id == ticket.pk]
        for before, after in pairwise(lane):
            assert steps.index(("sent", before)) < steps.index(("build", after))
    assert states() == [("sent", 1)] * 9


def test_the_load_run_allows_a_repeat_per_connection_of_a_killed_worker():
    from tests.ops.loadfault import MAIL_CONNECTIONS

    assert MAIL_CONNECTIONS == send.CONNECTIONS
