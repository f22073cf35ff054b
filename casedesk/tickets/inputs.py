"""Checks of what people type in, shared by the services."""

from __future__ import annotations

from casedesk.common.errors import Problem
from casedesk.desks.models import Desk, StaffMembership
from casedesk.workflow import Workflow, field_problem

MAX_TITLE = 300
MAX_TEXT = 100_000


def text_input(errors: dict, name: str, value: str, *, required: bool, limit: int) -> str:
    value = (value or "").strip()
    if required and not value:
        errors[name] = Problem("input.required")
    elif len(value) > limit:
        errors[name] = Problem("input.too_long", limit=limit)
    elif "\x00" in value:
        errors[name] = Problem("input.nul")
    return value


def field_errors(wf: Workflow, values: dict, *, customer: bool) -> dict[str, Problem]:
    """What is wrong with each value, by the workflow's rules (`field_problem`)."""
    errors = {}
    for name, value in values.items():
        problem = field_problem(wf, name, value, by_customer=customer)
        if problem:
            errors[f"fields.{name}"] = Problem.denied(problem)
    return errors


def is_desk_staff(desk: Desk, user) -> bool:
    return (
        user.is_active
        and user.is_supplier_staff
        and (user.is_superuser or StaffMembership.objects.filter(desk=desk, user=user).exists())
    )
