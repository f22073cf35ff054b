"""Ticket lists: filters, keyword search on each engine's index, keyset pages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import connection

from casedesk.common.errors import InvalidInput
from casedesk.tickets import services
from casedesk.tickets.search import TicketFilters
from casedesk.tickets.selectors import ticket_page_for_actor


def keys(page) -> list[str]:
    return [t.key for t in page.tickets]


def search(user, **filters):
    return keys(ticket_page_for_actor(user=user, filters=TicketFilters(**filters), limit=100))


@pytest.fixture
def tickets(world, clock):
    made = {}
    for name, user, title, description in [
        ("printer", world.alice, "Printer on floor 2 is jammed", "Paper everywhere"),
        (
            "invoice",
            world.amir,
            "Invoice export stops at line 99",
            "The export to the ledger fails",
        ),
        ("danish", world.alice, "Sagen er genåbnet", "Fakturaen mangler"),
        ("bobs", world.bob, "Printer at Org B", "CANARY-b"),
    ]:
        clock.advance(minutes=5)
        made[name] = services.ticket_create(
            actor=user, desk=world.desk, title=title, description=description
        )
    return made


def test_keyword_search_matches_every_word_by_prefix(world, tickets):
    assert search(world.alice, text="printer") == [tickets["printer"].key]  # not Org B's
    assert search(world.agent, text="printer") == [tickets["bobs"].key, tickets["printer"].key]
    assert search(world.agent, text="expor ledg") == [tickets["invoice"].key]
    assert search(world.agent, text="export printer") == []
    assert search(world.agent, text="GENÅBNET") == [tickets["danish"].key]
    assert search(world.agent, text="gen-3") == [tickets["danish"].key]  # a key finds its ticket
    assert search(world.alice, text="CANARY") == []


def test_search_text_never_reaches_the_query_syntax(world, tickets):
    for nasty in ['"', "'", "a OR b", "NEAR(x y)", "*", ":*", "!", "(", "-", "\\", "title:x", "&|"]:
        search(world.agent, text=nasty)  # no syntax error, whatever it finds
    assert search(world.agent, text="' OR 1=1--") == []


def test_search_follows_edits(world, tickets):
    services.ticket_edit(actor=world.agent, ticket=tickets["printer"], title="Scanner is jammed")
    assert search(world.agent, text="printer") == [tickets["bobs"].key]
    assert search(world.agent, text="scanner") == [tickets["printer"].key]


def test_accent_folding_differs_by_engine(world, tickets):
    # SQLite's FTS5 folds accents; PostgreSQL's 'simple' configuration matches words as
    # written (folding there needs the unaccent extension, which not every host allows).
    folded = search(world.agent, text="genabnet")
    assert folded == ([tickets["danish"].key] if connection.vendor == "sqlite" else [])


def test_filters(world, tickets):
    services.ticket_transition(
        actor=world.agent, ticket=tickets["printer"], transition="start", assignee=world.agent
    )
    services.ticket_transition(
        actor=world.agent,
        ticket=tickets["invoice"],
        transition="ask_customer",
        comment="Which ledger?",
    )
    all_a = {tickets[n].key for n in ("printer", "invoice", "danish")}
    assert set(search(world.alice)) == all_a
    assert search(world.agent, assignee="me") == [tickets["printer"].key]
    assert set(search(world.agent, assignee="none")) == {
        tickets[n].key for n in ("invoice", "danish", "bobs")
    }
    assert search(world.agent, turn="customer") == [tickets["invoice"].key]
    assert search(world.agent, status="open") == [tickets["printer"].key]
    assert search(world.agent, organisation=world.org_b.pk) == [tickets["bobs"].key]
    assert search(world.alice, organisation=world.org_b.pk) == []  # filters never widen
    assert search(world.amir, reporter="me") == [tickets["invoice"].key]
    assert search(world.amir, waiting_for_me=True) == [tickets["invoice"].key]
    assert search(world.alice, waiting_for_me=True) == []
    assert search(world.agent, waiting_for_me=True) == [tickets["printer"].key]
    assert search(world.agent, open=False) == []
    with pytest.raises(InvalidInput):
        search(world.agent, assignee="somebody")
    with pytest.raises(InvalidInput):
        search(world.agent, sort="priority")


def test_waiting_for_me_follows_the_customer_side_assignee(world, tickets):
    """On the customer's turn, a ticket waits for its customer-side assignee if it has
    one, else for its reporter; nobody else in the organisation."""
    invoice = tickets["invoice"]  # reported by Amir
    services.ticket_transition(
        actor=world.agent, ticket=invoice, transition="ask_customer", comment="Which ledger?"
    )
    assert search(world.amir, waiting_for_me=True) == [invoice.key]
    assert search(world.alice, waiting_for_me=True) == []
    services.ticket_assign_customer(actor=world.agent, ticket=invoice, person=world.alice)
    assert search(world.alice, waiting_for_me=True) == [invoice.key]
    assert search(world.amir, waiting_for_me=True) == []
    assert search(world.bob, waiting_for_me=True) == []  # another organisation


def test_keyset_pages_walk_everything_once_in_order(world, clock, django_assert_num_queries):
    made = []
    for i in range(23):
        clock.advance(seconds=1 if i % 3 else 0)  # equal timestamps too: the id breaks ties
        made.append(services.ticket_create(actor=world.alice, desk=world.desk, title=f"t{i}").key)
    for sort, expected in (("-created", made[::-1]), ("created", made)):
        seen, cursor = [], None
        while True:
            with django_assert_num_queries(3):  # the agent's desks, the tickets, their reporters
                page = ticket_page_for_actor(
                    user=world.agent, filters=TicketFilters(sort=sort), cursor=cursor, limit=10
                )
            seen += keys(page)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected


def test_bad_cursors_and_limits_are_refused(world, tickets):
    first = ticket_page_for_actor(user=world.agent, limit=1)
    assert first.next_cursor
    for bad in (first.next_cursor[:-2] + "xx", "garbage", "W10:1"):
        with pytest.raises(InvalidInput) as caught:
            ticket_page_for_actor(user=world.agent, cursor=bad, limit=1)
        assert "cursor" in caught.value.errors
    with pytest.raises(InvalidInput):  # a cursor of one sort order used with another
        ticket_page_for_actor(
            user=world.agent,
            cursor=first.next_cursor,
            filters=TicketFilters(sort="created"),
            limit=1,
        )
    for limit in (0, 101, -5):
        with pytest.raises(InvalidInput):
            ticket_page_for_actor(user=world.agent, limit=limit)


def test_sqlite_search_plans_find_what_the_prefix_query_finds(world, tickets, monkeypatch):
    """SQLite: each typed word is searched as the indexed words it begins, and the search
    is read in one of three ways (its matches read and sorted, a walk in page order
    against their ids, a walk asking the text index about each ticket). Every way gives
    the answer the plain prefix query gives. PostgreSQL plans from its own statistics and
    never asks for the SQLite plan."""
    from casedesk.tickets import search as search_module

    real = search_module._sqlite_plan
    if connection.vendor != "sqlite":

        def refuse(words):
            raise AssertionError("the SQLite plan on another engine")

        monkeypatch.setattr(search_module, "_sqlite_plan", refuse)
        assert search(world.agent, text="printer") == [tickets["bobs"].key, tickets["printer"].key]
        return
    texts = [
        "printer",
        "print",
        "expor ledg",
        "export printer",
        "genåbnet",
        "GENÅ",
        "99",
        "9",
        "p",
        "fails the",
        "nothing_like_this",
        "fakturaen",
    ]
    for text in texts:
        chosen = search(world.agent, text=text)
        for way in search_module.WAYS:
            monkeypatch.setattr(
                search_module, "_sqlite_plan", lambda w, way=way: replace(real(w), way=way)
            )
            assert search(world.agent, text=text) == chosen, (text, way)
            assert search(world.alice, text=text) == [
                k for k in chosen if k != tickets["bobs"].key
            ], (text, way)
        monkeypatch.setattr(
            search_module,
            "_sqlite_plan",
            lambda w: search_module._SqlitePlan(" AND ".join(map(search_module._prefix, w))),
        )
        assert search(world.agent, text=text) == chosen, text
        monkeypatch.setattr(search_module, "_sqlite_plan", real)
    assert real(["printer"]).query == '("printer")'
    assert real(["zzz"]).way == "read"  # in none
    assert real(["genå"]).query == '("genabnet")'


def test_sqlite_search_way_follows_how_common_the_search_is():
    """The way is the cheapest by the costs in casedesk/tickets/search.py: a rare search
    is read and sorted, a common one walks against its ids, one in (nearly) every ticket
    asks about each ticket it passes. Words taken together are in fewer tickets; a walk
    asking about each ticket is only taken when every word is whole and the words must
    share most tickets however they fall."""
    from casedesk.tickets.search import _cheapest

    n = 100_000
    assert _cheapest(n, [0.001], whole=True) == "read"
    assert _cheapest(n, [0.01], whole=True) == "set"
    assert _cheapest(n, [0.15], whole=True) == "set"
    assert _cheapest(n, [1.0], whole=True) == "probe"
    assert _cheapest(n, [1.0], whole=False) == "set"  # a prefix is never asked about each
    assert _cheapest(n, [1.0, None], whole=True) == "set"  # nor a word not counted
    assert _cheapest(n, [1.0, 1.0, 0.98], whole=True) == "probe"
    assert _cheapest(n, [0.3, 0.3], whole=True) == "set"  # might share no ticket at all
    assert _cheapest(n, [0.15, 0.01], whole=True) == "read"
    assert _cheapest(n, [0.0], whole=True) == "read"
    assert _cheapest(0, [None], whole=False) == "read"


def test_every_sqlite_search_way_pages_alike(world, clock, monkeypatch):
    """A search's keyset pages hold the same tickets in the same order whichever way it is
    read (on PostgreSQL the one way there is)."""
    from casedesk.tickets import search as search_module

    for i in range(14):
        clock.advance(seconds=1 if i % 4 else 0)  # equal times too: the id breaks ties
        title = f"Printer {i} jammed" if i % 3 else f"Scanner {i} is fine"
        services.ticket_create(actor=world.alice, desk=world.desk, title=title)

    def walk(text: str) -> list[str]:
        seen, cursor = [], None
        while True:
            page = ticket_page_for_actor(
                user=world.agent, filters=TicketFilters(text=text), cursor=cursor, limit=4
            )
            seen += keys(page)
            cursor = page.next_cursor
            if cursor is None:
                return seen

    real = search_module._sqlite_plan
    for text in ("printer", "jammed print", "scanner fine", "1"):
        expected = walk(text)
        assert expected, text
        if connection.vendor != "sqlite":
            continue
        for way in search_module.WAYS:
            monkeypatch.setattr(
                search_module, "_sqlite_plan", lambda w, way=way: replace(real(w), way=way)
            )
            assert walk(text) == expected, (text, way)
        monkeypatch.setattr(search_module, "_sqlite_plan", real)
    assert len(walk("printer")) == 9
