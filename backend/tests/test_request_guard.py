"""The request guard (issue 7, item 2): unauthenticated requests to protected routes are
refused before their body is read, and bodies are capped (JSON at MAX_JSON_BODY_BYTES, a
whole multipart request at MAX_UPLOAD_REQUEST_BYTES), by declared length and while streaming.

Most tests talk raw HTTP/1.1 to a real uvicorn server on 127.0.0.1, so "before the body is
read" is observable: the answer arrives while the client has sent only a few KB of 50 MB."""

from __future__ import annotations

import json
import select as io_select
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.auth import principal_cache
from app.core.config import get_settings
from tests.auth_fixtures import TestUser
from tests.conftest import assert_error
from tests.hostile_corpus import multipart

FIFTY_MB = 50 * 1024 * 1024
HEAD_OF_BODY = 4096


def _request_head(api_url: str, path: str, headers: dict[str, str]) -> bytes:
    url = urlsplit(api_url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_reply(sock: socket.socket, timeout: float = 10) -> tuple[int, dict[str, str], Any]:
    sock.settimeout(timeout)
    reply = b""
    while b"\r\n\r\n" not in reply:
        part = sock.recv(65536)
        if not part:
            break
        reply += part
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        part = sock.recv(65536)
        if not part:
            break
        body += part
    return status, headers, json.loads(body) if body else None


def _send_head_then_wait(
    api_url: str, path: str, headers: dict[str, str], first_bytes: bytes
) -> tuple[int, dict[str, str], Any, float]:
    """Send the head and `first_bytes` of a longer declared body, then wait for the answer."""
    url = urlsplit(api_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(_request_head(api_url, path, headers) + first_bytes)
        status, reply_headers, body = _read_reply(sock)
        return status, reply_headers, body, time.monotonic() - started


def _upload_headers(boundary: str = "cairnhostileXYZ") -> dict[str, str]:
    return {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(FIFTY_MB),
    }


def _first_part(collection: str) -> bytes:
    body = multipart([("big.txt", b"x" * HEAD_OF_BODY)], {"collection": collection})[0]
    return body[:HEAD_OF_BODY]


# --- unauthenticated: refused before the body -------------------------------------------------


def test_anonymous_50mb_upload_is_401_while_the_client_has_sent_only_4kb(
    api_url: str, collection_name: str
) -> None:
    status, headers, body, elapsed = _send_head_then_wait(
        api_url, "/api/v1/documents", _upload_headers(), _first_part(collection_name)
    )
    assert status == 401, body
    assert body["error"]["code"] == "unauthorized"
    assert headers["www-authenticate"].startswith("Bearer")
    assert headers["connection"] == "close"
    assert elapsed < 5  # answered without waiting for the other 49.99 MB


@pytest.mark.parametrize(
    "credential",
    [
        {"Authorization": "Bearer ck_notarealkey0000000000000000000000"},
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad-signature"},
        {"X-API-Key": "ck_wrongwrongwrongwrong"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["unknown-key", "forged-jwt", "wrong-x-api-key", "basic-scheme"],
)
def test_wrong_credential_on_a_50mb_upload_is_401_before_the_body(
    api_url: str, collection_name: str, credential: dict[str, str]
) -> None:
    status, headers, body, elapsed = _send_head_then_wait(
        api_url, "/api/v1/documents", {**_upload_headers(), **credential},
        _first_part(collection_name),
    )
    assert status == 401, body
    assert_error_body(body, "unauthorized")
    assert "www-authenticate" in headers
    assert elapsed < 5


def assert_error_body(body: Any, code: str) -> None:
    assert set(body) == {"error"} and body["error"]["code"] == code, body
    assert body["error"]["message"]


def test_the_guard_reads_no_body_byte_of_an_anonymous_request(app: Any) -> None:
    """In-process proof: the receive channel of a refused request is never called."""
    import anyio

    from app.core.request_guard import RequestGuard

    calls = {"receive": 0, "app": 0}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        calls["receive"] += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        calls["app"] += 1

    scope = {
        "type": "http", "method": "POST", "path": "/api/v1/documents", "query_string": b"",
        "headers": [(b"content-type", b"multipart/form-data; boundary=x"),
                    (b"content-length", str(FIFTY_MB).encode()),
                    (b"authorization", b"Bearer ck_notarealkey0000000000")],
    }
    anyio.run(RequestGuard(inner), scope, receive, send)
    assert calls == {"receive": 0, "app": 0}
    assert sent[0]["status"] == 401


# --- body caps ------------------------------------------------------------------------------


def test_2mib_json_login_is_413_by_declared_length(api_url: str) -> None:
    payload = json.dumps({"email": "a@b.test", "password": "p" * (2 * 1024 * 1024)})
    resp = httpx.post(f"{api_url}/api/v1/auth/login", content=payload,
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(resp, 413, "payload_too_large")
    assert resp.json()["error"]["details"]["limit_bytes"] == get_settings().max_json_body_bytes


def test_2mib_refresh_and_search_bodies_are_413(api_url: str, default_user: TestUser) -> None:
    big = json.dumps({"refresh_token": "r" * (2 * 1024 * 1024)})
    resp = httpx.post(f"{api_url}/api/v1/auth/refresh", content=big,
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(resp, 413, "payload_too_large")
    resp = httpx.post(f"{api_url}/api/v1/search", content=json.dumps({"query": "q" * 2**21}),
                      headers={"Content-Type": "application/json", **default_user.headers},
                      timeout=30)
    assert_error(resp, 413, "payload_too_large")


def _chunked_post(
    api_url: str, path: str, headers: dict[str, str], total: int, block: int = 65536
) -> tuple[int, Any, int]:
    """POST `total` bytes of a JSON string as a chunked body; stop sending when the server
    answers. Returns (status, body, bytes sent)."""
    url = urlsplit(api_url)
    head = _request_head(api_url, path, {**headers, "Content-Type": "application/json",
                                          "Transfer-Encoding": "chunked"})
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + b'1\r\n"\r\n')
        while sent < total:
            try:
                sock.sendall(b"%x\r\n" % block + b"a" * block + b"\r\n")
            except OSError:  # the server answered and closed
                break
            sent += block
            # a short pause per block: the server's answer is seen as soon as it comes
            readable, _, _ = io_select.select([sock], [], [], 0.002)
            if readable:
                break
        else:
            sock.sendall(b'1\r\n"\r\n0\r\n\r\n')
        status, _, body = _read_reply(sock)
    return status, body, sent


def test_chunked_json_over_the_cap_is_413_while_streaming(api_url: str) -> None:
    limit = get_settings().max_json_body_bytes
    total = 64 * limit
    status, body, sent = _chunked_post(api_url, "/api/v1/auth/login", {}, total)
    assert status == 413, body
    assert_error_body(body, "payload_too_large")
    # cut off while the client was still sending (socket buffers hold a few MB; the server
    # never read anywhere near the whole body)
    assert sent < total


def test_chunked_json_over_the_cap_on_a_protected_route_is_413(
    api_url: str, default_user: TestUser
) -> None:
    limit = get_settings().max_json_body_bytes
    status, body, _ = _chunked_post(api_url, "/api/v1/search", default_user.headers, 3 * limit)
    assert status == 413, body


def test_small_chunked_json_under_the_cap_still_reaches_the_route(api_url: str) -> None:
    status, body, _ = _chunked_post(api_url, "/api/v1/auth/login", {}, 2 * 65536)
    assert status == 422, body  # a JSON string is not a login body: the route answered


def test_declared_multipart_over_the_total_cap_is_413(
    client: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_request_bytes", 64 * 1024)
    body, content_type = multipart([("a.txt", b"a" * 70_000)], {"collection": collection_name})
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert_error(resp, 413, "payload_too_large")
    assert resp.json()["error"]["details"]["limit_bytes"] == 64 * 1024
    listed = client.get("/api/v1/documents", params={"collection": collection_name})
    assert listed.status_code in (200, 404) and listed.json().get("total", 0) == 0


# --- what still works -----------------------------------------------------------------------


def test_valid_small_requests_pass_the_guard(
    api_url: str, default_user: TestUser, collection_name: str
) -> None:
    login = httpx.post(f"{api_url}/api/v1/auth/login", timeout=30,
                       json={"email": default_user.email, "password": default_user.password})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-API-Key": default_user.api_key},
                    default_user.headers):
        resp = httpx.post(f"{api_url}/api/v1/search", json={"query": "anything", "k": 3},
                          headers=headers, timeout=60)
        assert resp.status_code == 200, resp.text
    body, content_type = multipart([("ok.txt", b"A small text file. " * 20)],
                                   {"collection": collection_name})
    resp = httpx.post(f"{api_url}/api/v1/documents", content=body, timeout=60,
                      headers={"content-type": content_type, **default_user.headers})
    assert resp.status_code == 202, resp.text


def test_the_principal_is_authenticated_once_per_request(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import app.auth.principal as principal_module
    import app.core.request_guard as guard_module

    real = principal_module.authenticate_credential
    calls: list[str] = []

    def counting(session: Any, credential: str) -> Any:
        calls.append(credential)
        return real(session, credential)

    monkeypatch.setattr(principal_module, "authenticate_credential", counting)
    monkeypatch.setattr(guard_module, "authenticate_credential", counting)
    principal_cache.forget_all()  # else an earlier request's cached principal answers
    assert client.get("/api/v1/documents").status_code == 200
    assert len(calls) == 1


def test_public_routes_and_auth_disabled_are_not_guarded(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = {"Authorization": ""}
    resp = client.post("/api/v1/auth/login", json={"email": "nobody@x.test", "password": "x"},
                       headers=anonymous)
    assert resp.status_code in (401, 422), resp.text  # the route answered, not the guard
    monkeypatch.setattr(get_settings(), "auth_enabled", False)
    assert client.get("/api/v1/documents", headers=anonymous).status_code == 200


def test_a_cors_preflight_is_answered_before_the_guard(client: Any) -> None:
    resp = client.options("/api/v1/documents", headers={
        "Authorization": "", "Origin": "http://localhost:5173",
        "Access-Control-Request-Method": "POST",
    })
    assert resp.status_code == 200, resp.text
    assert resp.headers["access-control-allow-origin"] == "http://localhost:5173"
