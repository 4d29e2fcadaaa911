"""The API against its own OpenAPI document: generated requests, anonymous and with a token of each
kind of user, never get a server error (a bounded run: a few examples per operation)."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.web.conftest import People

EXAMPLES = int(os.environ.get("SVIDOK_SCHEMATHESIS_EXAMPLES", "12"))


def test_the_api_answers_generated_requests_without_server_errors(client: TestClient, people: People) -> None:
    people.add("ina", "investigator", ("case-a", "intake"), identity=("case-a",))
    people.add("op", "intake_operator", ("case-a", "intake"))
    callers: list[dict[str, str] | None] = [
        None,
        people.token("ina", "record.*", "link.*", "person.*", "register.stats", "suspect.view"),
        people.token("op", "record.*"),
        {"authorization": "Bearer svk_0000000000000000_" + "A" * 43},
    ]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    failures: list[str] = []
    operations = 0
    seen: dict[int, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            for headers in callers:
                response = case.call(headers=headers)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
                content_type = response.headers.get("content-type", [""])
                kind = content_type[0] if isinstance(content_type, list) else content_type
                if response.status_code >= 400 and "problem+json" not in kind:
                    failures.append(f"{case.method} {case.formatted_path}: {response.status_code} as {kind}")

        run()
    assert operations >= 20
    assert failures == []
    assert {200, 401, 403, 404, 422} <= set(seen), seen
