"""A delivery pipeline as tests use it: a desk's releases and its customers' environments
declared through the services, deployments sent through the API with a `deploy` token,
and the worker run once after each (`casedesk worker --once`)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from casedesk.api.tokens import token_create
from casedesk.common import clock
from casedesk.ops.worker import run_once
from casedesk.releases.services import environment_declare, line_create, release_create
from tests.api.conftest import Api

_ids = itertools.count(1)


class Pipeline:
    def __init__(self, *, lead, desk, versions: dict[str, list[str]], orgs, tiers=("TEST", "PROD")):
        self.desk = desk
        self.releases = {}
        for line_name, line_versions in versions.items():
            line = line_create(actor=lead, desk=desk, name=line_name)
            for version in line_versions:
                self.releases[version] = release_create(actor=lead, line=line, version=version)
        self.environments = {
            (org.slug, tier): environment_declare(
                actor=lead, organisation=org, desk=desk, name=tier, tier=tier
            )
            for org in orgs
            for tier in tiers
        }
        self.api = Api(None)
        # a pipeline's token lives as long as tokens may (the stories span months)
        _, secret = token_create(
            actor=lead,
            user=lead,
            name="pipeline",
            scope="deploy",
            expires_at=clock.now() + timedelta(days=365),
        )
        self.api.headers["Authorization"] = f"Bearer {secret}"

    def send(self, org, environment: str, version: str, *, pipeline_id=None, deployed_at=None):
        body = {
            "organisation": org.slug,
            "environment": environment,
            "version": version,
            "pipeline_id": pipeline_id or f"run-{next(_ids)}",
        }
        if deployed_at is not None:
            body["deployed_at"] = deployed_at.isoformat()
        return self.api.post(f"desks/{self.desk.pk}/deployments", body)

    def deploy(self, org, environment: str, version: str, **kw) -> tuple[int, int]:
        """Send the deployment, check it was taken, run the worker; the worker's counts."""
        answer = self.send(org, environment, version, **kw)
        assert answer.status_code in (200, 201), answer.content
        return run_once()
