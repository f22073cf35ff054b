"""Can the compiled workflow run? The checks that ask what tickets can do.

They run on the compiled model only after every name in the file resolves (`checks.py`),
and they ask the engine, not a copy of its rules: where a transition starts is
`starts_at`, the graph is `graph.reachable`, and whether the system or a customer may
make a move is answered by the engine's own role, gate and requirement functions on a
probe: the most permissive ticket at a place (everyone assigned, a status to return to,
no progress yet). A move refused even there is refused on every real ticket.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .checks import Finding
from .engine import SYSTEM_ACTOR, Actor, Snapshot, _may_by, _needs, options, roles_of, triggered
from .graph import outgoing, reachable
from .spec import Lines, Place, Ref, Workflow, starts_at

_PROBE_ID = 1
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# a customer who is every customer role at once: reporter and customer assignee too
_CUSTOMER = Actor("customer", "org_admin", _PROBE_ID)
_STAFF = Actor("staff", "admin", _PROBE_ID)


def probe(wf: Workflow, place: Place, ticket_type: str) -> Snapshot:
    status, sub = place
    return Snapshot(
        status=status,
        sub_status=sub,
        type=ticket_type,
        priority=wf.default_priority,
        entered_at=_EPOCH,
        last_activity_at=_EPOCH,
        reporter_id=_PROBE_ID,
        assignee_id=_PROBE_ID,
        customer_assignee_id=_PROBE_ID,
        previous_status=status,
        previous_sub=sub,
    )


def _where(place: Place) -> str:
    status, sub = place
    return f"{status}/{sub}" if sub else status


class _Flow:
    def __init__(self, wf: Workflow):
        self.wf = wf
        self.found: list[Finding] = []

    def add(self, line: int, message: str, fix: str = "") -> None:
        self.found.append(Finding(line, message, fix))

    def forward(self) -> None:
        """Without `reopen`, a forward-only workflow never leads back to a lower rank."""
        wf = self.wf
        if wf.order != "forward":
            return
        for t in wf.transitions.values():
            if t.reopen or t.to is None:
                continue
            target = wf.statuses[t.to.status]
            if target.rank is None:
                continue
            written = list(wf.statuses) if t.from_anywhere else [r.status for r in t.sources]
            for key in written:
                s = wf.statuses[key]
                leaves = any(starts_at(wf, t, key, sub) for sub in ("", *s.sub_statuses))
                if leaves and s.rank is not None and s.rank > target.rank:
                    self.add(
                        t.lines.of("to"),
                        f"goes back from '{key}' to '{target.key}', but the workflow "
                        "only moves forward",
                        "mark it `reopen: true` or point it forward",
                    )
                    break

    def system_move(self, lines: Lines, name: str, places: tuple[Ref, ...], what: str) -> None:
        """Can the system make transition `name` from every place a timer or event
        watches, with nothing but what the ticket already has?"""
        wf = self.wf
        t = wf.transitions[name]
        line = lines.of("transition")
        ticket = probe(wf, wf.start, wf.default_type)
        if not _may_by(t, roles_of(SYSTEM_ACTOR, ticket)):
            self.add(
                line,
                f"{what} uses transition '{name}', which the system may not make",
                f"add `system` to transitions.{name}.by",
            )
        if _needs(wf, ticket, t):
            self.add(
                line,
                f"{what} uses transition '{name}', which needs input the system cannot give",
                f"remove comment and field requirements from transitions.{name}",
            )
        for ref in places:
            if not starts_at(wf, t, ref.status, ref.sub or ""):
                self.add(
                    line,
                    f"transition '{name}' does not start at '{ref}'",
                    f"add '{ref}' to transitions.{name}.from",
                )

    def automatic(self) -> None:
        for timer in self.wf.timers.values():
            self.system_move(timer.lines, timer.transition, timer.places, "the timer")
        for trigger in self.wf.triggers:
            self.system_move(trigger.lines, trigger.transition, trigger.places, "the event")

    def duplicates(self) -> None:
        wf = self.wf
        dup = wf.duplicates
        if dup is None:
            return
        t = wf.transitions[dup.transition]
        line = dup.lines.of("transition")
        ticket = probe(wf, wf.start, wf.default_type)
        if not _may_by(t, roles_of(_STAFF, ticket)):
            self.add(
                line,
                f"staff mark duplicates, but may not make transition '{dup.transition}'",
                "add staff roles to its `by`",
            )
        if any(r == "comment" or r.startswith("field:") for r in _needs(wf, ticket, t)):
            self.add(
                line,
                f"transition '{dup.transition}' needs input, "
                "but marking a duplicate gives only an optional comment",
                "remove its comment and field requirements",
            )
        if t.to is not None and not wf.statuses[t.to.status].final:
            self.add(
                line,
                f"transition '{dup.transition}' does not end the duplicate",
                "point it at a closed or cancelled status",
            )

    def graph(self) -> None:
        wf = self.wf
        out = outgoing(wf)
        seen = reachable(wf, out)
        reached = {status for status, _ in seen}
        for key, s in wf.statuses.items():
            if key not in reached:
                self.add(
                    s.lines.at,
                    f"status '{key}' cannot be reached from '{wf.initial}'",
                    f"add a transition into '{key}' or remove it",
                )
        for key, s in wf.statuses.items():
            for sub in s.sub_statuses:
                if key in reached and (key, sub) not in seen:
                    self.add(
                        s.lines.of("sub_statuses"),
                        f"'{key}/{sub}' cannot be reached",
                        f"add a transition to '{key}/{sub}'",
                    )
            if s.final:
                continue
            for sub in ("", *s.sub_statuses):
                if (key, sub) in seen and not out[(key, sub)]:
                    where = _where((key, sub))
                    self.add(
                        s.lines.at,
                        f"'{where}' is a dead end: nothing leads out "
                        "and it is not closed or cancelled",
                        f"add a transition from '{where}'",
                    )

    def customer_turns(self) -> None:
        """A place where it is the customer's move must offer the customer a move: a
        transition a customer may make there, or an event on their comment."""
        wf = self.wf
        for key, s in wf.statuses.items():
            if s.final:
                continue
            for sub in ("", *s.sub_statuses):
                if wf.turn_at(key, sub) != "customer" or (sub == "" and s.default_sub):
                    continue
                for typ in wf.types:
                    ticket = probe(wf, (key, sub), typ)
                    if options(wf, ticket, _CUSTOMER):
                        continue
                    if triggered(wf, ticket, "customer_commented") is not None:
                        continue
                    self.add(
                        wf.sub_statuses[sub].lines.at if sub else s.lines.at,
                        f"'{_where((key, sub))}' is the customer's turn, but a customer has "
                        f"no action there on a ticket of type '{typ}'",
                        "add a transition a customer may make from it, or an "
                        "event on customer_commented",
                    )
                    break


def flow_check(wf: Workflow) -> list[Finding]:
    """Every problem with what tickets can do in `wf`; its names must already resolve."""
    checks = _Flow(wf)
    checks.forward()
    checks.automatic()
    checks.duplicates()
    checks.graph()
    checks.customer_turns()
    return checks.found
