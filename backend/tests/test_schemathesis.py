"""Property-based fuzzing of every operation in the app's own OpenAPI schema (schemathesis 4).

Each operation gets up to MAX_EXAMPLES generated requests (valid and invalid by the schema)
sent to the real app in-process, authenticated as the test user; none may answer 5xx. The
number of examples run is printed at the end.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 25
EXAMPLES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def auth_headers(request: pytest.FixtureRequest) -> dict[str, str]:
    """The session's API key when the auth fixtures provide one; none otherwise."""
    try:
        key = request.getfixturevalue("api_key")
    except pytest.FixtureLookupError:
        return {}
    return {"Authorization": f"Bearer {key}"}


def _load_schema() -> Any:
    """The schema as a fresh instance of the app serves it, called in-process. (Loaded at
    collection: schemathesis' lazy `from_fixture` does not run on pytest 9.)"""
    from app.main import create_app

    return schemathesis.openapi.from_asgi("/openapi.json", create_app())


schema = _load_schema()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(
    case: Any, auth_headers: dict[str, str], client: Any
) -> None:
    """`client` keeps the session's worker running while uploads are fuzzed."""
    EXAMPLES[f"{case.method} {case.path}"] += 1
    response = case.call(headers=auth_headers)
    case.validate_response(response, checks=[not_a_server_error])


def test_every_operation_was_exercised() -> None:
    total = sum(EXAMPLES.values())
    print(f"\nschemathesis: {total} examples over {len(EXAMPLES)} operations")
    for operation, count in sorted(EXAMPLES.items()):
        print(f"  {count:4d}  {operation}")
    assert len(EXAMPLES) >= 8, EXAMPLES
    assert total >= len(EXAMPLES) * 2
