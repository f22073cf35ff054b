"""Whole-file checks of a workflow file: do the names fit together, are the values good?

They run on the file model, before compiling, because compiling needs every name to
resolve. Whether the workflow can run (reachability, dead ends, moves of the system and
of customers, forward order) is asked of the compiled model afterwards, in `flow.py`.
Each check adds a Finding at the line of the offending key. The checks never stop at the
first problem: an author fixes a file faster when all of its mistakes are listed at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from .durations import DurationError, parse_duration
from .quote import MOVES as QUOTE_MOVES
from .schema import TransitionDef, WorkflowDef
from .sheet import MOVES as SHEET_MOVES
from .source import LineMap, Path
from .spec import (
    CUSTOMER_SIDE,
    EFFECTS,
    EVENTS,
    KNOWN_ROLES,
    PREVIOUS,
    REQUIREMENTS,
    ROLE_GROUPS,
    Ref,
    expand_roles,
)

KEY = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
LANGUAGE = re.compile(r"^[a-z]{2}(-[a-z]{2})?$")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# the only placeholder a text may hold, and where: a timer's notice names its date
NOTICE_PLACEHOLDERS = frozenset({"date"})
WAITS_FOR_ROLES = frozenset((*CUSTOMER_SIDE, "customer"))


@dataclass(frozen=True)
class Finding:
    line: int
    message: str
    fix: str = ""


def _suggest(name: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return "use one of: " + ", ".join(choices) if choices else ""


class _Checker:
    def __init__(self, wf: WorkflowDef, lines: LineMap):
        self.wf = wf
        self.lines = lines
        self.found: list[Finding] = []

    def add(self, path: Path, message: str, fix: str = "") -> None:
        self.found.append(Finding(self.lines.line_of(path), message, fix))

    # -- names and texts -------------------------------------------------------------------

    def keys(self) -> None:
        wf = self.wf
        if not SLUG.match(wf.workflow):
            self.add(
                ("workflow",),
                f"'{wf.workflow}' is not a valid workflow name",
                "use lower-case letters, digits, '-' and '_'",
            )
        sections: dict[str, Mapping[str, object]] = {
            "types": wf.types,
            "priorities": wf.priorities,
            "teams": wf.teams,
            "fields": wf.fields,
            "flags": wf.flags,
            "sub_statuses": wf.sub_statuses,
            "statuses": wf.statuses,
            "transitions": wf.transitions,
            "timers": wf.timers,
        }
        for section, items in sections.items():
            for key in items:
                if not KEY.match(key):
                    self.add(
                        (section, key),
                        f"'{key}' is not a valid name",
                        "use lower-case letters, digits and '_', starting with a letter",
                    )
                if key == PREVIOUS and section == "statuses":
                    self.add(
                        (section, key),
                        "'previous' is reserved for return transitions",
                        "choose another name for this status",
                    )
        for section in ("types", "priorities", "statuses", "transitions"):
            if not getattr(wf, section):
                self.add((section,), f"'{section}' is empty", f"declare at least one of {section}")
        for section in ("types", "priorities"):
            defaults = [k for k, v in getattr(wf, section).items() if v.default]
            if len(defaults) > 1:
                self.add(
                    (section, defaults[1], "default"),
                    f"more than one default in {section}: {', '.join(defaults)}",
                    "mark only one as default",
                )

    def languages(self) -> None:
        wf = self.wf
        if not wf.languages:
            self.add(("languages",), "no languages given", "list at least one, e.g. [en]")
        for i, lang in enumerate(wf.languages):
            if not LANGUAGE.match(lang):
                self.add(
                    ("languages", i), f"'{lang}' is not a language code", "use codes like en, da"
                )
        if len(set(wf.languages)) != len(wf.languages):
            self.add(("languages",), "a language is listed twice", "list each language once")
        for path, texts in self._texts():
            if texts is None:
                continue
            self.placeholders(path, texts)
            for lang in wf.languages:
                if not texts.get(lang, "").strip():
                    self.add(path, f"no '{lang}' text", f"add `{lang}: ...` here")
            for lang in texts:
                if lang not in wf.languages:
                    self.add(
                        (*path, lang),
                        f"'{lang}' is not one of the workflow's languages",
                        "add it to `languages` or remove this text",
                    )

    def placeholders(self, path: Path, texts: Mapping[str, str]) -> None:
        """Every placeholder in a text must be one the pages fill in, so nobody reads `{x}`."""
        allowed = NOTICE_PLACEHOLDERS if path[0] == "timers" else frozenset()
        for lang, text in texts.items():
            for name in PLACEHOLDER.findall(text):
                if name not in allowed:
                    where = "a timer's notice" if path[0] == "timers" else "this text"
                    fills = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
                    self.add(
                        (*path, lang),
                        f"'{{{name}}}' is not filled in for {where}",
                        f"write the words instead; placeholders filled here: {fills}",
                    )

    def _texts(self) -> Iterator[tuple[Path, Mapping[str, str] | None]]:
        wf = self.wf
        yield ("name",), wf.name
        yield ("description",), wf.description
        sections = ("types", "priorities", "teams", "fields", "flags", "sub_statuses", "statuses")
        for section in sections:
            for key, item in getattr(wf, section).items():
                yield (section, key, "label"), item.label
                if hasattr(item, "explain"):
                    yield (section, key, "explain"), item.explain
                if getattr(item, "staff_note", None) is not None:
                    yield (section, key, "staff_note"), item.staff_note
                if getattr(item, "help", None) is not None:
                    yield (section, key, "help"), item.help
        for key, t in wf.transitions.items():
            yield ("transitions", key, "label"), t.label
            yield ("transitions", key, "prompt"), t.prompt
        for key, timer in wf.timers.items():
            yield ("timers", key, "notice"), timer.notice

    # -- statuses ------------------------------------------------------------------------

    def statuses(self) -> None:
        wf = self.wf
        initial = [k for k, s in wf.statuses.items() if s.initial]
        if len(initial) != 1:
            where = ("statuses", initial[1], "initial") if len(initial) > 1 else ("statuses",)
            self.add(
                where,
                f"{len(initial)} initial statuses; exactly one is needed",
                "mark the status new tickets start in with `initial: true`",
            )
        for key, s in wf.statuses.items():
            path = ("statuses", key)
            if s.initial and s.final:
                self.add(
                    (*path, "initial"),
                    "the initial status cannot be final",
                    "start tickets in a status of category new or open",
                )
            for i, sub in enumerate(s.sub_statuses):
                if sub not in wf.sub_statuses:
                    self.add(
                        (*path, "sub_statuses", i),
                        f"unknown sub-status '{sub}'",
                        _suggest(sub, wf.sub_statuses),
                    )
            if s.default_sub is not None and s.default_sub not in s.sub_statuses:
                self.add(
                    (*path, "default_sub"),
                    f"default_sub '{s.default_sub}' is not one of this status's sub_statuses",
                    "add it to sub_statuses or pick one from the list",
                )
            for target, mode in s.sla.items():
                if s.final and mode == "run":
                    self.add(
                        (*path, "sla", target),
                        f"the {target} clock cannot run in a final status",
                        "use `stop` (or leave it out: final statuses stop or meet every clock)",
                    )
            self.waits_for((*path, "waits_for"), s.waits_for, s.turn)
            if s.ask_reason and not s.final:
                self.add(
                    (*path, "ask_reason"),
                    "only a closed or cancelled status asks for a reason on the way in",
                    "remove ask_reason, or give the status category closed or cancelled",
                )
            if s.initial and "assignee" in s.requires:
                self.add(
                    (*path, "requires"),
                    "new tickets start here without an assignee, but the status requires one",
                    "remove `assignee` from this status's requires",
                )
            if wf.order == "free" and s.rank is not None:
                self.add(
                    (*path, "rank"),
                    "rank has no meaning unless `order: forward`",
                    "remove rank or set `order: forward`",
                )
        if wf.order == "forward":
            ranked = [s for s in wf.statuses.values() if s.rank is not None]
            if not any(s.initial and s.rank is not None for s in wf.statuses.values()):
                self.add(
                    ("order",),
                    "with `order: forward` the initial status needs a rank",
                    "give the initial status `rank: 1`",
                )
            if len({s.rank for s in ranked}) != len(ranked):
                self.add(("order",), "two statuses share a rank", "give each ranked status its own")
        for key, sub_def in wf.sub_statuses.items():
            self.waits_for(("sub_statuses", key, "waits_for"), sub_def.waits_for, sub_def.turn)
        used = {sub for s in wf.statuses.values() for sub in s.sub_statuses}
        for sub in wf.sub_statuses:
            if sub not in used:
                self.add(
                    ("sub_statuses", sub),
                    f"sub-status '{sub}' is not used by any status",
                    "list it under a status's sub_statuses or remove it",
                )

    def waits_for(self, path: Path, roles: list[str] | None, turn: str | None) -> None:
        if roles is None:
            return
        if turn is not None and turn != "customer":
            self.add(
                path,
                "waits_for says whose turn it is on the customer's side, but this is "
                f"the {turn}'s turn",
                "remove waits_for, or set `turn: customer`",
            )
        if not roles:
            self.add(path, "waits_for names nobody", "list the customer roles whose turn it is")
        for i, role in enumerate(roles):
            if role not in WAITS_FOR_ROLES:
                self.add(
                    (*path, i),
                    f"'{role}' is not a role on the customer's side",
                    _suggest(role, sorted(WAITS_FOR_ROLES)),
                )

    def place(self, path: Path, text: str, *, allow_previous: bool = False) -> Ref | None:
        """Check a `status` or `status/sub` reference; return it if it is good."""
        if allow_previous and text == PREVIOUS:
            return None
        ref = Ref.parse(text)
        status = self.wf.statuses.get(ref.status)
        if status is None:
            self.add(path, f"unknown status '{ref.status}'", _suggest(ref.status, self.wf.statuses))
            return None
        if ref.sub is not None and ref.sub not in status.sub_statuses:
            self.add(
                path,
                f"'{ref.sub}' is not a sub-status of '{ref.status}'",
                _suggest(ref.sub, status.sub_statuses),
            )
            return None
        return ref

    # -- transitions -------------------------------------------------------------------

    def transitions(self) -> None:
        wf = self.wf
        for key, t in wf.transitions.items():
            path = ("transitions", key)
            if t.from_ != "*":
                if not t.from_:
                    self.add(
                        (*path, "from"), "no starting status", "list where it may start, or '*'"
                    )
                for i, text in enumerate(t.from_):
                    self.place((*path, "from", i), text)
            self.place((*path, "to"), t.to, allow_previous=True)
            if not t.by:
                self.add((*path, "by"), "nobody may make this transition", "list roles under `by`")
            for i, role in enumerate(t.by):
                if role not in KNOWN_ROLES:
                    self.add(
                        (*path, "by", i),
                        f"unknown role '{role}'",
                        _suggest(role, sorted(KNOWN_ROLES)),
                    )
            for i, typ in enumerate(t.types or ()):
                if typ not in wf.types:
                    self.add(
                        (*path, "types", i), f"unknown ticket type '{typ}'", _suggest(typ, wf.types)
                    )
            for i, req in enumerate(t.requires):
                self.requirement((*path, "requires", i), req)
                field = self.wf.fields.get(req[6:]) if req.startswith("field:") else None
                if (
                    field
                    and not field.customer_editable
                    and expand_roles(frozenset(t.by)) & CUSTOMER_SIDE
                ):
                    self.add(
                        (*path, "requires", i),
                        f"customers may make '{key}' but cannot fill in '{req[6:]}'",
                        f"mark fields.{req[6:]} customer_editable, or limit `by` to staff",
                    )
            for i, effect in enumerate(t.effects):
                self.effect((*path, "effects", i), effect, t)
            self.sheet_effect(path, t)
            self.kept(path, t)

    def requirement(self, path: Path, req: str) -> None:
        if req.startswith("field:"):
            name = req.split(":", 1)[1]
            if name not in self.wf.fields:
                self.add(path, f"unknown field '{name}'", _suggest(name, self.wf.fields))
        elif req not in REQUIREMENTS:
            self.add(
                path,
                f"unknown requirement '{req}'",
                "use comment, assignee, customer_assignee or field:<name>",
            )

    def effect(self, path: Path, effect: Mapping[str, str | int], t: TransitionDef) -> None:
        wf = self.wf
        if len(effect) != 1:
            self.add(
                path, "an effect is one `kind: value` pair", "split it into one item per effect"
            )
            return
        ((kind, value),) = effect.items()
        path = (*path, kind)
        if kind not in EFFECTS:
            self.add(path, f"unknown effect '{kind}'", _suggest(kind, EFFECTS))
            return
        allowed: dict[str, Iterable[str]] = {
            "set_priority": wf.priorities,
            "assign": ("actor", "none"),
            "customer_assignee": ("reporter", "actor", "none"),
            "team": (*wf.teams, "none"),
            "stamp": [k for k, f in wf.fields.items() if f.kind in ("date", "datetime")],
            "clear": wf.fields,
            "sheet": SHEET_MOVES,
            "estimate": ("grant",),
            "quote": QUOTE_MOVES,
        }
        if kind == "raise_priority":
            if not isinstance(value, int) or value < 1:
                self.add(
                    path,
                    "raise_priority needs a whole number of steps, 1 or more",
                    "e.g. `raise_priority: 1`",
                )
        elif kind in ("flag", "unflag"):
            self.flag_name(path, value)
        elif str(value) not in allowed[kind]:
            self.add(
                path,
                f"'{value}' is not a valid value for {kind}",
                _suggest(str(value), allowed[kind]),
            )
        admitted = expand_roles(frozenset(t.by))
        if kind == "assign" and value == "actor" and admitted - set(ROLE_GROUPS["staff"]):
            self.add(
                path,
                "`assign: actor` makes the actor the staff assignee, but customers "
                "or the system may make this transition",
                "limit `by` to staff roles",
            )
        if kind == "estimate" and admitted - CUSTOMER_SIDE:
            self.add(
                path,
                "an hour estimate is granted by the customer, but staff or the system may "
                "make this transition",
                "limit `by` to customer roles",
            )
        if kind == "customer_assignee" and value == "actor" and admitted - CUSTOMER_SIDE:
            self.add(
                path,
                "`customer_assignee: actor` needs a customer actor, but staff or the "
                "system may make this transition",
                "limit `by` to customer roles",
            )

    def sheet_effect(self, path: Path, t: TransitionDef) -> None:
        """A sheet move must fit where the transition leads."""
        moves = [(i, v) for i, e in enumerate(t.effects) for k, v in e.items() if k == "sheet"]
        if len(moves) > 1:
            self.add(
                (*path, "effects", moves[1][0]),
                "a transition moves the service sheet once",
                "keep one `sheet:` effect",
            )
        target = self.wf.statuses.get(Ref.parse(t.to).status) if t.to != PREVIOUS else None
        if not moves or target is None:
            return
        i, move = moves[0]
        where = (*path, "effects", i, "sheet")
        if move == "submit" and target.turn != "customer":
            self.add(
                where,
                f"the sheet is submitted for the customer's approval, but it is not the "
                f"customer's turn in '{Ref.parse(t.to).status}'",
                "submit on a transition into a status with `turn: customer`",
            )
        if move in ("approve", "lock") and target.category == "cancelled":
            self.add(
                where,
                "a cancelled ticket carries no billable work, so its sheet is not approved",
                "remove the effect; cancelling turns open billable work non-billable",
            )

    def kept(self, path: Path, t: TransitionDef) -> None:
        """A transition must not clear what its target status requires."""
        target = self.wf.statuses.get(Ref.parse(t.to).status) if t.to != PREVIOUS else None
        if target is None:
            return
        clears = {k for e in t.effects for k, v in e.items() if v == "none"}
        clears = {"assignee" if k == "assign" else k for k in clears}
        for req in set(target.requires) & clears:
            self.add(
                (*path, "effects"),
                f"'{path[-1]}' clears the {req}, but '{Ref.parse(t.to).status}' requires one",
                f"remove the effect or the status's `requires: [{req}]`",
            )

    # -- timers, events, duplicates --------------------------------------------------------

    def flag_name(self, path: Path, value: object) -> None:
        if not isinstance(value, str) or not KEY.match(value):
            self.add(path, f"'{value}' is not a valid flag name", "e.g. `flag: urgent`")
        elif value not in self.wf.flags:
            self.add(
                path,
                f"flag '{value}' is not declared",
                f"declare flags.{value} with its label and whether customers see it "
                "(`public: true`)",
            )

    def transition_name(self, path: Path, name: str) -> None:
        if name not in self.wf.transitions:
            self.add(path, f"unknown transition '{name}'", _suggest(name, self.wf.transitions))

    def timers(self) -> None:
        for key, timer in self.wf.timers.items():
            path = ("timers", key)
            for i, x in enumerate(timer.in_):
                self.place((*path, "in", i), x)
            if not timer.in_:
                self.add(
                    (*path, "in"), "the timer runs in no status", "list the statuses it runs in"
                )
            try:
                after = parse_duration(timer.after)
            except DurationError as exc:
                self.add((*path, "after"), str(exc), "write it like 8d, 36h or 1d 12h")
                after = None
            if timer.warn_before is not None:
                try:
                    warn = parse_duration(timer.warn_before)
                except DurationError as exc:
                    self.add((*path, "warn_before"), str(exc), "write it like 1d or 12h")
                else:
                    if after is not None and warn >= after:
                        self.add(
                            (*path, "warn_before"),
                            f"the warning ({timer.warn_before}) is not shorter than the timer "
                            f"({timer.after})",
                            "warn a shorter time before the timer acts",
                        )
            self.transition_name((*path, "transition"), timer.transition)

    def events(self) -> None:
        for i, trigger in enumerate(self.wf.events):
            path = ("events", i)
            if trigger.on not in EVENTS:
                self.add(
                    (*path, "on"),
                    f"unknown event '{trigger.on}'",
                    _suggest(trigger.on, sorted(EVENTS)),
                )
            if trigger.environment is not None and trigger.on != "release_deployed":
                self.add(
                    (*path, "environment"),
                    "only release_deployed events have an environment",
                    "remove `environment`",
                )
            if (
                trigger.on in ("release_deployed", "release_published")
                and getattr(self.wf.fields.get("fix_version"), "kind", None) != "version"
            ):
                self.add(
                    (*path, "on"),
                    f"{trigger.on} needs a `fix_version` field naming the release "
                    "of the ticket's fix",
                    "declare fields.fix_version with kind: version",
                )
            for j, x in enumerate(trigger.in_):
                self.place((*path, "in", j), x)
            if (trigger.transition is None) == (trigger.flag is None):
                self.add(
                    path,
                    "an event makes a transition or raises a flag, one of the two",
                    "give it `transition: <name>` or `flag: <name>`",
                )
            elif trigger.transition is not None:
                self.transition_name((*path, "transition"), trigger.transition)
            elif trigger.flag is not None:
                self.flag_name((*path, "flag"), trigger.flag)

    def duplicates(self) -> None:
        if self.wf.duplicates is not None:
            self.transition_name(("duplicates", "transition"), self.wf.duplicates.transition)


def check(wf: WorkflowDef, lines: LineMap) -> list[Finding]:
    """Every problem with the names, values and texts of `wf`."""
    checker = _Checker(wf, lines)
    checker.keys()
    checker.languages()
    checker.statuses()
    checker.transitions()
    checker.timers()
    checker.events()
    checker.duplicates()
    return checker.found
