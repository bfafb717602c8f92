"""Internal details stay in the log, without user data (issue 7, item 6, logging part).

The engine hides SQL bound parameters, the unhandled-error log carries the exception type and
a message-free traceback, and every response carries a request id (X-Request-ID), which a
500's body repeats so a user can report it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

SECRET = "SECRET-VALUE-4711-of-a-user"


@pytest.fixture(scope="module")
def boom_client() -> Iterator[Any]:
    """The real app plus two routes that fail in the database with a bound user value."""
    from fastapi.testclient import TestClient

    from app.core.db import session_scope
    from app.main import create_app

    app = create_app()

    def data_error() -> None:
        with session_scope() as session:  # invalid input syntax for type integer: "<value>"
            session.execute(text("SELECT CAST(:v AS integer)"), {"v": SECRET})

    def server_error() -> None:
        with session_scope() as session:  # a duplicate key: the error DETAIL quotes the row
            session.execute(text("CREATE TEMP TABLE boom (v text PRIMARY KEY)"))
            session.execute(text("INSERT INTO boom VALUES (:v), (:v)"), {"v": SECRET})

    def context() -> dict[str, Any]:  # a sync route, run in the threadpool like most routes
        import structlog

        return dict(structlog.contextvars.get_contextvars())

    app.add_api_route("/boom/context", context, methods=["GET"])
    app.add_api_route("/boom/data", data_error, methods=["POST"])
    app.add_api_route("/boom/500", server_error, methods=["POST"])
    # Ahead of the web app's catch-all GET (the SPA fallback is the app's last route).
    app.router.routes[:0] = [app.router.routes.pop() for _ in range(3)][::-1]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_engine_hides_bound_parameters() -> None:
    from app.core.db import get_engine

    assert get_engine().hide_parameters is True


def test_unhandled_database_error_logs_no_bound_value_and_returns_the_request_id(
    boom_client: Any,
) -> None:
    with capture_logs() as logs:
        resp = boom_client.post("/boom/500", headers={"X-Request-ID": "report-me-123"})
    assert resp.status_code == 500
    body = resp.json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["request_id"] == "report-me-123"
    assert resp.headers["X-Request-ID"] == "report-me-123"
    assert SECRET not in resp.text
    errors = [e for e in logs if e["event"] == "unhandled_error"]
    assert len(errors) == 1, logs
    event = errors[0]
    assert event["request_id"] == "report-me-123"
    assert event["error_type"] == "sqlalchemy.exc.IntegrityError"
    assert "server_error" in event["traceback"]  # the frames are there
    assert SECRET not in repr(logs)  # neither the bound value nor the DETAIL that quotes it


def test_data_error_is_422_and_its_log_does_not_quote_the_value(boom_client: Any) -> None:
    with capture_logs() as logs:
        resp = boom_client.post("/boom/data")
    assert resp.status_code == 422
    assert SECRET not in resp.text and SECRET not in repr(logs)


def test_a_request_id_is_made_when_absent_or_unsafe(boom_client: Any) -> None:
    made = boom_client.get("/api/health").headers.get("X-Request-ID")
    assert made and len(made) == 32
    for unsafe in ("x" * 65, "has spaces", "semi;colon", "<script>"):
        resp = boom_client.post("/boom/500", headers={"X-Request-ID": unsafe})
        rid = resp.headers["X-Request-ID"]
        assert rid != unsafe and resp.json()["error"]["request_id"] == rid
    kept = boom_client.get("/api/health", headers={"X-Request-ID": "abc.DEF_1-2:3"})
    assert kept.headers["X-Request-ID"] == "abc.DEF_1-2:3"


def test_api_errors_carry_the_request_id_header(boom_client: Any) -> None:
    resp = boom_client.get("/api/v1/documents")  # no credential: the guard's 401
    assert resp.status_code == 401
    assert resp.headers.get("X-Request-ID")


def test_log_lines_of_a_request_carry_its_request_id(boom_client: Any) -> None:
    resp = boom_client.get("/boom/context", headers={"X-Request-ID": "ctx-42"})
    assert resp.json().get("request_id") == "ctx-42"
    assert boom_client.get("/boom/context").json()["request_id"] != "ctx-42"  # not leaked on
