"""Schemathesis against the generated OpenAPI document: no server errors, every response conforms.

Runs in-process (WSGI), derandomized with a few examples per operation, so it is deterministic and quick
enough for CI. Each operation's strategy is driven by Hypothesis directly (schemathesis' lazy pytest
fixture loader does not work with this pytest). The token belongs to the administrator of the test cast
(sees every case, holds no case role) on a database with a few cases, so reads find data and writes are
refused cleanly. A second run sends the generated bodies as form fields, multipart parts and plain text instead
of JSON: each must be the 415 problem the document lists.
"""

from __future__ import annotations

import json

import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from webhelpers import open_case

from workflow.access import api_tokens

EXAMPLES = 25


def test_api_conforms_to_its_schema(app, cast):
    for _ in range(2):
        open_case(cast)
    token = api_tokens.create_token(cast.db, cast.admin.user_id, "schemathesis", ["administrator"]).secret
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    ran: dict[str, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10

    def run(operation, mode: GenerationMode) -> None:
        label = f"{mode.value} {operation.method.upper()} {operation.path}"
        ran[label] = 0

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            # A parameter with an empty name cannot travel in a URL (the client drops it), so a negative case
            # whose invalid part is such a name reaches the server as a valid request: not a finding.
            assume(mode is GenerationMode.POSITIVE or "" not in (case.query or {}))
            ran[label] += 1
            if mode is GenerationMode.NEGATIVE and "Authorization" not in (case.headers or {}):
                # The negative case leaves out the credentials: send it so, and expect the 401 it gets.
                case.call_and_validate()
            else:
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"})

        try:
            check()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters and no body): negative mode has no cases to run.
            assert mode is GenerationMode.NEGATIVE and ran[label] == 0, label

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run(operation, mode)
    assert all(n for label, n in ran.items() if label.startswith("positive")), ran
    print(f"schemathesis: {sum(ran.values())} cases over {len(ran)} operations")


WRONG_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "application/xml")
"""Media types the API does not take, each sent with a body schemathesis generated from the schema."""


def test_api_refuses_bodies_that_are_not_json(app, cast):
    open_case(cast)
    token = api_tokens.create_token(cast.db, cast.admin.user_id, "schemathesis", ["administrator"]).secret
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [op for op in (result.ok() for result in schema.get_all_operations()) if len(op.body)]
    assert operations  # every operation with a body, whichever are added later
    sent: dict[str, int] = {}

    def run(operation) -> None:
        @given(case=operation.as_strategy(GenerationMode.POSITIVE), media_type=st.sampled_from(WRONG_MEDIA_TYPES))
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case, media_type):
            # Form encodings take the generated object field by field; text types carry it as written.
            form = media_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            wrong = operation.Case(path_parameters=case.path_parameters, query=case.query,
                                   body=case.body if form else json.dumps(case.body), media_type=media_type)
            response = wrong.call_and_validate(headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 415, (media_type, response.text)
            sent[media_type] = sent.get(media_type, 0) + 1

        check()

    for operation in operations:
        run(operation)
    assert set(sent) == set(WRONG_MEDIA_TYPES), sent
