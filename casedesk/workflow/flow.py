"""Can the compiled workflow run? The checks that ask what tickets can do.

They run on the compiled model only after every name in the file resolves (`checks.py`),
and they ask the engine, not a copy of its rules: where a transition starts is
`starts_at`, the graph is `graph.reachable`, and whether the system or a customer may
make a move is answered by the engine's own role, gate and requirement functions on a
probe: the most permissive ticket at a place (everyone assigned, a status to return to,
no progress yet). A move refused even there is refused on every real ticket.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from .checks import Finding
from .engine import SYSTEM_ACTOR, Actor, Snapshot, _may_by, _needs, options, roles_of, triggered
from .graph import outgoing, reachable
from .nextstep import viewer_turn
from .spec import SYSTEM, Lines, Place, Ref, Workflow, expand_roles, starts_at

_PROBE_ID = 1
_CONTACT_ID = 2
_STAFF_ID = 9
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# a customer who is every customer role at once: reporter and customer assignee too
_CUSTOMER = Actor("customer", "org_admin", _PROBE_ID)
_STAFF = Actor("staff", "admin", _PROBE_ID)
# every kind of person on the customer's side who may open a ticket page, one at a time
VIEWERS = {
    "the reporter": Actor("customer", "member", _PROBE_ID),
    "a colleague of the reporter": Actor("customer", "member", 3),
    "the customer-side contact": Actor("customer", "member", _CONTACT_ID),
    "an approver": Actor("customer", "approver", 4),
    "an organisation admin": Actor("customer", "org_admin", 5),
}


def viewer_probe(wf: Workflow, place: Place, ticket_type: str) -> Snapshot:
    """A ticket at `place` with its reporter, a different customer-side contact and a staff
    assignee, so each viewer of `VIEWERS` is exactly who their name says."""
    return replace(
        probe(wf, place, ticket_type), assignee_id=_STAFF_ID, customer_assignee_id=_CONTACT_ID
    )


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
        if any(r.startswith("field:") for r in _needs(wf, ticket, t)):
            self.add(
                line,
                f"transition '{dup.transition}' needs a field, "
                "but marking a duplicate gives only the original and a comment",
                "remove its field requirements",
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

    def _places(self) -> list[tuple[str, str, int]]:
        """Every place a ticket can rest in that is not final, with its line."""
        wf = self.wf
        result = []
        for key, s in wf.statuses.items():
            if s.final:
                continue
            for sub in ("", *s.sub_statuses):
                if sub == "" and s.default_sub:
                    continue
                result.append((key, sub, wf.sub_statuses[sub].lines.at if sub else s.lines.at))
        return result

    def customer_turns(self) -> None:
        """Where it is a customer viewer's turn, that viewer has a move: a transition they
        may make there, or a reply the workflow declares will move the case (an event on
        customer_commented). Checked for every kind of viewer and every ticket type."""
        wf = self.wf
        for key, sub, line in self._places():
            if wf.turn_at(key, sub) != "customer":
                continue
            done = False
            for typ in wf.types:
                for who, viewer in VIEWERS.items():
                    ticket = viewer_probe(wf, (key, sub), typ)
                    if not viewer_turn(wf, ticket, viewer):
                        continue
                    if options(wf, ticket, viewer):
                        continue
                    if triggered(wf, ticket, "customer_commented") is not None:
                        continue
                    self.add(
                        line,
                        f"'{_where((key, sub))}' is the customer's turn, but {who} has "
                        f"nothing to do there that moves a ticket of type '{typ}'",
                        "name whose turn it is with `waits_for` (e.g. [reporter, approver]), "
                        "add a transition they may make, or an event on customer_commented",
                    )
                    done = True
                    break
                if done:
                    break

    def idle_turns(self) -> None:
        """Where it is nobody's turn, no customer has a move: the page would say there is
        nothing to do beside a button."""
        wf = self.wf
        for key, sub, line in self._places():
            if wf.turn_at(key, sub) != "nobody":
                continue
            for typ in wf.types:
                moves = {
                    o.transition.key
                    for viewer in VIEWERS.values()
                    for o in options(wf, viewer_probe(wf, (key, sub), typ), viewer)
                }
                if not moves and not self._automatic_at(key, sub, typ):
                    self.add(
                        line,
                        f"'{_where((key, sub))}' is open and nobody's turn, but nothing moves "
                        f"a ticket of type '{typ}' on from there by itself",
                        "say whose turn it is (`turn: supplier` or `turn: customer`), or add "
                        "a timer or event that moves it on",
                    )
                    break
                if moves:
                    first = sorted(moves)[0]
                    self.add(
                        line,
                        f"'{_where((key, sub))}' says it is nobody's turn, but a customer "
                        f"may make '{first}' there",
                        "set `turn: customer` (with `waits_for` if only some may act), or "
                        f"take '{_where((key, sub))}' out of transitions.{first}.from",
                    )
                    break

    def _automatic_at(self, status: str, sub: str, typ: str) -> bool:
        """Does a timer or an event move a ticket of this type on from this place?"""
        wf = self.wf
        watched = [(t.places, t.transition) for t in wf.timers.values()]
        watched += [(t.places, t.transition) for t in wf.triggers]
        for places, name in watched:
            t = wf.transitions[name]
            if not any(ref.matches(status, sub) for ref in places):
                continue
            if t.types is None or typ in t.types:
                return True
        return False

    def reasons(self) -> None:
        """A status that asks for a reason gets one from every person who moves a ticket in."""
        wf = self.wf
        for t in wf.transitions.values():
            if t.to is None or not wf.statuses[t.to.status].ask_reason:
                continue
            if expand_roles(t.by) - {SYSTEM} and "comment" not in t.requires:
                self.add(
                    t.lines.of("to"),
                    f"'{t.key}' ends a ticket in '{t.to.status}', which asks for a reason, "
                    "but it does not ask for one",
                    f"add `requires: [comment]` to transitions.{t.key} (and a `prompt`)",
                )

    def assignees(self) -> None:
        """A status that requires an assignee is never entered without one. People are asked
        for one by the engine; the system cannot name one, so every place the system moves
        a ticket from must already have one."""
        wf = self.wf
        for t in wf.transitions.values():
            if t.to is None or SYSTEM not in expand_roles(t.by):
                continue
            if "assignee" not in wf.statuses[t.to.status].requires:
                continue
            if any(e.kind == "assign" and e.value == "actor" for e in t.effects):
                continue
            for key, s in wf.statuses.items():
                if "assignee" in s.requires:
                    continue
                if any(starts_at(wf, t, key, sub) for sub in ("", *s.sub_statuses)):
                    self.add(
                        t.lines.of("by"),
                        f"the system may move a ticket with '{t.key}' from '{key}', where it "
                        f"may have no assignee, into '{t.to.status}', which requires one",
                        f"add `requires: [assignee]` to statuses.{key}, or take `system` "
                        f"out of transitions.{t.key}.by",
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
    checks.idle_turns()
    checks.reasons()
    checks.assignees()
    return checks.found
