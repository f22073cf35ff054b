"""`casedesk release deploy`, the pipeline's step, against a running Casedesk."""

from __future__ import annotations

import pytest

from casedesk.accounts.models import Organisation
from casedesk.api.tokens import token_create
from casedesk.cli import main
from casedesk.releases.models import Deployment
from casedesk.releases.services import environment_declare, line_create, release_create
from tests.conftest import make_desk, make_staff


@pytest.fixture
def served(live_server, transactional_db):
    org = Organisation.objects.create(name="Acme", slug="acme")
    lead = make_staff("pipeline-lead")
    desk = make_desk("tms", "TMS", [org], {lead: "lead"})
    line = line_create(actor=lead, desk=desk, name="3")
    release_create(actor=lead, line=line, version="3.1.2")
    environment_declare(actor=lead, organisation=org, desk=desk, name="PROD", tier="PROD")
    _, secret = token_create(actor=lead, user=lead, name="ci", scope="deploy")
    return live_server.url, desk, secret


def deploy(url, desk, *extra):
    return main(
        [
            "release",
            "deploy",
            "--url",
            url,
            "--desk",
            str(desk.pk),
            "--organisation",
            "acme",
            "--environment",
            "PROD",
            "--pipeline-id",
            "ci-981",
            *extra,
        ]
    )


def test_the_command_records_a_deployment_once(served, monkeypatch, capsys):
    url, desk, secret = served
    monkeypatch.setenv("CASEDESK_TOKEN", secret)
    assert deploy(url, desk, "--version", "3.1.2") == 0
    assert "recorded" in capsys.readouterr().out
    assert deploy(url, desk, "--version", "3.1.2") == 0  # a retry changes nothing
    assert "nothing changed" in capsys.readouterr().out
    assert Deployment.objects.count() == 1
    assert deploy(url, desk, "--version", "9.9", "--pipeline-id", "ci-982") == 1
    assert "refused (422)" in capsys.readouterr().err
    monkeypatch.setenv("CASEDESK_TOKEN", "cdk_wrong")
    assert deploy(url, desk, "--version", "3.1.2") == 1
    assert "refused (401)" in capsys.readouterr().err
    monkeypatch.delenv("CASEDESK_TOKEN")
    assert deploy(url, desk, "--version", "3.1.2") == 2
    assert Deployment.objects.count() == 1
