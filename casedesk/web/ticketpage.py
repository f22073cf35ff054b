"""What a ticket page shows, for customers and staff alike: read through the selectors,
phrased by `present`. The portal and the agent workspace add their own forms."""

from __future__ import annotations

from dataclasses import replace

from django.utils import translation

from casedesk.quotes import selectors as quote_selectors
from casedesk.sheets import estimates
from casedesk.sheets import selectors as sheet_selectors
from casedesk.tickets import selectors
from casedesk.tickets.models import Ticket
from casedesk.tickets.selectors import workflow_of
from casedesk.web import present
from casedesk.web.clocks import clock_context
from casedesk.web.zones import ViewerZone, hint


def language() -> str:
    return (translation.get_language() or "en").split("-")[0]


ENDING = ("closed", "cancelled")
USUAL = 3  # at most this many moves shown first on a staff member's page
CATEGORY_ORDER = ("new", "open", "waiting", "resolved", "closed", "cancelled")


def move_groups(wf, step) -> dict:
    """A staff member's moves in three groups: the usual next steps (forward, in the order
    the workflow lists them), the rest under "more", and those that end the ticket (into a
    closed or cancelled status) set apart."""
    here = CATEGORY_ORDER.index(step.category) if step.category in CATEGORY_ORDER else 0
    usual: list = []
    more: list = []
    ending: list = []
    for action in step.actions:
        t = wf.transitions.get(action.key)
        to = wf.statuses.get(t.to.status) if t is not None and t.to is not None else None
        if to is not None and to.category in ENDING:
            ending.append(action)
        elif (
            to is not None
            and not t.reopen
            and CATEGORY_ORDER.index(to.category) >= here
            and len(usual) < USUAL
        ):
            usual.append(action)
        else:
            more.append(action)
    return {"usual": usual, "more": more, "ending": ending}


def ticket_context(user, ticket: Ticket, viewer_zone: ViewerZone | None = None) -> dict:
    """Everything a ticket page shows; a fixed number of queries whatever the ticket holds.
    Times are in the viewer's zone when they or their browser named one, else the desk's."""
    lang = language()
    wf = workflow_of(ticket)
    viewer_zone = viewer_zone or ViewerZone()
    tz = viewer_zone.for_desk(ticket.desk.time_zone)
    customer = not user.is_supplier_staff
    step = selectors.next_step_for(user=user, ticket=ticket, lang=lang)
    # a quote's moves are made from its own box, with the quote they send or answer
    quote_moves = {
        a.key: str(e.value)
        for a in step.actions
        for e in wf.transitions[a.key].effects
        if e.kind == "quote"
    }
    step = replace(step, actions=tuple(a for a in step.actions if a.key not in quote_moves))
    # the authors' and actors' names come from `people` below, with everyone the history
    # names: one read of the few people a page names, not one row per comment and entry
    comments = selectors.comments_for(user=user, ticket=ticket, authors=False)
    files = selectors.attachments_for(user=user, ticket=ticket)
    events = selectors.history_for(user=user, ticket=ticket, actors=False)
    links = selectors.links_for(user=user, ticket=ticket)
    # ... and the ticket's own people, if the ticket came without them
    people = selectors.people_named_in(
        user=user,
        ticket=ticket,
        ids=present.people_in(events)
        | {c.author_id for c in comments}
        | selectors.people_missing(ticket),
    )
    selectors.attach_people(user=user, ticket=ticket, known=people)
    teams = {k: wf.text(t.label, lang) for k, t in wf.teams.items()}
    by_comment: dict[int, list] = {}
    for f in files:
        if f.comment_id:
            by_comment.setdefault(f.comment_id, []).append(f)
    moments = present.Moments(tz)
    thread = present.thread_rows(comments, by_comment, people=people, moments=moments)
    shown = selectors.fields_for(user=user, ticket=ticket)  # the one rule for who sees what
    fields = [
        (wf.text(d.label, lang), shown[name]) for name, d in wf.fields.items() if name in shown
    ]
    sheet_views = sheet_selectors.sheets_for(user=user, ticket=ticket)
    return {
        "ticket": ticket,
        # as text: the page's forms repeat it, and a number would be localised each time
        "version": str(ticket.version),
        "wf": wf,
        "tz": tz,
        "tz_hint": hint(viewer_zone, {ticket.desk.time_zone}),
        "step": step,
        "turn_text": present.turn_text(
            step.turn,
            customer=customer,
            mine=step.viewer_turn,
            waits_for=step.waits_for,
            final=step.category in ("closed", "cancelled"),
        ),
        "flag_labels": [wf.flag_label(f, lang) for f in sorted(step.flags)],
        "timer_text": present.timer_text(step.timer, tz) if step.timer else "",
        "held_text": present.held_text(step.held, tz, customer=customer) if step.held else "",
        "event_texts": [present.event_text(e) for e in step.events],
        "thread": present.thread_html(thread),
        "files": files,
        "links": links,
        "history": present.history_html(
            present.history_lines(
                events, people=people, wf=wf, lang=lang, team_names=teams, tz=tz, moments=moments
            )
        ),
        "type_label": wf.text(wf.types[ticket.type].label, lang) if ticket.type in wf.types else "",
        "priority_label": wf.text(wf.priorities[ticket.priority].label, lang)
        if ticket.priority in wf.priorities
        else ticket.priority,
        "team_label": teams.get(ticket.team.slug, ticket.team.name)
        if ticket.team is not None
        else "",
        "fields": fields,
        "team_names": teams,
        "customer": customer,
        "sheet_views": sheet_views,
        "uses_estimate": any(
            e.kind == "estimate" for t in wf.transitions.values() for e in t.effects
        ),
        "estimate": estimates.estimate_for(
            user=user, ticket=ticket, minutes=sum(v.worked for v in sheet_views)
        ),
        "quote_views": quote_selectors.quotes_for(user=user, ticket=ticket),
        "quote_may": set(quote_moves.values()),
        "print_url": f"/tickets/{ticket.key}/sheet/",
        "moves": None if customer else move_groups(wf, step),
        **clock_context(ticket, wf, customer=customer, lang=lang, tz=tz),
    }
