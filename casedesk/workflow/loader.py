"""Turn a workflow file into a checked `Workflow`, or refuse it whole with every problem."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .checks import Finding, check
from .compiler import compile_workflow
from .flow import flow_check
from .schema import WorkflowDef
from .source import LineMap, SourceError, read_yaml
from .spec import Workflow

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


def parse(text: str, file: str = "<workflow>") -> tuple[WorkflowDef, LineMap]:
    """The file's shape, with types checked but names not yet cross-checked."""
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
        return WorkflowDef.model_validate(data), lines
    except ValidationError as exc:
        raise WorkflowError(_schema_problems(exc, file, lines)) from None


def _refuse(file: str, findings: list[Finding]) -> None:
    if findings:
        problems = [Problem(file, f.line, f.message, f.fix) for f in findings]
        raise WorkflowError(sorted(problems, key=lambda p: p.line))


def load_text(text: str, file: str = "<workflow>") -> Workflow:
    """The compiled workflow of `text`, or WorkflowError with every problem in it: first
    the names and values in the file, then what tickets can do in the compiled model."""
    definition, lines = parse(text, file)
    _refuse(file, check(definition, lines))
    wf = compile_workflow(definition, lines)
    _refuse(file, flow_check(wf))
    return wf


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
