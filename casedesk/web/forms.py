"""Reading what people typed into ticket forms, the same way on both sides.

Each form is a Django form whose fields come from the workflow (its custom fields) and
from the choices the page offered (people). The forms read; the services judge: a value
the workflow does not take is refused by the same rule for a page, a mail and the API
(`tickets.inputs`, `workflow.engine`), never a second time here. What only a page can get
wrong, picking someone who was not offered, is refused here with its code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.http import HttpRequest

from casedesk.common.errors import InvalidInput, Problem, VersionRequired
from casedesk.tickets import selectors
from casedesk.tickets.attachments import Upload
from casedesk.workflow import Workflow

FIELD = "field:"


class Typed(forms.Field):
    """Text exactly as typed (the services trim it and check its length and content)."""

    def __init__(self) -> None:
        super().__init__(required=False)

    def to_python(self, value: Any) -> str:
        return "" if value in self.empty_values else str(value)


class Flag(forms.Field):
    """A checkbox that posts `1` when ticked."""

    def __init__(self) -> None:
        super().__init__(required=False)

    def to_python(self, value: Any) -> bool:
        return value == "1"


class _Read(forms.Form):
    def read(self) -> dict[str, Any]:
        """What was typed, field by field; these fields never refuse anything."""
        self.full_clean()
        return self.cleaned_data

    def custom_fields(self) -> dict[str, str]:
        data = self.read()
        values = {k[len(FIELD) :]: str(v).strip() for k, v in data.items() if k.startswith(FIELD)}
        return {name: value for name, value in values.items() if value}


def _with_workflow_fields(form: forms.Form, workflow: Workflow) -> None:
    for name in workflow.fields:
        form.fields[FIELD + name] = Typed()


class TicketForm(_Read):
    """A new ticket: title, description, type, priority and the workflow's custom fields."""

    title = Typed()
    description = Typed()
    type = Typed()
    priority = Typed()

    def __init__(self, data: Mapping[str, Any], *, workflow: Workflow):
        super().__init__(data)
        _with_workflow_fields(self, workflow)

    def values(self) -> dict[str, Any]:
        data = self.read()
        return {
            "title": data["title"],
            "description": data["description"],
            "type": data["type"] or None,
            "priority": data["priority"] or None,
            "fields": self.custom_fields(),
        }


class EditForm(TicketForm):
    """A change to a ticket's own fields; a title the form did not carry stays as it is."""

    def values(self) -> dict[str, Any]:
        values = super().values()
        values["title"] = values["title"] if "title" in self.data else None
        values.pop("description")
        data = self.read()  # an emptied field is cleared, so it is kept here
        values["fields"] = {
            k[len(FIELD) :]: str(v).strip()
            for k, v in data.items()
            if k.startswith(FIELD) and k in self.data
        }
        return values


class CommentForm(_Read):
    body = Typed()
    internal = Flag()


def _chosen(people: Iterable[Any], value: str, name: str) -> Any:
    if not value:
        return None
    found = next((p for p in people if str(p.pk) == value), None)
    if found is None:
        raise InvalidInput({name: Problem("input.not_a_choice")})
    return found


class TransitionForm(_Read):
    """A workflow step: its comment, sub-status, custom fields and the people it may name,
    chosen from those the page offered."""

    comment = Typed()
    comment_internal = Flag()
    sub_status = Typed()
    assignee = Typed()
    customer_assignee = Typed()

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        workflow: Workflow,
        staff: Iterable[Any] = (),
        people: Iterable[Any] = (),
    ):
        super().__init__(data)
        _with_workflow_fields(self, workflow)
        self.staff, self.people = list(staff), list(people)

    def values(self) -> dict[str, Any]:
        data = self.read()
        return {
            "comment": data["comment"],
            "sub_status": data["sub_status"] or None,
            "fields": self.custom_fields(),
            "assignee": _chosen(self.staff, data["assignee"], "assignee"),
            "customer_assignee": _chosen(
                self.people, data["customer_assignee"], "customer_assignee"
            ),
        }


class QuoteForm(_Read):
    """A quote staff send: hours or an amount with its currency, a text, a validity date."""

    hours = Typed()
    amount = Typed()
    currency = Typed()
    text = Typed()
    valid_until = Typed()


class QuoteAnswerForm(_Read):
    """An answer to a quote: a reason (declining) or a note (staff), and staff's
    confirmation that the customer gave this answer themselves."""

    reason = Typed()
    note = Typed()
    confirm = Flag()


class _VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2**31 - 1)


def version_of(request: HttpRequest, name: str = "version") -> int:
    """The ticket version the form was drawn from (for StaleTicket). Every change a person
    makes names one: a form without it, or with anything but a version, is refused."""
    value = request.POST.get(name, "")
    form = _VersionForm({"version": value})
    if not (value.isdigit() and form.is_valid()):
        raise VersionRequired
    return int(form.cleaned_data["version"])


def confirm_problem() -> InvalidInput:
    return InvalidInput({"confirm": Problem("input.confirm_required")})


def confirmed(request: HttpRequest, ticket, transition: str) -> None:
    """A step that ends the ticket, or that staff take on the customer's behalf, is made
    only once the person ticked the box that says so (`Action.confirm`, from the engine)."""
    step = selectors.next_step_for(user=request.user, ticket=ticket, lang="en")
    actions = [*step.actions, *([step.duplicate] if step.duplicate else [])]
    action = next((a for a in actions if a.key == transition), None)
    if action is not None and action.confirm and request.POST.get("confirm") != "1":
        raise confirm_problem()


def typed(request: HttpRequest) -> dict[str, str]:
    """What the person typed, to put back into the form when a change is refused."""
    return {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}


def uploads_of(request: HttpRequest) -> list[Upload]:
    """The files posted as `attachments`."""
    return list(request.FILES.getlist("attachments"))
