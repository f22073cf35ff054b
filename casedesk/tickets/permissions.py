"""Who may do what to a ticket, outside the workflow's own transition rules.

`authorise` raises; it never returns a value to check. It is called by the services, after
the ticket was found through `Ticket.objects.visible_to`, so a person who cannot see a
ticket gets NotFound before any of this is asked.
"""

from __future__ import annotations

from casedesk.common.errors import Forbidden, NotFound
from casedesk.common.rows import Prepared
from casedesk.desks.models import Desk
from casedesk.workflow import Actor

from .bridge import actor_for

# whether a desk serves an organisation: asked by every customer's change, so kept built
_desk_org = Prepared(
    lambda desk_id, org_id: Desk.organisations.through.objects.filter(
        desk_id=desk_id, organisation_id=org_id
    ).order_by(),
    arity=2,
)

STAFF_VERBS = {
    # verb: the least staff role that may do it
    "note.add": "agent",
    "ticket.assign": "agent",
    "ticket.route": "agent",
    "ticket.edit": "agent",
    "ticket.fields": "agent",
    "ticket.link": "agent",
    "ticket.duplicate": "agent",
    "ticket.create_for_customer": "agent",
    "release.record": "lead",  # declare releases and environments, record deployments
    "release.fix": "agent",  # say which release fixes a ticket, with its customer notes
    "mail.send": "agent",  # a mail from a ticket to any address (casedesk.mail)
    "mail.review": "agent",  # held and failed mail of the desk
    "desk.webhooks": "admin",  # manage the desk's webhook subscriptions
    "time.log": "agent",  # log work on the ticket's service sheet, or correct it
    "estimate.set": "agent",  # set or change a ticket's hour estimate
    "desk.sla": "admin",  # business calendar, SLA plans, each organisation's plan
}
CUSTOMER_VERBS = {
    # verb: the least customer role that may do it
    "comment.add": "member",
    "participant.add": "member",
    "ticket.assign_customer": "org_admin",
    "ticket.create": "member",
    "estimate.grant": "approver",  # grant the hour estimate for the organisation
}
STAFF_LADDER = ("agent", "lead", "admin")
CUSTOMER_LADDER = ("member", "approver", "org_admin")


def _at_least(role: str, least: str, ladder: tuple[str, ...]) -> bool:
    return role in ladder and ladder.index(role) >= ladder.index(least)


def allowed(actor: Actor, verb: str) -> bool:
    if actor.kind == "system":
        return True
    if actor.kind == "staff":
        # staff may also do everything customers may, on the desks they work on
        least = STAFF_VERBS.get(verb) or ("agent" if verb in CUSTOMER_VERBS else None)
        return least is not None and _at_least(actor.role, least, STAFF_LADDER)
    least = CUSTOMER_VERBS.get(verb)
    return least is not None and _at_least(actor.role, least, CUSTOMER_LADDER)


def authorise(user, verb: str, desk: Desk) -> Actor:
    """The actor for `user` on `desk`, if they may do `verb` there; raises otherwise."""
    actor = actor_for(user, desk)
    if not allowed(actor, verb):
        raise Forbidden("permission.denied", verb=verb)
    return actor


# What a transition may set besides its own move, and the verb that setting it directly
# needs: a transition never lets anyone set more than they could set on its own.
GIVEN_VERBS = {
    "assignee": "ticket.assign",
    "customer_assignee": "ticket.assign_customer",
    "comment_internal": "note.add",
}


def authorise_given(user, desk: Desk, given: set[str]) -> None:
    """Raise Forbidden unless `user` may set each of `given` (keys of GIVEN_VERBS) directly.
    Custom fields follow the workflow's own rule (`engine.field_problem`)."""
    for name in sorted(given):
        authorise(user, GIVEN_VERBS[name], desk)


def ensure_desk_visible(user, desk: Desk) -> None:
    """A customer works only with desks their organisation uses; staff with their desks."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.pk is None:
        raise NotFound("desk.not_found")
    if user.is_superuser:
        return
    if user.is_supplier_staff:
        try:
            actor_for(user, desk)  # raises NotFound without a role on the desk
        except NotFound:
            raise NotFound("desk.not_found") from None  # worded like a desk that is not there
        return
    if user.organisation_id is None or _desk_org.one(desk.pk, user.organisation_id) is None:
        raise NotFound("desk.not_found")
