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


def test_the_agent_forms_read_what_the_page_sent_and_refuse_what_it_did_not_offer():
    from types import SimpleNamespace

    from casedesk.web.forms import BulkForm, ChoiceForm, DuplicateForm, MailForm, WorkForm

    mail = MailForm(
        QueryDict("to=a@x.example;b@x.example c@x.example&cc=&subject=Hi&body=Text"
                  "&internal=1&attachment_ids=3&attachment_ids=x&attachment_ids=99999999999999999999")
    ).values()  # fmt: skip
    assert mail["to"] == ["a@x.example", "b@x.example", "c@x.example"] and mail["cc"] == []
    assert mail["attachment_ids"] == [3] and mail["internal"] is True

    offered = [SimpleNamespace(pk=4), SimpleNamespace(pk=5)]
    assert ChoiceForm(QueryDict("assignee=5"), name="assignee", offered=offered).chosen().pk == 5
    assert ChoiceForm(QueryDict("assignee="), name="assignee", offered=offered).chosen() is None
    with pytest.raises(InvalidInput) as refused:
        ChoiceForm(QueryDict("assignee=6"), name="assignee", offered=offered).chosen()
    assert refused.value.errors["assignee"].code == "input.not_a_choice"

    with pytest.raises(InvalidInput) as unconfirmed:
        DuplicateForm(QueryDict("original=GEN-1&comment=same")).values()
    assert unconfirmed.value.errors["confirm"].code == "input.confirm_required"
    assert DuplicateForm(QueryDict("original= GEN-1 &confirm=1")).values()["original"] == "GEN-1"

    bulk = BulkForm(QueryDict("keys=A-1&keys=A-2&keys=A-1&keys=A-3&op=transition"), limit=2)
    assert bulk.ticket_keys() == ["A-1", "A-2"] and bulk.operation() == ""  # a step names one
    assert BulkForm(QueryDict("op=drop_tables"), limit=2).operation() == ""
    assert BulkForm(QueryDict("op=assign_me"), limit=2).operation() == "assign_me"

    work = WorkForm(QueryDict("minutes=30&billable=0&corrects=12"))
    assert work.values()["billable"] is False and work.corrected_entry() == 12
    assert WorkForm(QueryDict("corrects=-1")).corrected_entry() is None
    assert WorkForm(QueryDict("billable=maybe")).values()["billable"] is None
