"""Properties of the engine, checked with Hypothesis.

1. No sequence of allowed transitions reaches a place the validator calls unreachable
   (random workflows, random actors, random inputs).
2. An actor is offered exactly the transitions that applying would accept, given the
   inputs each option says it needs (every preset, random walks).
3. A timer never fires twice: once its transition is applied, the ticket's next timer is
   due strictly later (every preset, random walks).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casedesk.workflow import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    Given,
    Outcome,
    Snapshot,
    after,
    decide,
    load_file,
    next_timer,
    options,
    preset_paths,
)
from casedesk.workflow.compiler import compile_workflow
from casedesk.workflow.graph import reachable
from casedesk.workflow.schema import WorkflowDef

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
ACTORS = [
    Actor("customer", "member", 10),  # the reporter
    Actor("customer", "member", 11),
    Actor("customer", "approver", 12),
    Actor("customer", "org_admin", 13),
    Actor("staff", "agent", 1),
    Actor("staff", "lead", 2),
    Actor("staff", "admin", 3),
    SYSTEM_ACTOR,
]
ROLES = [
    "member",
    "approver",
    "org_admin",
    "agent",
    "lead",
    "admin",
    "system",
    "customer",
    "staff",
    "reporter",
    "customer_assignee",
]
CATEGORIES = ["new", "open", "waiting", "resolved", "closed", "cancelled"]
SUBS = ["u0", "u1", "u2"]


def _sample_value(wf, name: str) -> str:
    import re

    spec = wf.fields[name]
    candidates = {
        "text": ["PBI-1042", "1042", "A-1"],
        "number": ["1042"],
        "decimal": ["6.5"],
        "version": ["2.4"],
        "date": ["2026-12-01"],
        "datetime": ["2026-12-01T09:00:00+00:00"],
    }
    for value in candidates[spec.kind]:
        if not spec.pattern or re.fullmatch(spec.pattern, value):
            return value
    raise AssertionError(f"no sample value fits field {name}")


def satisfy(wf, option, sub: str | None) -> Given:
    needs = option.needs
    return Given(
        comment="because" if "comment" in needs else "",
        sub_status=sub,
        fields={n[6:]: _sample_value(wf, n[6:]) for n in needs if n.startswith("field:")},
        assignee_id=1 if "assignee" in needs else None,
        customer_assignee_id=10 if "customer_assignee" in needs else None,
    )


def start(wf, ticket_type: str, priority: str) -> Snapshot:
    """A new ticket of `ticket_type` in the workflow's initial place."""
    status, sub = wf.start
    return Snapshot(
        status=status,
        sub_status=sub,
        type=ticket_type,
        priority=priority,
        entered_at=T0,
        last_activity_at=T0,
        reporter_id=10,
        progress_rank=wf.statuses[status].rank or 0,
    )


@st.composite
def workflows(draw):
    n = draw(st.integers(2, 6))
    keys = [f"s{i}" for i in range(n)]
    order = draw(st.sampled_from(["free", "forward"]))
    statuses = {}
    for i, key in enumerate(keys):
        subs = draw(st.lists(st.sampled_from(SUBS), unique=True, max_size=2))
        category = draw(st.sampled_from(CATEGORIES[:2] if i == 0 else CATEGORIES))
        statuses[key] = {
            "label": {"en": key},
            "explain": {"en": key},
            "category": category,
            "turn": draw(st.sampled_from(["supplier", "customer", "third_party", "nobody"])),
            "initial": i == 0,
            "sub_statuses": subs,
            "default_sub": draw(st.sampled_from([None, *subs])),
        }
        if order == "forward" and (i == 0 or draw(st.booleans())):
            statuses[key]["rank"] = i + 1

    def place():
        key = draw(st.sampled_from(keys))
        subs = statuses[key]["sub_statuses"]
        sub = draw(st.sampled_from([None, *subs]))
        return f"{key}/{sub}" if sub else key

    transitions = {}
    for j in range(draw(st.integers(1, 10))):
        to = draw(st.one_of(st.just("previous"), st.builds(lambda: None).map(lambda _: place())))
        transitions[f"t{j}"] = {
            "label": {"en": f"t{j}"},
            "from": draw(
                st.one_of(
                    st.just("*"),
                    st.lists(
                        st.builds(lambda: None).map(lambda _: place()), min_size=1, max_size=3
                    ),
                )
            ),
            "to": to,
            "by": draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=3, unique=True)),
            "requires": draw(
                st.lists(
                    st.sampled_from(["comment", "assignee", "customer_assignee"]),
                    unique=True,
                    max_size=2,
                )
            ),
            "reopen": draw(st.booleans()),
        }
    data = {
        "workflow": "random",
        "version": 1,
        "name": {"en": "r"},
        "languages": ["en"],
        "order": order,
        "types": {"task": {"label": {"en": "Task"}}},
        "priorities": {"low": {"label": {"en": "L"}}, "high": {"label": {"en": "H"}}},
        "sub_statuses": {s: {"label": {"en": s}, "explain": {"en": s}} for s in SUBS},
        "statuses": statuses,
        "transitions": transitions,
    }
    return WorkflowDef.model_validate(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows(), st.data())
def test_no_allowed_path_reaches_what_the_validator_calls_unreachable(wf_def, data):
    wf = compile_workflow(wf_def)
    allowed = reachable(wf)
    snap = start(wf, "task", "low")
    assert (snap.status, snap.sub_status) in allowed
    now = T0
    for _ in range(data.draw(st.integers(0, 25))):
        actor = data.draw(st.sampled_from(ACTORS))
        offered = options(wf, snap, actor)
        if not offered:
            continue
        option = data.draw(st.sampled_from(offered))
        sub = data.draw(st.sampled_from([None, *option.sub_choices]))
        now += timedelta(hours=1)
        outcome = decide(wf, snap, actor, option.transition.key, satisfy(wf, option, sub), now)
        assert isinstance(outcome, Outcome), outcome
        snap = after(snap, outcome, actor=actor, now=now)
        assert (snap.status, snap.sub_status) in allowed, (snap.status, snap.sub_status)


PRESETS = {path.stem: load_file(path) for path in preset_paths()}


@pytest.mark.parametrize("name", sorted(PRESETS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_offered_exactly_when_accepted(name, data):
    wf = PRESETS[name]
    snap = start(wf, data.draw(st.sampled_from(sorted(wf.types))), wf.default_priority)
    now = T0
    for _ in range(data.draw(st.integers(1, 30))):
        actor = data.draw(st.sampled_from(ACTORS))
        offered = {o.transition.key: o for o in options(wf, snap, actor)}
        for key in wf.transitions:
            if key in offered:
                option = offered[key]
                for sub in (None, *option.sub_choices):
                    result = decide(wf, snap, actor, key, satisfy(wf, option, sub), now)
                    assert isinstance(result, Outcome), (key, result)
                if not option.needs:
                    assert isinstance(decide(wf, snap, actor, key, Given(), now), Outcome)
            else:
                everything = Given(
                    comment="x",
                    fields={n: _sample_value(wf, n) for n in wf.fields},
                    assignee_id=1,
                    customer_assignee_id=10,
                )
                assert isinstance(decide(wf, snap, actor, key, everything, now), Denied), key
        if not offered:
            continue
        option = data.draw(
            st.sampled_from(sorted(offered.values(), key=lambda o: o.transition.key))
        )
        sub = data.draw(st.sampled_from([None, *option.sub_choices]))
        now += timedelta(hours=data.draw(st.integers(1, 200)))
        outcome = decide(wf, snap, actor, option.transition.key, satisfy(wf, option, sub), now)
        assert isinstance(outcome, Outcome)
        snap = after(snap, outcome, actor=actor, now=now)


@pytest.mark.parametrize("name", sorted(PRESETS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_timer_never_fires_twice(name, data):
    wf = PRESETS[name]
    snap = start(wf, data.draw(st.sampled_from(sorted(wf.types))), wf.default_priority)
    now = T0
    for _ in range(data.draw(st.integers(1, 40))):
        due = next_timer(wf, snap)
        if due is not None and data.draw(st.booleans()):
            outcome = decide(wf, snap, SYSTEM_ACTOR, due.timer.transition, Given(), due.due_at)
            assert isinstance(outcome, Outcome)
            snap = after(snap, outcome, actor=SYSTEM_ACTOR, now=due.due_at)
            again = next_timer(wf, snap)
            assert again is None or again.due_at > due.due_at
            now = due.due_at
            continue
        actor = data.draw(st.sampled_from(ACTORS[:-1]))
        offered = options(wf, snap, actor)
        if not offered:
            continue
        option = data.draw(st.sampled_from(offered))
        now += timedelta(hours=data.draw(st.integers(1, 100)))
        outcome = decide(wf, snap, actor, option.transition.key, satisfy(wf, option, None), now)
        snap = after(snap, outcome, actor=actor, now=now)
