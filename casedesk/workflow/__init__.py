"""The workflow engine: workflow files in, decisions out. Pure Python, no Django."""

from .engine import (
    SYSTEM_ACTOR,
    Actor,
    Denied,
    DueTimer,
    Given,
    Option,
    Outcome,
    Snapshot,
    after,
    decide,
    field_problem,
    next_timer,
    options,
    triggered,
    unassign_problem,
)
from .loader import (
    Problem,
    WorkflowError,
    check_files,
    checksum,
    load_file,
    load_text,
    preset_paths,
)
from .nextstep import NextStep, next_step
from .spec import Workflow

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "Denied",
    "DueTimer",
    "Given",
    "NextStep",
    "Option",
    "Outcome",
    "Problem",
    "Snapshot",
    "Workflow",
    "WorkflowError",
    "after",
    "check_files",
    "checksum",
    "decide",
    "field_problem",
    "load_file",
    "load_text",
    "next_step",
    "next_timer",
    "options",
    "preset_paths",
    "triggered",
    "unassign_problem",
]
