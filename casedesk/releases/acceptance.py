"""The customer's verdict per environment tier and cycle, read off the ticket's moves.

Where a `release_deployed` trigger for a tier places a ticket (tms: *Opdateret i TEST.
Afventer kunde accept*; assu: *Opgelost* after the update), the next move the workflow
gives the customer from there is their verdict on the fix in that tier: a rejection when
the move sends the fix back (it empties the fix version, or reopens the ticket), an
acceptance otherwise. Only a stay that began with the release event counts, so a ticket
resolved by hand and then closed is not taken for an accepted update.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from casedesk.tickets.models import Comment, TicketEvent
from casedesk.workflow import Workflow

from .models import Acceptance, Environment

if TYPE_CHECKING:
    from casedesk.tickets.services import TicketChange

DEPLOYED = "release_deployed"
FIX_FIELD = "fix_version"
CUSTOMER_SIDE = {"customer", "member", "approver", "org_admin", "reporter", "customer_assignee"}


def verdict_places(wf: Workflow) -> dict[tuple[str, str], str]:
    """(status, sub-status) -> tier, for every place a tier's release event moves into."""
    places: dict[tuple[str, str], str] = {}
    for trigger in wf.triggers:
        if trigger.on != DEPLOYED or trigger.environment is None:
            continue
        to = wf.transitions[trigger.transition].to
        if to is not None:
            places[to.status, to.sub or ""] = trigger.environment
    return places


def _rejects(wf: Workflow, transition: str) -> bool:
    t = wf.transitions[transition]
    return t.reopen or any(e.kind == "clear" and e.value == FIX_FIELD for e in t.effects)


def acceptances_follow(change: TicketChange) -> None:
    wf, ticket = change.wf, change.ticket
    places = verdict_places(wf)
    if not places:
        return
    for event in change.events:
        if event.kind != "transition" or event.actor_kind == "system":
            continue
        data = event.data
        source = data.get("from") or {}
        tier = places.get((source.get("status", ""), source.get("sub_status", "")))
        transition = wf.transitions.get(data.get("transition", ""))
        if tier is None or transition is None or not (transition.by & CUSTOMER_SIDE):
            continue
        cause = _release_arrival(ticket.pk, source, event.pk)
        if cause is None:
            continue
        env = Environment.objects.filter(
            pk=int(cause.get("environment_id") or 0), organisation_id=ticket.organisation_id
        ).first()
        cycle = ticket.cycle - 1 if "cycle" in data else ticket.cycle
        earlier = Acceptance.objects.filter(ticket=ticket, tier=tier, cycle=cycle).count()
        comment = data.get("comment")
        reason = ""
        if comment:
            reason = Comment.objects.filter(pk=comment).values_list("body", flat=True).first() or ""
        Acceptance.objects.create(
            ticket=ticket,
            desk_id=ticket.desk_id,
            organisation_id=ticket.organisation_id,
            tier=tier,
            environment=env,
            release_id=cause.get("release"),
            cycle=cycle,
            round=earlier + 1,
            verdict=(
                Acceptance.Verdict.REJECTED
                if _rejects(wf, transition.key)
                else Acceptance.Verdict.ACCEPTED
            ),
            transition=transition.key,
            reason=reason,
            at=change.now,
            by=change.user,
        )


def _release_arrival(ticket_id: int, place: dict, before_id: int) -> dict | None:
    """The cause of the ticket's latest arrival in `place`, if a release event moved it."""
    arrival = (
        TicketEvent.objects.filter(
            ticket_id=ticket_id,
            kind="transition",
            pk__lt=before_id,
            data__to__status=place.get("status"),
            data__to__sub_status=place.get("sub_status"),
        )
        .order_by("-at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    cause = (arrival or {}).get("cause") or {}
    return cause if cause.get("event") == DEPLOYED else None
