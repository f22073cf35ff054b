"""The status guide of a workflow: every status with what it means, whose turn it is,
what a customer can do there, what staff can do, and what happens by itself.

It is what a supplier's PDF about its statuses tries to be, generated from the workflow
that actually runs the tickets, so it is always true. Pure data: the portal renders it,
the API returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .durations import format_duration
from .spec import (
    CUSTOMER_SIDE,
    STAFF_ROLES,
    SYSTEM,
    Ref,
    Transition,
    Workflow,
    expand_roles,
    starts_at,
)


@dataclass(frozen=True)
class GuideAction:
    key: str
    label: str
    target: str  # where it leads, or "" for a return to the previous status
    needs: tuple[str, ...]  # comment | assignee | customer_assignee | field:<name>
    who: tuple[str, ...]  # the roles that may make it
    types: tuple[str, ...]  # ticket type labels it is limited to; empty: all
    at: tuple[str, ...] = ()  # only in these sub-statuses (labels); empty: the whole status


@dataclass(frozen=True)
class GuideRule:
    """Something the system does by itself."""

    label: str
    target: str
    after: str = ""  # a timer's delay, e.g. "8d"
    since: str = ""  # entered | last_activity
    notice: str = ""  # the customer-facing words (may hold {date})
    event: str = ""  # for events: what sets it off
    environment: str = ""
    at: tuple[str, ...] = ()  # only in these sub-statuses (labels); empty: the whole status
    timer: str = ""  # the timer's key, for timers


@dataclass(frozen=True)
class GuideSubStatus:
    key: str
    label: str
    explanation: str
    turn: str
    active: bool


@dataclass(frozen=True)
class GuideStatus:
    key: str
    label: str
    explanation: str
    category: str
    turn: str
    active: bool
    sub_statuses: tuple[GuideSubStatus, ...]
    customer_actions: tuple[GuideAction, ...]
    staff_actions: tuple[GuideAction, ...]
    automatic: tuple[GuideRule, ...]


@dataclass(frozen=True)
class Guide:
    workflow: str
    name: str
    description: str
    language: str
    statuses: tuple[GuideStatus, ...]


def _target(wf: Workflow, t: Transition, lang: str) -> str:
    if t.to is None:
        return ""
    sub = t.to.sub or wf.statuses[t.to.status].default_sub or ""
    return wf.place_label(t.to.status, sub, lang)


def _at(
    wf: Workflow, places: tuple[Ref, ...], anywhere: bool, status: str, lang: str
) -> tuple[str, ...]:
    """The sub-statuses of `status` a rule is limited to; () when it covers the status."""
    if anywhere or Ref(status) in places:
        return ()
    return tuple(
        wf.text(wf.sub_statuses[r.sub].label, lang) for r in places if r.status == status and r.sub
    )


def _action(wf: Workflow, t: Transition, status: str, lang: str) -> GuideAction:
    admitted = expand_roles(t.by)
    return GuideAction(
        key=t.key,
        label=wf.text(t.label, lang),
        target=_target(wf, t, lang),
        needs=t.requires,
        who=tuple(sorted(r for r in admitted if r != SYSTEM)),
        types=tuple(wf.text(wf.types[x].label, lang) for x in sorted(t.types or ())),
        at=_at(wf, t.sources, t.from_anywhere, status, lang),
    )


def _leaves(wf: Workflow, t: Transition, status: str) -> bool:
    """Does `t` start anywhere in `status` (the status itself or one of its sub-statuses)?"""
    subs = ("", *wf.statuses[status].sub_statuses)
    return any(starts_at(wf, t, status, sub) for sub in subs)


def _in(places: tuple[Ref, ...], status: str) -> bool:
    return any(ref.status == status for ref in places)


def status_guide(wf: Workflow, lang: str) -> Guide:
    statuses = []
    for s in wf.statuses.values():
        out = [t for t in wf.transitions.values() if _leaves(wf, t, s.key)]
        customer = [t for t in out if expand_roles(t.by) & CUSTOMER_SIDE]
        staff = [t for t in out if expand_roles(t.by) & set(STAFF_ROLES)]
        automatic = [
            GuideRule(
                label=wf.text(wf.transitions[timer.transition].label, lang),
                target=_target(wf, wf.transitions[timer.transition], lang),
                after=format_duration(timer.after),
                since=timer.since,
                notice=wf.text(timer.notice, lang),
                at=_at(wf, timer.places, False, s.key, lang),
                timer=timer.key,
            )
            for timer in wf.timers.values()
            if _in(timer.places, s.key)
        ] + [
            GuideRule(
                label=wf.text(wf.transitions[trigger.transition].label, lang),
                target=_target(wf, wf.transitions[trigger.transition], lang),
                event=trigger.on,
                environment=trigger.environment or "",
                at=_at(wf, trigger.places, False, s.key, lang),
            )
            for trigger in wf.triggers
            if _in(trigger.places, s.key)
        ]
        statuses.append(
            GuideStatus(
                key=s.key,
                label=wf.text(s.label, lang),
                explanation=wf.text(s.explain, lang),
                category=s.category,
                turn=s.turn,
                active=s.active,
                sub_statuses=tuple(
                    GuideSubStatus(
                        key=k,
                        label=wf.text(wf.sub_statuses[k].label, lang),
                        explanation=wf.text(wf.sub_statuses[k].explain, lang),
                        turn=wf.turn_at(s.key, k),
                        active=wf.active_at(s.key, k),
                    )
                    for k in s.sub_statuses
                ),
                customer_actions=tuple(_action(wf, t, s.key, lang) for t in customer),
                staff_actions=tuple(_action(wf, t, s.key, lang) for t in staff),
                automatic=tuple(automatic),
            )
        )
    return Guide(
        workflow=wf.slug,
        name=wf.text(wf.name, lang),
        description=wf.text(wf.description, lang),
        language=lang
        if lang in wf.languages
        else ("en" if "en" in wf.languages else wf.languages[0]),
        statuses=tuple(statuses),
    )
