"""The API against its own OpenAPI document: generated requests, anonymously, with a token of each
kind of user and with a forged token, never get a server error, and every response conforms to the
document (status code listed, content type listed, body valid against its schema); every error is a
problem document. Bounded for CI: `SVIDOK_SCHEMATHESIS_EXAMPLES` per operation (default 12), a
deadline per example, and the whole run must end within `SVIDOK_SCHEMATHESIS_SECONDS` (120)."""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import People

EXAMPLES = int(os.environ.get("SVIDOK_SCHEMATHESIS_EXAMPLES", "12"))
BUDGET = float(os.environ.get("SVIDOK_SCHEMATHESIS_SECONDS", "120"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_the_api_answers_generated_requests_without_server_errors_and_as_documented(
    client: TestClient, people: People
) -> None:
    people.add("ina", "investigator", ("case-a", "intake"), identity=("case-a",))
    people.add("op", "intake_operator", ("case-a", "intake"))
    callers: dict[str, dict[str, str] | None] = {
        "anonymous": None,
        "investigator": people.token(
            "ina", "record.*", "link.*", "person.*", "register.stats", "suspect.view"
        ),
        "operator": people.token("op", "record.*"),
        "forged": {"authorization": "Bearer svk_0000000000000000_" + "A" * 43},
    }
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
    failures: list[str] = []
    seen: Counter[int] = Counter()
    operations = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err would mean our own schema is invalid
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=5000,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            for who, headers in callers.items():
                response = case.call(headers=headers)
                seen[response.status_code] += 1
                where = f"{case.method} {case.formatted_path} as {who} -> {response.status_code}"
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except BaseExceptionGroup as failed:  # schemathesis' FailureGroup: one entry per check
                    inner = failed.exceptions
                    failures.extend(
                        f"{where}: {type(e).__name__}: {str(e).splitlines()[0][:160]}" for e in inner
                    )
                content_type = response.headers.get("content-type", [""])
                kind = content_type[0] if isinstance(content_type, list) else content_type
                if response.status_code >= 400 and "problem+json" not in kind:
                    failures.append(f"{where}: an error as {kind}")

        run()
    elapsed = time.monotonic() - started
    assert operations >= 20
    assert sorted(set(failures))[:40] == []
    assert {200, 201, 401, 403, 404, 422} <= set(seen), seen
    assert seen[500] == 0
    assert elapsed < BUDGET, f"{operations} operations took {elapsed:.0f} s, budget {BUDGET:.0f} s"
