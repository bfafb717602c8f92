"""Property-based fuzzing of every operation in the app's own OpenAPI schema (schemathesis 4).

Three callers, each bounded in examples:
- the test user (a member): every operation, up to MAX_EXAMPLES generated requests;
- an admin: the user-management, API-key and collection operations, up to ADMIN_EXAMPLES;
- an anonymous caller: every operation, up to ANON_EXAMPLES; besides never answering 5xx,
  no operation outside the public ones (login, refresh, health, the schema) may succeed.
Requests (valid and invalid by the schema) go to the real app in-process; none may answer
5xx. The number of examples run is printed at the end.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 25
ADMIN_EXAMPLES = 10
ANON_EXAMPLES = 5
EXAMPLES: Counter[str] = Counter()
PUBLIC_PREFIXES = ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/health", "/openapi")


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


# GET /api/v1/events is an endless stream (tests/test_events_api.py covers it): a fuzzed call
# that authenticates would never finish reading its body.
schema = _load_schema().exclude(path="/api/v1/events")


@pytest.fixture(autouse=True)
def _uploads_do_not_wait() -> Any:
    """A fuzzed POST /api/v1/documents?wait= would hold for up to UPLOAD_MAX_WAIT_S: here any
    wait above 0 is refused (tests/test_upload_options.py covers waiting)."""
    from app.core.config import get_settings

    settings_ = get_settings()
    before = settings_.upload_max_wait_s
    settings_.upload_max_wait_s = 0
    yield
    settings_.upload_max_wait_s = before


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


@pytest.fixture(scope="session")
def admin_headers(request: pytest.FixtureRequest) -> dict[str, str]:
    from tests.auth_fixtures import create_test_user

    request.getfixturevalue("api_key")  # the accounts fixtures are loaded
    return dict(create_test_user("admin").headers)


admin_schema = schema.include(tag_regex="^(users|api-keys|collections)$")


@admin_schema.parametrize()
@settings(
    max_examples=ADMIN_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_admin_operation_answers_a_server_error(
    case: Any, admin_headers: dict[str, str], client: Any
) -> None:
    EXAMPLES[f"admin {case.method} {case.path}"] += 1
    response = case.call(headers=admin_headers)
    case.validate_response(response, checks=[not_a_server_error])


@schema.parametrize()
@settings(
    max_examples=ANON_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_an_anonymous_caller_gets_no_server_error_and_nothing_protected(
    case: Any, client: Any
) -> None:
    EXAMPLES[f"anonymous {case.method} {case.path}"] += 1
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    if not case.path.startswith(PUBLIC_PREFIXES):
        assert response.status_code >= 400, (case.method, case.path, response.status_code)


def test_every_operation_was_exercised() -> None:
    total = sum(EXAMPLES.values())
    print(f"\nschemathesis: {total} examples over {len(EXAMPLES)} operations")
    for operation, count in sorted(EXAMPLES.items()):
        print(f"  {count:4d}  {operation}")
    assert len(EXAMPLES) >= 8, EXAMPLES
    assert total >= len(EXAMPLES) * 2
    assert any(op.startswith("admin POST /api/v1/users") for op in EXAMPLES), EXAMPLES
    assert any(op.startswith("anonymous ") for op in EXAMPLES), EXAMPLES
