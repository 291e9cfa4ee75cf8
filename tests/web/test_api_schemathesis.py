"""Schemathesis against /api/openapi.json, through the Flask app, on SQLite and PostgreSQL:
for every operation, generated requests (valid and invalid) as a coordinator never get a
5xx, and every answer is one the document promises — a documented status code, JSON, and a
body that fits the response schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from mutualaid.models import MatchStatus, RequestStatus, Role
from mutualaid.services.accounts import new_api_token
from tests import builders
from tests.web.dashboard_helpers import account

pytestmark = pytest.mark.slow(seconds=15)

EXAMPLES = 25  # per operation; about 20 operations, under a minute per database

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def _some_data(session) -> None:
    """Records with small ids, which generated path parameters often hit: open, matched and
    completed requests, volunteers vetted or not, a proposal waiting for an answer."""
    offers = [builders.offer(session, capacity=2) for _ in range(3)]
    builders.aid_request(session)
    builders.aid_request(session, flagged=True, flag_reason="asked for a person")
    matched = builders.aid_request(session, status=RequestStatus.MATCHED)
    builders.match(session, request=matched, offer=offers[0], status=MatchStatus.ACCEPTED)
    proposed = builders.aid_request(session)
    builders.match(session, request=proposed, offer=offers[1])
    builders.aid_request(session, status=RequestStatus.COMPLETED)
    session.commit()


def _cases(operation) -> st.SearchStrategy:
    """Valid requests, and invalid ones where there is something to get wrong."""
    valid = operation.as_strategy(GenerationMode.POSITIVE)
    if not (operation.path_parameters or operation.query or operation.body):
        return valid
    return st.one_of(valid, operation.as_strategy(GenerationMode.NEGATIVE))


def test_every_operation_keeps_to_the_document(app, session) -> None:
    _some_data(session)
    token = new_api_token(session, account(session, Role.COORDINATOR))
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15, [op.label for op in operations]
    failures = {}
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_cases(operation))
        def check(case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # try every operation, report all
            failures[operation.label] = str(exc)[:2000]
        session.rollback()  # the next operation reads what this one committed
    assert not failures, "\n\n".join(f"{k}: {v}" for k, v in failures.items())


def test_what_schemathesis_found_stays_fixed(client, session) -> None:
    req = builders.aid_request(session)
    token = new_api_token(session, account(session, Role.COORDINATOR))
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    # An id no database integer holds: not found (it was a 500 from the database).
    assert client.get(f"/api/requests/{2**63}", headers=auth).status_code == 404
    # A JSON body that is not an object: refused (it was a 500).
    for url in ("/api/matching/preview", f"/api/requests/{req.id}/assign"):
        assert client.post(url, json=[1], headers=auth).status_code == 422
    answer = client.post("/api/matching/send", json=True, headers=auth)
    assert (answer.status_code, answer.json) == (422, {"error": "the body must be a JSON object"})
    assert (
        client.post(
            "/api/matching/preview", json={"request_ids": [2**63]}, headers=auth
        ).status_code
        == 422
    )
    # A digit int() cannot read: the default window (it was a 500).
    assert client.get("/api/figures?days=²", headers=auth).json["days"] == 30
    # Addresses no route takes answer in JSON under /api/, as the document says …
    for url in ("/api/requests/abc", "/api/requests/-1", "/api/nowhere"):
        answer = client.get(url, headers=auth)
        assert (answer.status_code, answer.is_json) == (404, True), url
    assert client.delete("/api/requests", headers=auth).status_code == 405
    assert client.delete("/api/requests", headers=auth).is_json
    # … and with the usual page elsewhere.
    answer = client.get("/nowhere")
    assert answer.status_code == 404
    assert not answer.is_json
