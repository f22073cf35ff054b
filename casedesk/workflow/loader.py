"""Turn a workflow file into a checked `Workflow`, or refuse it whole with every problem."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .checks import Finding, check
from .durations import parse_duration
from .schema import WorkflowDef
from .source import LineMap, SourceError, read_yaml
from .spec import (
    PREVIOUS,
    Duplicates,
    Effect,
    Ref,
    Status,
    SubStatus,
    Timer,
    Transition,
    Trigger,
    Workflow,
)

PRESETS = Path(__file__).resolve().parent.parent / "presets"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.message}"
        return f"{text} (fix: {self.fix})" if self.fix else text


class WorkflowError(Exception):
    """A workflow file that cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_PYDANTIC_FIXES = {
    "extra_forbidden": "remove it, or check its spelling",
    "missing": "add it",
    "string_type": "write a text value",
    "int_type": "write a whole number",
    "bool_type": "write true or false",
    "dict_type": "write a mapping of `key: value` lines",
    "list_type": "write a list, e.g. [a, b]",
    "literal_error": "",
}


def _schema_problems(exc: ValidationError, file: str, lines: LineMap) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.endswith("]")))
        # pydantic adds the union member ("list[str]") to loc; keep only real keys and indexes
        loc = tuple(x for x in loc if not (isinstance(x, str) and "[" in x))
        where = ".".join(str(x) for x in loc) or "the file"
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
        elif kind == "missing":
            message = f"'{where}' is missing"
        else:
            message = f"{where}: {err['msg'].lower()}"
        problems.append(Problem(file, lines.line_of(loc), message, _PYDANTIC_FIXES.get(kind, "")))
    # the same place can fail against each member of a union; say it once
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line)


def parse(text: str, file: str = "<workflow>") -> WorkflowDef:
    """The file's structure, with types checked but names not yet cross-checked."""
    try:
        data, lines = read_yaml(text)
    except SourceError as exc:
        raise WorkflowError([Problem(file, exc.line, exc.message, exc.fix)]) from None
    if not isinstance(data, dict):
        raise WorkflowError(
            [
                Problem(
                    file, 1, "a workflow file is a mapping of keys", "start with `workflow: <name>`"
                )
            ]
        )
    try:
        wf = WorkflowDef.model_validate(data)
    except ValidationError as exc:
        raise WorkflowError(_schema_problems(exc, file, lines)) from None
    findings: list[Finding] = check(wf)
    if findings:
        problems = [Problem(file, lines.line_of(f.path), f.message, f.fix) for f in findings]
        raise WorkflowError(sorted(problems, key=lambda p: p.line))
    return wf


def compile_workflow(wf: WorkflowDef) -> Workflow:
    subs = {
        key: SubStatus(key, s.label, s.explain, s.turn, s.active)
        for key, s in wf.sub_statuses.items()
    }
    statuses = {
        key: Status(
            key=key,
            label=s.label,
            explain=s.explain,
            category=s.category,
            turn=s.turn,
            active=s.active if s.active is not None else s.category not in ("closed", "cancelled"),
            initial=s.initial,
            sub_statuses=tuple(s.sub_statuses),
            default_sub=s.default_sub,
            rank=s.rank,
            requires=tuple(s.requires),
        )
        for key, s in wf.statuses.items()
    }
    transitions = {
        key: Transition(
            key=key,
            label=t.label,
            sources=() if t.from_ == "*" else tuple(Ref.parse(x) for x in t.from_),
            from_anywhere=t.from_ == "*",
            to=None if t.to == PREVIOUS else Ref.parse(t.to),
            by=frozenset(t.by),
            types=frozenset(t.types) if t.types is not None else None,
            requires=tuple(t.requires),
            prompt=t.prompt,
            reopen=t.reopen,
            effects=tuple(Effect(k, v) for e in t.effects for k, v in e.items()),
        )
        for key, t in wf.transitions.items()
    }
    timers = {
        key: Timer(
            key,
            tuple(Ref.parse(x) for x in t.in_),
            parse_duration(t.after),
            t.since,
            t.transition,
            t.notice,
            parse_duration(t.warn_before) if t.warn_before else None,
        )
        for key, t in wf.timers.items()
    }
    triggers = tuple(
        Trigger(t.on, tuple(Ref.parse(x) for x in t.in_), t.transition, t.environment)
        for t in wf.events
    )
    return Workflow(
        slug=wf.workflow,
        version=wf.version,
        name=wf.name,
        description=wf.description,
        languages=tuple(wf.languages),
        order=wf.order,
        types=wf.types,
        priorities=wf.priorities,
        teams=wf.teams,
        fields=wf.fields,
        sub_statuses=subs,
        statuses=statuses,
        transitions=transitions,
        timers=timers,
        triggers=triggers,
        duplicates=Duplicates(wf.duplicates.transition, wf.duplicates.title_prefix)
        if wf.duplicates
        else None,
    )


def load_text(text: str, file: str = "<workflow>") -> Workflow:
    return compile_workflow(parse(text, file))


def load_file(path: str | Path) -> Workflow:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowError([Problem(str(path), 1, f"cannot read the file: {exc}")]) from None
    return load_text(text, str(path))


def checksum(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def preset_paths() -> list[Path]:
    return sorted(PRESETS.glob("*.yaml"))


def check_files(paths: list[Path]) -> list[Problem]:
    """Every problem in every file; an empty list means all of them load."""
    problems: list[Problem] = []
    for path in paths:
        try:
            load_file(path)
        except WorkflowError as exc:
            problems.extend(exc.problems)
    return problems
