"""Bulk changes from a queue: the same services, one ticket at a time, each with its own
outcome; one refusal does not stop the others."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.translation import gettext as _

from casedesk.common.errors import CasedeskError, NotFound
from casedesk.tickets import selectors, services
from casedesk.web.errors import problem_of
from casedesk.web.forms import BulkForm, version_of

MAX_KEYS = 100


@dataclass(frozen=True)
class Outcome:
    key: str
    ok: bool
    message: str


def _one(request: HttpRequest, form: BulkForm, key: str) -> Outcome:
    user = request.user
    op = form.operation()
    try:
        ticket = selectors.ticket_get_for_actor(user=user, key=key)
    except NotFound:
        return Outcome(key, False, _("No such ticket on your desks."))
    # each row of the queue carries the version it showed, so a ticket changed since is
    # refused (StaleTicket) rather than changed blindly
    if not op:
        return Outcome(key, False, _("Choose what to do."))
    try:
        version = version_of(request, f"version:{key}")
        if op == "assign_me":
            services.ticket_assign(
                actor=user, ticket=ticket, assignee=user, expected_version=version
            )
        elif op == "unassign":
            services.ticket_assign(
                actor=user, ticket=ticket, assignee=None, expected_version=version
            )
        else:
            services.ticket_transition(
                actor=user,
                ticket=ticket,
                transition=form.read()["transition"],
                comment=form.read()["comment"],
                expected_version=version,
            )
    except NotFound:
        return Outcome(key, False, _("No such ticket on your desks."))
    except CasedeskError as exc:
        problem = problem_of(exc)
        detail = "; ".join(problem.fields.values())
        return Outcome(key, False, f"{problem.message} {detail}".strip())
    return Outcome(key, True, _("Done."))


def bulk_apply(request: HttpRequest) -> tuple[list[Outcome], str]:
    form = BulkForm(request.POST, limit=MAX_KEYS)
    labels = {
        "assign_me": _("Assign to me"),
        "unassign": _("Unassign"),
        "transition": _("Workflow step"),
    }
    op = form.read()["op"]
    return [_one(request, form, key) for key in form.ticket_keys()], labels.get(op, "")
