"""Read the query plan of a statement on SQLite or PostgreSQL and say what is wrong with it
for a page: a full scan of a ticket table, or a sort that an index should have spared.

SQLite keeps no statistics unless someone runs ANALYZE, so its plan with a little data is
its plan with a million tickets. PostgreSQL picks a sequential scan for a small table
whatever its indexes, so its plan is read with sequential scans and sorts priced out
(`enable_seqscan`, `enable_sort` off): a scan or sort that is still there has no index
that could replace it. Ordering the ties of an index's order (PostgreSQL's Incremental
Sort, SQLite's "RIGHT PART OF ORDER BY") is not a sort of all tickets.
"""

from __future__ import annotations

import re

from django.db import connection

# tables a page reads by ticket; a full scan of any of them grows with the data
TICKET_TABLES = (
    "tickets_ticket",
    "tickets_comment",
    "tickets_ticketevent",
    "tickets_attachment",
    "tickets_ticketlink",
    "tickets_participant",
)
_SQLITE_SCAN = re.compile(r"\bSCAN (\w+)(?: AS \w+)?(?! USING)(?: |$)")


def explain(sql: str) -> str:
    """The plan of `sql` (parameters already in it, as Django's captured queries have
    them) as text, one node per line."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")


def is_search(sql: str) -> bool:
    """A keyword search: its rows come from the text index, then are put in order (the
    sort is of the matches, not of every ticket)."""
    return "tickets_ticket_fts" in sql or "to_tsquery" in sql


_ONE_TICKET = re.compile(
    r'"tickets_\w+"\."(?:key|ticket_id|source_id|target_id)" = |"tickets_ticket"\."id" = \d'
)


def of_one_ticket(sql: str) -> bool:
    """A read of one ticket or of what hangs off one ticket: a sort there orders that
    ticket's own rows, whatever the number of tickets."""
    return bool(_ONE_TICKET.search(sql))


def reads_tickets(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT") and any(f'"{t}"' in sql for t in TICKET_TABLES)


def faults(sql: str) -> list[str]:
    """What is wrong with the plan of `sql` for a page: empty when every ticket table is
    read through an index and no sort of many tickets is needed (a search may sort its
    matches, a read of one ticket its own rows; the missed and close service-level targets
    are read in their own order, so they may not)."""
    plan = explain(sql)
    may_sort = is_search(sql) or of_one_ticket(sql)
    found = []
    for line in plan.splitlines():
        if connection.vendor == "sqlite":
            scan = _SQLITE_SCAN.search(line)
            if scan and scan.group(1) in TICKET_TABLES:
                found.append(f"full scan: {line.strip()}")
            if "TEMP B-TREE FOR ORDER BY" in line and not may_sort:
                found.append(f"sort: {line.strip()}")
        else:
            scan = re.search(r"Seq Scan on (\w+)", line)
            if scan and scan.group(1) in TICKET_TABLES:
                found.append(f"full scan: {line.strip()}")
            # a whole sort; an Incremental Sort only orders ties within an index's order
            if re.match(r"\s*(?:->\s*)?Sort\s+\(", line) and not may_sort:
                found.append(f"sort: {line.strip()}")
    return [f"{f}\n  in {sql[:400]}\n  plan:\n{plan}" for f in found]
