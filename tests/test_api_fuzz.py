"""API fuzzing with schemathesis against ``/api/schema/``: for every operation of the OpenAPI schema, a few requests
generated from the schema (valid ones, and invalid ones that must be refused) are sent as a GRC user with a token,
through the WSGI app in this process (the test database's transaction, no server, no network). Each answer must
be no server error, and what the schema documents for it must hold (its content type and body).

Sized for two cores: ``MAX_EXAMPLES`` examples per operation and mode, no shrinking, a fixed seed (the same requests
every run), so the whole run stays within a minute or two.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from cek.apitokens import api_token_issue
from tests.factories import KeyFactory, PartyFactory, UserFactory

MAX_EXAMPLES = 3
# Operations a fuzzer must not drive: none so far (every endpoint answers any input with a 2xx or a 4xx).
EXCLUDED: tuple[str, ...] = ()


@pytest.fixture
def grc_token(db):
    user = UserFactory(username="fuzzer", roles=["grc"])
    _token, raw = api_token_issue(user=user, name="schemathesis")
    return raw


@pytest.fixture
def _one_connection():
    """The WSGI app closes the database connection around each request (``close_old_connections``), which would
    close the test's transaction: disconnected for the test, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(grc_token, settings, _one_connection):
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    # Some data for the detail and filter routes to find (ids from 1 up are what the fuzzer tries first).
    PartyFactory(name="Us", is_us=True)
    KeyFactory(name="fuzz-key")
    config = SchemathesisConfig.from_dict(
        {
            "seed": 1,
            "generation": {"max-examples": MAX_EXAMPLES, "no-shrink": True, "deterministic": True},
            # The schema's own examples and generated requests (valid and invalid); the coverage phase's hundreds
            # of boundary values per operation and stateful sequences are left to a dedicated run.
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        WSGIHandler(),
        config=config,
        headers={"Authorization": f"Bearer {grc_token}"},
    )
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)
def test_the_api_answers_every_generated_request_without_a_server_error(case, grc_token):
    response = case.call(headers={"Authorization": f"Bearer {grc_token}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"
    case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])


WORKFLOWS = [
    "/api/v1/findings/",
    "/api/v1/findings/{id}/assign/",
    "/api/v1/findings/{id}/accept-risk/",
    "/api/v1/findings/{id}/resolve/",
    "/api/v1/packs/",
    "/api/v1/packs/{id}/cancel/",
    "/api/v1/packs/{id}/retry/",
    "/api/v1/packs/{id}/download/",
    "/api/v1/packs/verify/",
    "/api/v1/campaigns/",
    "/api/v1/campaigns/{id}/launch/",
    "/api/v1/campaigns/{id}/close/",
    "/api/v1/campaigns/{id}/attestations/",
    "/api/v1/attestations/",
    "/api/v1/attestations/inbox/",
    "/api/v1/attestations/confirm/",
    "/api/v1/attestations/{id}/discrepancy/",
    "/api/v1/attestations/{id}/reassign/",
    "/api/v1/caiq-answers/generate/",
    "/api/v1/caiq-answers/{id}/publish/",
    "/api/v1/policies/",
    "/api/v1/policy-versions/",
    "/api/v1/policy-versions/{id}/submit/",
    "/api/v1/policy-versions/{id}/approve/",
    "/api/v1/policy-reviews/",
    "/api/v1/change-events/",
    "/api/v1/evaluations/",
]


def test_the_fuzzed_schema_covers_every_workflow(grc_token, client):
    paths = client.get("/api/schema/?format=json", HTTP_AUTHORIZATION=f"Bearer {grc_token}").json()["paths"]
    assert [path for path in WORKFLOWS if path not in paths] == []
