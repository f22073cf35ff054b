"""Ticket lists: filters, keyword search and keyset pages, for the portal, the agent queues
and the API alike.

Keyword search uses each engine's own full-text index: a generated `tsvector` column with a
GIN index on PostgreSQL, an FTS5 table kept in step by triggers on SQLite (both created in
migration 0002). Words are matched by prefix, all of them must occur, and the user's text
never reaches the query syntax: it is cut into word tokens first.

Pages are keyset pages: the cursor carries the sort key of the last row, signed, so a
tampered cursor is refused instead of silently showing something else, and page 10,000
costs what page 1 costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import connection
from django.db.models import BooleanField, Expression, Q, QuerySet

from casedesk.common.errors import InvalidInput, Problem

from .models import Ticket

SORTS = {
    # name: (field, descending)
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-created": ("created_at", True),
    "created": ("created_at", False),
}
MAX_PAGE = 100
MAX_TERMS = 8
_TOKEN = re.compile(r"\w+", re.UNICODE)
_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]{1,9})-(\d{1,12})\s*$")
_SALT = "casedesk.ticket-page"


def terms(text: str) -> list[str]:
    """The words of a search, lower-cased, at most MAX_TERMS of at most 64 characters."""
    return [t.lower()[:64] for t in _TOKEN.findall(text or "")][:MAX_TERMS]


def _fts5_ready() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets_ticket_fts'"
        )
        return cursor.fetchone() is not None


class TextMatch(Expression):
    """True for tickets whose key, title or description hold every term (by prefix)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, words: list[str]):
        super().__init__()
        self.words = words

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        if connection.vendor == "postgresql":
            query = " & ".join(f"{w}:*" for w in self.words)
            return f"{table}.search @@ to_tsquery('simple', %s)", [query]
        query = " AND ".join('"{}"*'.format(w.replace('"', "")) for w in self.words)
        # The table name comes from the query compiler; the user's words are a parameter.
        match = "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s"
        return f"{table}.id IN ({match})", [query]


def text_filter(text: str) -> Q:
    """A filter for a keyword search; a ticket key such as `sda-12` finds just that ticket."""
    key = _KEY.match(text or "")
    if key:
        return Q(key=f"{key.group(1).upper()}-{int(key.group(2))}")
    words = terms(text)
    if not words:
        return Q()
    by_words: Q
    if connection.vendor in ("postgresql", "sqlite") and (
        connection.vendor == "postgresql" or _fts5_ready()
    ):
        by_words = Q(TextMatch(words))
    else:  # SQLite built without FTS5: slower, same answers
        by_words = Q()
        for w in words:
            by_words &= Q(title__icontains=w) | Q(description__icontains=w)
    return by_words


@dataclass(frozen=True)
class TicketFilters:
    desk: int | None = None
    organisation: int | None = None
    status: str | None = None
    categories: tuple[str, ...] = ()
    turn: str | None = None
    active: bool | None = None
    open: bool | None = None  # not closed or cancelled
    assignee: int | str | None = None  # a user id, "me" or "none"
    customer_assignee: int | str | None = None  # a user id, "me" or "none"
    reporter: int | str | None = None  # a user id or "me"
    team: int | None = None
    teams: tuple[int, ...] = ()  # any of these teams (an agent's "my teams" queue)
    waiting_for_me: bool = False
    text: str = ""
    updated_since: datetime | None = None
    sort: str = "-updated"


def _person(value: int | str, user) -> int | None:
    if value == "me":
        return user.pk
    if value == "none":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise InvalidInput({"person": Problem("search.person.invalid", value=str(value)[:80])})


def apply_filters(rows: QuerySet, f: TicketFilters, user) -> QuerySet:
    if f.sort not in SORTS:
        raise InvalidInput({"sort": Problem("search.sort.unknown", choices=list(SORTS))})
    if f.desk is not None:
        rows = rows.filter(desk_id=f.desk)
    if f.organisation is not None:
        rows = rows.filter(organisation_id=f.organisation)
    if f.status:
        rows = rows.filter(status=f.status)
    if f.categories:
        rows = rows.filter(category__in=f.categories)
    if f.turn:
        rows = rows.filter(turn=f.turn)
    if f.active is not None:
        rows = rows.filter(active=f.active)
    if f.open is not None:
        final = Q(category__in=("closed", "cancelled"))
        rows = rows.exclude(final) if f.open else rows.filter(final)
    for name in ("assignee", "customer_assignee", "reporter"):
        value = getattr(f, name)
        if value is not None:
            rows = rows.filter(**{f"{name}_id": _person(value, user)})
    if f.team is not None:
        rows = rows.filter(team_id=f.team)
    if f.teams:
        rows = rows.filter(team_id__in=f.teams)
    if f.waiting_for_me:
        if user.is_supplier_staff:
            rows = rows.filter(assignee=user).filter(
                Q(turn="supplier") | Q(awaiting_reply_since__isnull=False)
            )
        else:
            rows = rows.filter(turn="customer").filter(
                Q(customer_assignee=user) | Q(customer_assignee__isnull=True, reporter=user)
            )
    if f.updated_since is not None:
        rows = rows.filter(updated_at__gte=f.updated_since)
    if f.text.strip():
        rows = rows.filter(text_filter(f.text))
    return rows


@dataclass(frozen=True)
class Page:
    tickets: list[Ticket]
    next_cursor: str | None


def _cursor_for(ticket: Ticket, sort: str) -> str:
    name, _ = SORTS[sort]
    return signing.dumps([sort, getattr(ticket, name).isoformat(), ticket.pk], salt=_SALT)


def _after(rows: QuerySet, cursor: str, sort: str) -> QuerySet:
    try:
        cursor_sort, value, pk = signing.loads(cursor, salt=_SALT)
        when = datetime.fromisoformat(value)
        pk = int(pk)
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidInput({"cursor": Problem("search.cursor.invalid")}) from None
    if cursor_sort != sort:
        raise InvalidInput({"cursor": Problem("search.cursor.other_sort")})
    name, descending = SORTS[sort]
    if descending:
        return rows.filter(Q(**{f"{name}__lt": when}) | Q(**{name: when, "pk__lt": pk}))
    return rows.filter(Q(**{f"{name}__gt": when}) | Q(**{name: when, "pk__gt": pk}))


def page(rows: QuerySet, *, sort: str, cursor: str | None, limit: int) -> Page:
    """One page of `rows` in `sort` order, after `cursor`."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput({"limit": Problem("search.limit", max=MAX_PAGE)})
    if cursor:
        rows = _after(rows, cursor, sort)
    name, descending = SORTS[sort]
    order = [f"-{name}", "-pk"] if descending else [name, "pk"]
    found = list(rows.order_by(*order)[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    return Page(found, _cursor_for(found[-1], sort) if more else None)
