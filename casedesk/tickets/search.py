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
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import connection
from django.db.models import BooleanField, Expression, Q, QuerySet
from django.db.models.functions import Coalesce

from casedesk.common import clock
from casedesk.common.errors import InvalidInput, Problem

from .models import Ticket

SORTS = {
    # name: (field, descending)
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "due": ("sla_due_at", False),  # tickets with a running SLA clock, the first due first
    # tickets with a missed target, the one missed longest ago first, then those with a
    # running clock, the first due first (`MISSED_AT`); the order of "target missed"
    "missed": ("sla_missed_at", False),
}
# When the ticket's first target was missed, else when its first running clock is due:
# a recorded miss lies in the past (the time the clock passed its target, or the time the
# target was lowered below what was used), so a target is missed exactly when this is
# not later than now. The `ticket_sla_missed` index holds it in the "missed" order.
MISSED_AT = Coalesce("sla_breached_at", "sla_due_at")
# The order each service-level filter is read in when it is to be read quickly: an index
# walk in that order from the first match, stopped after the page (bench/README.md).
SLA_ORDER = {"breached": "missed", "at_risk": "due"}
MAX_PAGE = 100
MAX_TERMS = 8
_TOKEN = re.compile(r"\w+", re.UNICODE)
_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]{1,9})-(\d{1,12})\s*$")
_SALT = "casedesk.ticket-page"


def terms(text: str) -> list[str]:
    """The words of a search, lower-cased, at most MAX_TERMS of at most 64 characters."""
    return [t.lower()[:64] for t in _TOKEN.findall(text or "")][:MAX_TERMS]


def _fts5_ready() -> bool:
    """Whether this SQLite database has the text index (migration 0002 makes it where
    SQLite has FTS5). Once found it is remembered for the database file, so a search
    does not ask again (only migrating that file back before 0002 would remove it); a
    database without it is asked each time (it may be migrated), and an in-memory one
    always (the tests make and drop those)."""
    name = str(connection.settings_dict["NAME"])
    if name in _FTS5_FOUND:
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tickets_ticket_fts'"
        )
        found = cursor.fetchone() is not None
    if found and name != ":memory:" and "mode=memory" not in name:
        _FTS5_FOUND.add(name)
    return found


_FTS5_FOUND: set[str] = set()


# SQLite: how a keyword search is read. There are three ways, each cheapest somewhere:
#
# - "read": read the matches from the text index, fetch each ticket by id and sort them.
#   About FETCH µs per match (matches lie all over the table): the way for a rare search,
#   and the only one whose cost does not grow with the tickets passed.
# - "set": read the matches' ids once into a set (SQLite builds it for `+id IN (...)`),
#   walk the tickets in page order and keep those in the set: MATCH µs per match read,
#   STEP µs per ticket passed. A word in a few percent to a third of the tickets.
# - "probe": walk the tickets in page order and ask FTS5 about each one: PROBE µs per
#   ticket passed and nothing per match, so the way for a search in nearly every ticket.
#   Only for whole indexed words: FTS5 gathers every word of a prefix at each question.
#
# So each typed word is first turned into the indexed words it begins, with the number of
# tickets each is in (the `tickets_ticket_fts_terms` table), which says how many tickets
# the search is in (words taken as independent) and so what each way costs; the cheapest
# is taken. The probe is costed with the fewest tickets the words could share (a walk
# that finds little asks about every ticket it passes), the others with the estimate.
# The figures are microseconds on the benchmark machine at 100,000 tickets (bench/pages.py,
# bench/README.md); only their ratios matter.
FETCH = 6.0
MATCH = 0.125
STEP = 0.08
PROBE = 25.0
PAGE = 51  # the tickets a page reads (50 and one to know there are more)
MAX_EXPANSION = 32  # indexed words one typed word may stand for; more: searched as a prefix
_PLAIN = re.compile(r"^[a-z0-9]+$")


def _folded(word: str) -> str:
    """The word as FTS5's tokenizer stores it (lower case, accents removed); only plain
    letters and digits are used for the expansion, anything else keeps the prefix."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


WAYS = ("read", "set", "probe")


@dataclass(frozen=True)
class _SqlitePlan:
    query: str  # the FTS5 query
    way: str = "read"  # one of WAYS


def _prefix(word: str) -> str:
    return '"{}"*'.format(word.replace('"', ""))


def _cheapest(tickets: int, shares: list[float | None], whole: bool) -> str:
    """The way to read a search whose words are each in `shares` of `tickets` (None: not
    known), all of them whole indexed words or not, by the costs above."""
    known = [s for s in shares if s is not None]
    share = 1.0
    for s in known:
        share *= s
    matches = share * tickets
    # reading the words' ids: about the rarest word's list for each word (FTS5 skips
    # through the longer lists by their index)
    listed = len(shares) * min(known, default=1.0) * tickets
    passed = min(float(tickets), PAGE / share) if share else float(tickets)
    costs = {
        "read": MATCH * listed + FETCH * matches,
        "set": MATCH * listed + STEP * passed,
    }
    fewest = 1.0 - sum(1.0 - s for s in known)  # the fewest tickets all the words share
    if whole and len(known) == len(shares) and fewest > 0:
        costs["probe"] = PROBE * min(float(tickets), PAGE / fewest)
    return min(costs, key=lambda way: costs[way])


def _sqlite_plan(words: list[str]) -> _SqlitePlan:
    """The FTS5 query for `words` and how to read it: one statement reads the indexed
    words each typed word begins, with their ticket counts, and the highest ticket id."""
    plain = {i: _folded(w) for i, w in enumerate(words) if _PLAIN.match(_folded(w))}
    found: dict[int, list[tuple[str, int]]] = {i: [] for i in plain}
    tickets = 0
    if plain:
        branches, params = [], []
        for i, w in plain.items():
            # every word that begins with `w` sorts before `w` with its last letter raised;
            # only integers are formatted in, the words are parameters
            branches.append(
                f"SELECT * FROM (SELECT {i:d} AS n, term, doc FROM tickets_ticket_fts_terms"  # noqa: S608
                f" WHERE term >= %s AND term < %s LIMIT {MAX_EXPANSION + 1:d})"
            )
            params += [w, w[:-1] + chr(ord(w[-1]) + 1)]
        sql = (
            "SELECT n, term, doc, (SELECT max(id) FROM tickets_ticket) FROM ("  # noqa: S608
            + " UNION ALL ".join(branches)
            + ")"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for n, term, doc, top in cursor.fetchall():
                found[n].append((term, doc))
                tickets = top or 0
    parts, shares, whole = [], [], True
    for i, word in enumerate(words):
        expansion = found.get(i)
        # a word not looked up (not plain letters and digits): in how many tickets is not
        # known; one of more indexed words than the look-up reads: in at least those
        counted = sum(doc for _, doc in expansion or ())
        shares.append(None if expansion is None else min(1.0, counted / max(tickets, 1)))
        if not expansion or len(expansion) > MAX_EXPANSION:
            parts.append(_prefix(word))
            whole = False
            continue
        parts.append("(" + " OR ".join(f'"{term}"' for term, _ in expansion) + ")")
    return _SqlitePlan(" AND ".join(parts), _cheapest(tickets, shares, whole))


class TextMatch(Expression):
    """True for tickets whose key, title or description hold every term (by prefix)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, words: list[str], plan: _SqlitePlan | None = None):
        super().__init__()
        self.words = words
        self.plan = plan

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        if connection.vendor == "postgresql":
            query = " & ".join(f"{w}:*" for w in self.words)
            return f"{table}.search @@ to_tsquery('simple', %s)", [query]
        plan = self.plan or _SqlitePlan(" AND ".join(_prefix(w) for w in self.words))
        # The table name comes from the query compiler; the user's words are a parameter.
        if plan.way == "probe":
            check = (
                "SELECT 1 FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s"
                " AND tickets_ticket_fts.rowid = "
            )
            return f"EXISTS ({check}{table}.id)", [plan.query]
        match = "SELECT rowid FROM tickets_ticket_fts WHERE tickets_ticket_fts MATCH %s"
        # `+` keeps SQLite from reading the tickets by these ids: it walks the page order
        # and checks each ticket against the ids, read once
        plus = "+" if plan.way == "set" else ""
        return f"{plus}{table}.id IN ({match})", [plan.query]


def text_filter(text: str) -> Q:
    """A filter for a keyword search; a ticket key such as `sda-12` finds just that ticket."""
    key = _KEY.match(text or "")
    if key:
        return Q(key=f"{key.group(1).upper()}-{int(key.group(2))}")
    words = terms(text)
    if not words:
        return Q()
    by_words: Q
    if connection.vendor == "postgresql":
        by_words = Q(TextMatch(words))
    elif connection.vendor == "sqlite" and _fts5_ready():
        by_words = Q(TextMatch(words, _sqlite_plan(words)))
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
    sla: str | None = None  # "breached": a target missed; "at_risk": past a warning, not due
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
            # whose turn it is on the customer's side: the ticket's customer-side assignee,
            # else its reporter (written as the expression of ticket_waiting_customer)
            rows = (
                rows.filter(turn="customer")
                .alias(waits_on=Coalesce("customer_assignee", "reporter"))
                .filter(waits_on=user.pk)
            )
    if f.updated_since is not None:
        rows = rows.filter(updated_at__gte=f.updated_since)
    if f.text.strip():
        rows = rows.filter(text_filter(f.text))
    # Each order reads the tickets that have its time; a service-level filter in its own
    # order says so already (a time before or after now is not null), and saying it
    # twice made PostgreSQL expect twenty times fewer close targets than there are, and
    # then sort them all rather than walk the index in page order.
    if f.sort == "missed":
        rows = rows.annotate(sla_missed_at=MISSED_AT)
    if f.sort in SLA_ORDER.values() and SLA_ORDER.get(f.sla or "") != f.sort:
        rows = rows.filter(**{f"{SORTS[f.sort][0]}__isnull": False})
    if f.sla is not None:
        rows = rows.filter(_sla_filter(f.sla, f.sort))
    return rows


def _sla_filter(sla: str, sort: str) -> Q:
    """A missed ("breached") or close ("at_risk") service-level target.

    In its own order (SLA_ORDER) each is a range of an index in page order: the missed
    ones are the start of `ticket_sla_missed` up to now, the close ones lie among the
    first due after now in `ticket_sla_due` (those past their warning mark), so the page
    is read by walking that index and stopping after it, whatever the number of tickets.

    In another order only tickets with a running clock have these times, so on SQLite
    the matches are first read from the partial indexes of those times (their ids, then
    each ticket by key) and then put in order: without that, SQLite walked every ticket
    in page order and skipped those without a missed target (a walk that grows with the
    tickets when missed targets are rare), and read every ticket due later to find the
    close ones. PostgreSQL chooses between the same two ways from its statistics."""
    now = clock.now()
    if sla == "breached":
        if sort == "missed":  # the same tickets as below (see MISSED_AT)
            return Q(sla_missed_at__lte=now)
        missed = Q(sla_breached_at__isnull=False) | Q(sla_due_at__lte=now)
        if connection.vendor != "sqlite":
            return missed
        ids = Ticket.objects.order_by().values("pk")
        either = ids.filter(sla_breached_at__isnull=False).union(
            ids.filter(sla_due_at__lte=now), all=True
        )
        return missed & Q(pk__in=either)
    if sla == "at_risk":
        close = Q(sla_warn_at__lte=now, sla_due_at__gt=now, sla_breached_at=None)
        if sort == "due" or connection.vendor != "sqlite":
            return close
        warned = Ticket.objects.order_by().filter(sla_warn_at__lte=now).values("pk")
        return close & Q(pk__in=warned)
    raise InvalidInput({"sla": "filter by breached or at_risk"})


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
