"""Two `casedesk worker` processes on one PostgreSQL database send the same due mail: every
mail is sent, none twice by the two of them; one of them is killed (SIGKILL) in the
middle of its batch, and what it had claimed is sent by the other once its lease
(CASEDESK_JOB_LEASE_SECONDS) has run out."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections import Counter

import pytest
from aiosmtpd.controller import Controller

from tests.ops.installation import Installation, free_port
from tests.ops.pgdb import connect

pytestmark = pytest.mark.postgres(reason="two worker processes on one database")

MAILS = 120  # more than one claim (50): both workers take a share
LEASE = 8

SETUP = f"""
from casedesk.desks.services import desk_create, preset_store
from casedesk.mail.models import OutboundMail
from django.utils import timezone
desk = desk_create(name="Mail desk", key_prefix="ML", workflow=preset_store("default"))
OutboundMail.objects.bulk_create([
    OutboundMail(desk=desk, kind="adhoc", key=f"k{{n}}", to=[f"p{{n}}@example.org"],
                 address=f"p{{n}}@example.org", from_address="desk@example.org",
                 subject=f"m{{n}}", body_text="x", message_id=f"<m{{n}}@casedesk.test>",
                 created_at=timezone.now())
    for n in range({MAILS})
])
"""


class SlowSink:
    """An SMTP server that takes a while over each mail, so a batch is under way when a
    worker is killed; it keeps the Message-ID of each mail it accepted."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.03)
        for line in envelope.original_content.splitlines():
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.ids.append(line.split(b":", 1)[1].strip().decode())
        return "250 accepted"


def test_two_workers_send_each_mail_once_and_a_killed_ones_claims_come_back(database, tmp_path):
    name, url = database
    sink = SlowSink()
    port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=port)
    smtp.start()
    installation = Installation(
        tmp_path / "data",
        DATABASE_URL=url,
        CASEDESK_SMTP_URL=f"smtp://127.0.0.1:{port}",
        CASEDESK_WORKER_INTERVAL="0.3",
        CASEDESK_JOB_LEASE_SECONDS=str(LEASE),
    )
    try:
        installation.run("manage", "migrate", "-v0")
        made = installation.run("manage", "shell", "-c", SETUP, check=False)
        assert made.returncode == 0, made.stderr
        first = installation.start("worker")
        deadline = time.monotonic() + 120

        def sent(count: int) -> None:
            while len(sink.ids) < count:
                assert time.monotonic() < deadline, f"{len(sink.ids)} sent"
                time.sleep(0.02)

        sent(5)  # the first worker has claimed a batch and is sending it
        second = installation.start("worker")  # claims the next batch, past the leased one
        sent(25)
        killed_at = time.monotonic()
        installation.stop(first, signal.SIGKILL)  # mid-batch: its claims stay leased
        while len(set(sink.ids)) < MAILS:
            assert second.poll() is None, installation.stop(second)
            assert time.monotonic() < deadline, f"{len(set(sink.ids))} of {MAILS} sent"
            time.sleep(0.1)
        finished = time.monotonic()
        time.sleep(1)  # nothing more comes
        installation.stop(second)
    finally:
        installation.stop_all()
        smtp.stop()

    counts = Counter(sink.ids)
    assert set(counts) == {f"<m{n}@casedesk.test>" for n in range(MAILS)}  # none lost
    # none twice, but for the one mail the killed worker may have been handing over
    # when it died (SMTP accepted it, the row was not yet marked): at most one
    doubled = [mid for mid, times in counts.items() if times > 1]
    assert len(doubled) <= 1 and max(counts.values()) <= 2, counts.most_common(3)
    with connect(name) as conn:
        rows = conn.execute(
            "SELECT status, count(*), max(attempts) FROM mail_outboundmail GROUP BY status"
        ).fetchall()
    assert [r[:2] for r in rows] == [("sent", MAILS)], rows
    assert rows[0][2] == 2  # the killed worker's claims were tried again, after the lease
    assert finished - killed_at >= LEASE - 1
