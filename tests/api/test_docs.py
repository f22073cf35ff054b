"""The published OpenAPI document and the interactive docs."""

from __future__ import annotations

import pytest

from casedesk.api.errors import ERROR_STATUSES


@pytest.mark.django_db
def test_the_openapi_document_documents_every_error_in_one_shape(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["info"]["title"] == "Casedesk API"
    schemes = doc["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    assert len(operations) >= 40
    for op in operations:
        for status in ERROR_STATUSES:
            ref = op["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/Error"), (op["operationId"], status)


@pytest.mark.django_db
def test_the_interactive_docs_are_served_without_outside_resources(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/openapi.json" in html
    assert "cdn." not in html  # the bundled copy, so it works without internet
