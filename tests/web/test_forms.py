"""Page input is read through forms built from the workflow; the services judge it."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from casedesk.common.errors import InvalidInput, Problem
from casedesk.web.forms import EditForm, TicketForm, TransitionForm
from casedesk.workflow import load_file
from casedesk.workflow.loader import PRESETS


def _posted(**values) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        data[key.replace("__", ":")] = value
    return data


def test_the_ticket_form_has_the_workflows_fields_and_reads_only_those(world):
    wf = world.desk.workflow.workflow
    form = TicketForm(_posted(title=" Broken ", type="raket", field__nope="x"), workflow=wf)
    assert {f"field:{name}" for name in wf.fields} <= set(form.fields)
    values = form.values()
    # read as typed: whether "raket" is a type is the service's rule, said there
    assert (values["title"], values["type"], values["priority"]) == (" Broken ", "raket", None)
    assert values["fields"] == {}


def test_an_emptied_custom_field_is_kept_so_the_edit_clears_it():
    wf = load_file(PRESETS / "assu.yaml")
    values = EditForm(_posted(field__fix_version="  "), workflow=wf).values()
    assert values["fields"] == {"fix_version": ""} and values["title"] is None
    typed = TicketForm(_posted(field__fix_version=" 7.3 "), workflow=wf).values()
    assert typed["fields"] == {"fix_version": "7.3"}


def test_a_person_who_was_not_offered_is_refused_with_a_code(world):
    wf = world.desk.workflow.workflow
    form = TransitionForm(
        _posted(customer_assignee=str(world.bob.pk)), workflow=wf, people=[world.alice]
    )
    with pytest.raises(InvalidInput) as caught:
        form.values()
    assert caught.value.errors == {"customer_assignee": Problem("input.not_a_choice")}
    chosen = TransitionForm(
        _posted(customer_assignee=str(world.alice.pk)), workflow=wf, people=[world.alice]
    ).values()
    assert chosen["customer_assignee"] == world.alice
