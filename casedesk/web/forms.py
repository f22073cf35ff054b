"""Reading what people typed into ticket forms, the same way on both sides.

Each form is a Django form whose fields come from the workflow (its custom fields) and
from the choices the page offered (people). The forms read; the services judge: a value
the workflow does not take is refused by the same rule for a page, a mail and the API
(`tickets.inputs`, `workflow.engine`), never a second time here. What only a page can get
wrong, picking someone who was not offered, is refused here with its code.
"""

from __future__ import annotations

import re
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


class EstimateForm(_Read):
    """Hours as typed; the estimate services judge them."""

    hours = Typed()


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


class ChoiceForm(_Read):
    """One person or team picked from those the page offered (`name` is the field)."""

    def __init__(self, data: Mapping[str, Any], *, name: str, offered: Iterable[Any]):
        super().__init__(data)
        self.name, self.offered = name, list(offered)
        self.fields[name] = Typed()

    def chosen(self) -> Any:
        """The one picked, None for "nobody"; one not offered is refused."""
        return _chosen(self.offered, self.read()[self.name].strip(), self.name)


def _many(data: Mapping[str, Any], name: str) -> list[str]:
    """Every value posted under `name` (a form's repeated field)."""
    getlist = getattr(data, "getlist", None)
    values = getlist(name) if getlist is not None else data.get(name, [])
    return [str(v) for v in values]


ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")


class MailForm(_Read):
    """A mail from a ticket: addresses separated by commas, semicolons or spaces, and
    files already on the ticket by their ids."""

    to = Typed()
    cc = Typed()
    subject = Typed()
    body = Typed()
    internal = Flag()

    def values(self) -> dict[str, Any]:
        data = self.read()
        ids = _many(self.data, "attachment_ids")
        return {
            "to": [a for a in ADDRESS_SEPARATORS.split(data["to"]) if a],
            "cc": [a for a in ADDRESS_SEPARATORS.split(data["cc"]) if a],
            "subject": data["subject"],
            "body": data["body"],
            "internal": data["internal"],
            "attachment_ids": [int(x) for x in ids if x.isdigit() and int(x) < 2**63],
        }


class DuplicateForm(_Read):
    """Closing as a duplicate: the original's key, a reason, and the confirmation."""

    original = Typed()
    comment = Typed()
    confirm = Flag()

    def values(self) -> dict[str, Any]:
        data = self.read()
        if not data["confirm"]:
            raise confirm_problem()
        return {"original": data["original"].strip(), "comment": data["comment"]}


class WorkForm(_Read):
    """Work logged on the service sheet, or a correction of an entry (`corrects`)."""

    minutes = Typed()
    description = Typed()
    kind = Typed()
    day = Typed()
    billable = Typed()
    corrects = Typed()

    def values(self) -> dict[str, Any]:
        data = self.read()
        return {
            "minutes": data["minutes"],
            "description": data["description"],
            "kind": data["kind"] or None,
            "day": data["day"] or None,
            "billable": {"1": True, "0": False}.get(data["billable"]),
        }

    def corrected_entry(self) -> int | None:
        value = self.read()["corrects"]
        return int(value) if value.isdigit() and int(value) < 2**63 else None


BULK_OPERATIONS = ("assign_me", "unassign", "transition")


class BulkForm(_Read):
    """A change to many tickets of a queue: their keys (at most `limit`), what to do, and
    for a workflow step its key and comment."""

    op = Typed()
    transition = Typed()
    comment = Typed()

    def __init__(self, data: Mapping[str, Any], *, limit: int):
        super().__init__(data)
        self.limit = limit

    def ticket_keys(self) -> list[str]:
        return list(dict.fromkeys(_many(self.data, "keys")))[: self.limit]

    def operation(self) -> str:
        """The operation when it is complete, else ""."""
        data = self.read()
        op = data["op"]
        if op not in BULK_OPERATIONS or (op == "transition" and not data["transition"]):
            return ""
        return op


class RegisterForm(TicketForm):
    """A ticket staff register for a customer who phoned or wrote: who it is for and how
    it came in (phone unless said otherwise)."""

    customer = Typed()
    channel = Typed()

    def reporter_name(self) -> str:
        return self.read()["customer"].strip()

    def channel_of(self, channels: Iterable[str]) -> str:
        channel = self.read()["channel"]
        return channel if channel in channels else "phone"


class SettingForm(_Read):
    """One choice of a person's own (their language, their time zone)."""

    def __init__(self, data: Mapping[str, Any], *, name: str):
        super().__init__(data)
        self.name = name
        self.fields[name] = Typed()

    def value(self) -> str:
        return self.read()[self.name].strip()


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


class FixForm(_Read):
    """A ticket fixed in a release: the release picked from those offered, fix or change,
    a note for customers per language of the desk (`note:<lang>`), and who reads it
    (`audience`: the ticket's organisation unless staff choose every customer)."""

    release = Typed()
    kind = Typed()
    audience = Typed()

    def __init__(self, data, *, languages: Iterable[str]) -> None:
        super().__init__(data)
        for lang in languages:
            self.fields[f"note:{lang}"] = Typed()

    def release_of(self, releases: Iterable[Any]) -> Any:
        chosen = self.read()["release"]
        found = next((r for r in releases if str(r.pk) == chosen), None)
        if found is None:
            raise InvalidInput({"release": Problem("input.not_a_choice")})
        return found

    def notes(self) -> dict[str, str]:
        data = self.read()
        return {k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("note:") and v}

    def audience_chosen(self) -> str:
        return self.read()["audience"] or "organisation"
