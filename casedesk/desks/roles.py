"""A staff member's desks and roles, read once while one page is drawn.

Drawing a ticket page asks for the viewer's role on the ticket's desk several times (the
next step, the staff list, the teams) and for their desks twice (finding the ticket, its
links). Inside `read_once()` the first question reads all of the person's memberships in
one statement and later questions are answered from that read; the memo belongs to the
`with` block (a context variable: one per thread or task) and is gone when it ends, so a
role changed since is seen by the next page. Outside such a block every question reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .models import StaffMembership

_memo: ContextVar[dict[int, dict[int, str]] | None] = ContextVar("desk_roles", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    """Answer the role questions inside this block from one read per person."""
    if _memo.get() is not None:  # already inside one: keep its reads
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def roles_of(user) -> dict[int, str]:
    """{desk id: role} of a staff member, by desk id."""
    memo = _memo.get()
    if memo is not None and user.pk in memo:
        return memo[user.pk]
    roles = dict(
        StaffMembership.objects.filter(user_id=user.pk)
        .order_by("desk_id")
        .values_list("desk_id", "role")
    )
    if memo is not None:
        memo[user.pk] = roles
    return roles
