"""The page benchmark at a small size, as a smoke test (no timings): bench/pages.py's data
and pages, each page's statement count the same at two sizes, and the plan of every
statement those pages send that reads tickets, comments, history, files or links: an index
read, no full scan, no sort of all tickets (tests/plans.py says how each engine is read).
A change that turns a list into a scan and a sort fails here, on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casedesk.tickets.search import TicketFilters
from casedesk.tickets.selectors import (
    attachments_for,
    comments_for,
    history_for,
    links_for,
    ticket_get_for_actor,
    ticket_page_for_actor,
)
from tests import plans

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _bench_pages():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("bench_pages", BENCH / "pages.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


@pytest.fixture
def bench(db, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    return _bench_pages()


def _render(pages, agent, customer, ticket):
    """{label: statements} for each page, and the statements that read tickets."""
    counts, reads = {}, []
    for label, user, url in pages.pages(agent, customer, ticket):
        client = Client()
        client.force_login(user)
        assert client.get(url).status_code == 200, url  # warm the compiled workflows
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[label] = len(queries)
        reads += [q["sql"] for q in queries.captured_queries if plans.reads_tickets(q["sql"])]
    return counts, reads


def test_bench_pages_keep_their_statement_counts_and_plans(bench):
    agent, customer = bench.build(2000, migrate=False)
    ticket = bench.story(agent, customer)
    small, reads = _render(bench, agent, customer, ticket)
    bench.build(5000, migrate=False)
    large, more = _render(bench, agent, customer, ticket)
    assert small == large, "a page's statement count grew with the tickets"
    faults = [f for sql in dict.fromkeys(reads + more) for f in plans.faults(sql)]
    assert not faults, "\n\n".join(faults)


def _statements(fn) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return [q["sql"] for q in queries.captured_queries if plans.reads_tickets(q["sql"])]


def test_hot_statements_read_an_index_in_order(bench):
    """The lists, searches and ticket page reads, called directly, one plan each."""
    agent, customer = bench.build(200, migrate=False)
    ticket = bench.story(agent, customer)
    desk = ticket.desk_id
    lists = {
        "agent: all": (agent, TicketFilters()),
        "agent: mine, open": (agent, TicketFilters(assignee="me", open=True)),
        "agent: one desk, status": (agent, TicketFilters(desk=desk, status="open")),
        "agent: one desk, active": (agent, TicketFilters(desk=desk, active=True)),
        "agent: waiting for the customer": (agent, TicketFilters(turn="customer")),
        "agent: search": (agent, TicketFilters(text="printer ledger")),
        # the service-level lists in their own order: an index walk, no sort
        "agent: due first": (agent, TicketFilters(sort="due")),
        "agent: target missed": (agent, TicketFilters(sla="breached", sort="missed")),
        "agent: target close": (agent, TicketFilters(sla="at_risk", sort="due")),
        "agent: one desk, target missed": (
            agent,
            TicketFilters(desk=desk, sla="breached", sort="missed"),
        ),
        "agent: one desk, target close": (
            agent,
            TicketFilters(desk=desk, sla="at_risk", sort="due"),
        ),
        "agent: missed, then due": (agent, TicketFilters(sort="missed")),
        "customer: all": (customer, TicketFilters()),
        "customer: open": (customer, TicketFilters(open=True)),
        "customer: search": (customer, TicketFilters(text="invoice")),
    }
    checked = 0
    for label, (user, filters) in lists.items():
        sqls = _statements(lambda u=user, f=filters: ticket_page_for_actor(user=u, filters=f))
        assert sqls, label
        for sql in sqls:
            assert not plans.faults(sql), f"{label}:\n" + "\n".join(plans.faults(sql))
            checked += 1
    for user in (agent, customer):
        found = ticket_get_for_actor(user=user, key=ticket.key)
        for read in (comments_for, history_for, attachments_for, links_for):
            for sql in _statements(lambda r=read, u=user, t=found: r(user=u, ticket=t)):
                assert not plans.faults(sql), f"{read.__name__}:\n" + "\n".join(plans.faults(sql))
                checked += 1
    assert checked >= len(lists) + 8


def test_the_plan_check_catches_a_scan_and_a_sort(bench):
    """The checker itself: an unindexed filter and order on tickets are reported."""
    bench.build(50, migrate=False)
    with CaptureQueriesContext(connection) as queries:
        list(
            bench.Ticket.objects.filter(description__contains="x")
            .order_by("priority")
            .values_list("pk")[:5]
        )
    found = plans.faults(queries.captured_queries[-1]["sql"])
    assert any(f.startswith("full scan") for f in found), found
    assert any(f.startswith("sort") for f in found), found


def test_every_search_way_reads_an_index(bench, monkeypatch):
    """SQLite reads a search in one of three ways, chosen by how common it is
    (casedesk/tickets/search.py); at a small size some are never chosen, so each is forced
    here for the agent's and the customer's searches and its plan read: no full scan, and
    the two walks go in page order (no sort at all). PostgreSQL chooses for itself: its
    plans of the same searches are read as they come."""
    from casedesk.tickets import search

    agent, customer = bench.build(200, migrate=False)
    real = search._sqlite_plan
    ways = search.WAYS if connection.vendor == "sqlite" else (None,)
    checked = 0
    for way in ways:
        if way is not None:
            monkeypatch.setattr(
                search, "_sqlite_plan", lambda w, way=way: replace(real(w), way=way)
            )
        for user in (agent, customer):
            for text in ("printer", "fails", "tiskárna 42", "printer ledger"):
                filters = TicketFilters(text=text)
                sqls = _statements(
                    lambda u=user, f=filters: ticket_page_for_actor(user=u, filters=f)
                )
                assert sqls, (way, text)
                for sql in sqls:
                    label = f"{way} {user.username} {text!r}"
                    assert not plans.faults(sql), f"{label}:\n" + "\n".join(plans.faults(sql))
                    if way in ("set", "probe"):
                        plan = plans.explain(sql)
                        assert "TEMP B-TREE" not in plan, f"{label} sorts:\n{plan}"
                    checked += 1
    assert checked >= len(ways) * 8
