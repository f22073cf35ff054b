"""The compiled workflow: the one model the checker and the engine both work on.

`compiler.compile_workflow` builds it from a file whose names have been resolved; the
checks that ask what tickets can do (`flow.py`) then run on it with the engine's
own functions, and `loader.load_text` hands it out only once they have all passed, so the
engine can trust every name it meets here. Each element remembers the lines it was
written on, so a problem found here still points into the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

from .sla import Mode, default_modes

CUSTOMER_ROLES = ("member", "approver", "org_admin")
STAFF_ROLES = ("agent", "lead", "admin")
SYSTEM = "system"
# A group name in `by:` stands for every role of that side.
ROLE_GROUPS = {"customer": frozenset(CUSTOMER_ROLES), "staff": frozenset(STAFF_ROLES)}
# Roles that depend on the ticket, not on the person: the engine adds them per ticket.
RELATIONAL_ROLES = ("reporter", "customer_assignee")
# Everyone on the customer's side: the customer roles and the ticket's own customer people.
CUSTOMER_SIDE = frozenset((*CUSTOMER_ROLES, *RELATIONAL_ROLES))
KNOWN_ROLES = frozenset((*CUSTOMER_ROLES, *STAFF_ROLES, SYSTEM, *ROLE_GROUPS, *RELATIONAL_ROLES))

FINAL_CATEGORIES = frozenset({"closed", "cancelled"})
EVENTS = frozenset(
    {
        "customer_commented",  # a customer added a public comment
        "staff_commented",  # supplier staff added a public comment
        "assigned",  # a staff assignee was set
        "release_deployed",  # a version was deployed to the ticket organisation's environment
        "release_published",  # a release carrying the ticket's fix is out (not yet installed)
        "sla_warning",  # an SLA target is close
        "sla_breached",  # an SLA target passed
    }
)
REQUIREMENTS = ("comment", "assignee", "customer_assignee")  # plus "field:<name>"
EFFECTS = (
    "flag",  # add an overlay flag (urgent, escalated...)
    "unflag",  # remove one
    "raise_priority",  # move the priority N steps up
    "set_priority",  # set a priority by name
    "assign",  # staff assignee: actor | none
    "customer_assignee",  # customer-side assignee: reporter | actor | none
    "team",  # route to a team by name, or none
    "stamp",  # set a datetime field to now
    "clear",  # empty a field
    "sheet",  # move the ticket's service sheet: submit | approve | return | lock
    "estimate",  # the hour estimate beside the ticket: grant (an approver accepts it)
    "quote",  # the transition sends, accepts or declines a quote: send | accept | decline
)
PREVIOUS = "previous"

Texts = Mapping[str, str]
Place = tuple[str, str]  # (status, sub-status); '' is "no sub-status"


@dataclass(frozen=True)
class Lines:
    """Where an element is written: the line of its own key and of each key under it."""

    at: int = 1
    keys: Mapping[str, int] = field(default_factory=dict)

    def of(self, key: str = "") -> int:
        return self.keys.get(key, self.at)


NOWHERE = Lines()


@dataclass(frozen=True, order=True)
class Ref:
    """A place in the workflow: a status, optionally narrowed to one of its sub-statuses."""

    status: str
    sub: str | None = None

    @classmethod
    def parse(cls, text: str) -> Ref:
        status, _, sub = text.partition("/")
        return cls(status.strip(), sub.strip() or None)

    def matches(self, status: str, sub: str) -> bool:
        return status == self.status and (self.sub is None or self.sub == sub)

    def __str__(self) -> str:
        return f"{self.status}/{self.sub}" if self.sub else self.status


@dataclass(frozen=True)
class TicketType:
    label: Texts
    customer_may_create: bool = True
    default: bool = False


@dataclass(frozen=True)
class Priority:
    label: Texts
    default: bool = False


@dataclass(frozen=True)
class Team:
    label: Texts


@dataclass(frozen=True)
class Field:
    label: Texts
    kind: str = "text"  # text | number | decimal | date | datetime | version
    help: Texts | None = None
    customer_visible: bool = True
    customer_editable: bool = False
    pattern: str | None = None


@dataclass(frozen=True)
class Flag:
    label: Texts
    public: bool = False  # shown to customers; internal flags are staff-only


@dataclass(frozen=True)
class SubStatus:
    key: str
    label: Texts
    explain: Texts
    turn: str | None
    active: bool | None
    waits_for: frozenset[str] | None = None
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)
    staff_note: Texts | None = None  # for staff only


@dataclass(frozen=True)
class Status:
    key: str
    label: Texts
    explain: Texts
    category: str
    turn: str
    active: bool
    initial: bool
    sub_statuses: tuple[str, ...]
    default_sub: str | None
    rank: int | None
    requires: tuple[str, ...] = ()  # what a ticket must have while it is here
    waits_for: frozenset[str] | None = None  # on the customer's turn: whose (default all)
    ask_reason: bool = False  # a person entering it gives a reason
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)
    sla: tuple[tuple[str, str], ...] = ()  # (target, run | pause | stop) declared here
    staff_note: Texts | None = None  # for staff only

    @property
    def final(self) -> bool:
        return self.category in FINAL_CATEGORIES


@dataclass(frozen=True)
class Effect:
    kind: str
    value: str | int


@dataclass(frozen=True)
class Transition:
    key: str
    label: Texts
    sources: tuple[Ref, ...]  # where it may start; empty with from_anywhere means every non-final
    from_anywhere: bool
    to: Ref | None  # None: back to the status the ticket came from
    by: frozenset[str]
    types: frozenset[str] | None
    requires: tuple[str, ...]
    prompt: Texts | None
    reopen: bool
    effects: tuple[Effect, ...]
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)

    @property
    def to_previous(self) -> bool:
        return self.to is None

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(r.split(":", 1)[1] for r in self.requires if r.startswith("field:"))


@dataclass(frozen=True)
class Timer:
    key: str
    places: tuple[Ref, ...]
    after: timedelta
    since: str  # "entered" | "last_activity"
    transition: str
    notice: Texts
    warn_before: timedelta | None = None  # warn the people concerned this long before
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Trigger:
    on: str
    places: tuple[Ref, ...]
    transition: str
    environment: str | None
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class FlagTrigger:
    """An event that raises a flag on a ticket in one of `places` without moving it."""

    on: str
    places: tuple[Ref, ...]
    flag: str
    environment: str | None
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Duplicates:
    transition: str
    title_prefix: str
    lines: Lines = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True)
class Workflow:
    slug: str
    version: int
    name: Texts
    description: Texts | None
    languages: tuple[str, ...]
    order: str
    types: Mapping[str, TicketType]
    priorities: Mapping[str, Priority]
    teams: Mapping[str, Team]
    fields: Mapping[str, Field]
    sub_statuses: Mapping[str, SubStatus]
    statuses: Mapping[str, Status]
    transitions: Mapping[str, Transition]
    timers: Mapping[str, Timer]
    triggers: tuple[Trigger, ...]
    duplicates: Duplicates | None
    flags: Mapping[str, Flag] = field(default_factory=dict)
    flag_triggers: tuple[FlagTrigger, ...] = ()
    initial: str = field(init=False)

    def __post_init__(self) -> None:
        initial = next(s.key for s in self.statuses.values() if s.initial)
        object.__setattr__(self, "initial", initial)

    @property
    def start(self) -> Place:
        """The place every new ticket starts in."""
        return self.initial, self.statuses[self.initial].default_sub or ""

    @property
    def priority_order(self) -> tuple[str, ...]:
        return tuple(self.priorities)

    @property
    def default_priority(self) -> str:
        for key, p in self.priorities.items():
            if p.default:
                return key
        return self.priority_order[len(self.priority_order) // 2]

    @property
    def default_type(self) -> str:
        for key, t in self.types.items():
            if t.default:
                return key
        return next(iter(self.types))

    def text(self, texts: Texts | None, lang: str) -> str:
        """Pick a text in `lang`, falling back to English, then the file's main language."""
        if not texts:
            return ""
        for candidate in (lang, lang.split("-")[0], "en", self.languages[0]):
            if candidate in texts:
                return texts[candidate]
        return next(iter(texts.values()))

    def place_label(self, status: str, sub: str, lang: str) -> str:
        """`Status, Sub-status` as the customer reads it (seed 000 shows both levels)."""
        label = self.text(self.statuses[status].label, lang)
        if sub:
            label = f"{label}, {self.text(self.sub_statuses[sub].label, lang)}"
        return label

    def turn_at(self, status: str, sub: str) -> str:
        sub_turn = self.sub_statuses[sub].turn if sub else None
        return sub_turn or self.statuses[status].turn

    def waits_for_at(self, status: str, sub: str) -> frozenset[str]:
        """On the customer's turn, the roles on the customer's side whose turn it is."""
        sub_waits = self.sub_statuses[sub].waits_for if sub else None
        waits = sub_waits if sub_waits is not None else self.statuses[status].waits_for
        return waits if waits is not None else frozenset({"customer"})

    def flag_label(self, flag: str, lang: str) -> str:
        spec = self.flags.get(flag)
        return self.text(spec.label, lang) if spec is not None else flag

    def flag_public(self, flag: str) -> bool:
        spec = self.flags.get(flag)
        return spec is not None and spec.public

    def flags_seen(self, flags: frozenset[str], *, customer: bool) -> frozenset[str]:
        """The flags a viewer sees: customers only those the workflow marks public."""
        return frozenset(f for f in flags if not customer or self.flag_public(f))

    def active_at(self, status: str, sub: str) -> bool:
        if sub and self.sub_statuses[sub].active is not None:
            return bool(self.sub_statuses[sub].active)
        return self.statuses[status].active

    def clock_modes(self, status: str, sub: str) -> dict[str, Mode]:
        """What the place does to each SLA clock: what its status declares, else the
        default of its category and whose turn it is (`sla.default_modes`)."""
        place = self.statuses[status]
        modes = default_modes(place.category, self.turn_at(status, sub))
        modes.update({target: cast(Mode, mode) for target, mode in place.sla})
        return modes

    def places(self) -> list[Place]:
        """Every (status, sub-status) a ticket can be in; '' is 'no sub-status'."""
        result: list[Place] = []
        for status in self.statuses.values():
            result.append((status.key, ""))
            result.extend((status.key, sub) for sub in status.sub_statuses)
        return result

    def transitions_from(self, status: str, sub: str) -> list[Transition]:
        return [t for t in self.transitions.values() if starts_at(self, t, status, sub)]


def starts_at(wf: Workflow, t: Transition, status: str, sub: str) -> bool:
    if t.from_anywhere:
        return not wf.statuses[status].final
    return any(ref.matches(status, sub) for ref in t.sources)


def expand_roles(roles: frozenset[str]) -> frozenset[str]:
    """Names in `by:` turned into the concrete roles they admit (groups and ladders)."""
    admitted: set[str] = set()
    for role in roles:
        if role in ROLE_GROUPS:
            admitted |= ROLE_GROUPS[role]
        else:
            admitted.add(role)
    return frozenset(admitted)
