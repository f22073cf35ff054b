"""Tickets of a shipped preset, walked through the engine the same way by every preset's
tests: make a snapshot, make a move and store it as the services do, see a refusal, read
the moves a person is offered and their labels."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from casedesk.workflow import (
    Actor,
    Denied,
    Given,
    Outcome,
    Snapshot,
    Workflow,
    after,
    decide,
    load_file,
    next_step,
    options,
)
from casedesk.workflow.loader import PRESETS

NOTHING = Given()  # a transition made without comment, fields or people


@dataclass(frozen=True)
class Preset:
    wf: Workflow
    start: datetime  # when tickets are opened unless a test says otherwise
    reporter: Actor
    type: str
    priority: str
    defaults: dict[str, Any] = field(default_factory=dict)  # more Snapshot fields

    @classmethod
    def load(cls, name: str, **settings: Any) -> Preset:
        return cls(wf=load_file(PRESETS / f"{name}.yaml"), **settings)

    def ticket(
        self, status: str | None = None, type: str | None = None, **changes: Any
    ) -> Snapshot:
        """A ticket in `status` (the workflow's first by default), opened at the start."""
        values: dict[str, Any] = {
            "status": status or self.wf.initial,
            "type": type or self.type,
            "priority": self.priority,
            "entered_at": self.start,
            "last_activity_at": self.start,
            "reporter_id": self.reporter.user_id,
            **self.defaults,
        }
        values.update(changes)
        return Snapshot(**values)

    def step(
        self, snap: Snapshot, actor: Actor, key: str, now: datetime, given: Given = NOTHING
    ) -> tuple[Snapshot, Outcome]:
        """Make a transition that must be allowed; store it as the services do, with the
        people the actor chose."""
        outcome = decide(self.wf, snap, actor, key, given, now)
        assert isinstance(outcome, Outcome), outcome
        stored = after(snap, outcome, actor=actor, now=now)
        if given.assignee_id:
            stored = replace(stored, assignee_id=given.assignee_id)
        if given.customer_assignee_id:
            stored = replace(stored, customer_assignee_id=given.customer_assignee_id)
        return stored, outcome

    def move(self, snap: Snapshot, actor: Actor, key: str, now: datetime, **given: Any) -> Snapshot:
        return self.step(snap, actor, key, now, Given(**given))[0]

    def refused(
        self,
        snap: Snapshot,
        actor: Actor,
        key: str,
        given: Given = NOTHING,
        now: datetime | None = None,
    ) -> Denied:
        outcome = decide(self.wf, snap, actor, key, given, now or self.start)
        assert isinstance(outcome, Denied), outcome
        return outcome

    def keys(self, snap: Snapshot, actor: Actor) -> set[str]:
        """The transitions `actor` is offered on the ticket."""
        return {o.transition.key for o in options(self.wf, snap, actor)}

    def labels(
        self, snap: Snapshot, actor: Actor, lang: str, now: datetime | None = None
    ) -> dict[str, str]:
        """The actions `actor` sees on the ticket, by key, in `lang`."""
        step = next_step(self.wf, snap, actor, lang, now or self.start)
        return {a.key: a.label for a in step.actions}
