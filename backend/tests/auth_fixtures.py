"""Accounts for the test run (registered by conftest: pytest_plugins).

- `api_key`: a session-wide API key of the default test user; conftest's `client` sends it,
  and tests that talk to `api_url` with another HTTP client send it themselves.
- `make_user(role=...)`: a fresh user with its own API key and an authenticated client.

Rate limits are raised out of reach for the run (tests that exercise the limiter lower
them on the settings object for one test).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

HIGH_LIMIT = "1000000/minute"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for name in ("RATE_LIMIT_UPLOAD", "RATE_LIMIT_SEARCH", "RATE_LIMIT_LOGIN"):
        os.environ.setdefault(name, HIGH_LIMIT)


@dataclass
class TestUser:
    __test__ = False  # not a test class

    id: uuid.UUID
    email: str
    password: str
    role: str
    api_key: str
    headers: dict[str, str] = field(default_factory=dict)


def create_test_user(role: str = "member", email: str | None = None) -> TestUser:
    """A user and an API key, straight through the services (no admin needed)."""
    from app.auth import service
    from app.core.db import session_scope

    address = email or f"u-{uuid.uuid4().hex[:10]}@cairn.test"
    password = f"pw-{uuid.uuid4().hex}"
    with session_scope() as session:
        user = service.create_user(session, address, password, role)
        _, plain = service.create_api_key(session, user.id, "tests")
        user_id = user.id
    return TestUser(user_id, address, password, role, plain,
                    {"Authorization": f"Bearer {plain}"})


@pytest.fixture(scope="session")
def default_user() -> TestUser:
    return create_test_user("member", f"default-{uuid.uuid4().hex[:8]}@cairn.test")


@pytest.fixture(scope="session")
def api_key(default_user: TestUser) -> str:
    """The default test user's API key: `Authorization: Bearer <api_key>`."""
    return default_user.api_key


@pytest.fixture
def make_user(app: Any, client: Any) -> Iterator[Callable[..., tuple[TestUser, Any]]]:
    """make_user(role="member") -> (TestUser, a TestClient that sends that user's API key)."""
    from fastapi.testclient import TestClient

    opened: list[Any] = []

    def make(role: str = "member", email: str | None = None) -> tuple[TestUser, Any]:
        user = create_test_user(role, email)
        user_client = TestClient(app, raise_server_exceptions=False, headers=user.headers)
        opened.append(user_client)
        return user, user_client

    yield make
    for c in opened:
        c.close()


@pytest.fixture
def anon(app: Any, client: Any) -> Iterator[Any]:
    """A client on the same app that sends no credentials."""
    from fastapi.testclient import TestClient

    anonymous = TestClient(app, raise_server_exceptions=False)
    yield anonymous
    anonymous.close()
