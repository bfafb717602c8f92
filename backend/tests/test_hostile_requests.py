"""Hostile requests (not hostile files): oversize and endless bodies, 10,000-part forms,
huge or poisonous metadata, and search bodies that are too big, malformed or out of range.
Each gets a clear 4xx in the one JSON error shape, and nothing is recorded."""

from __future__ import annotations

import json
import select as io_select
import socket
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.core.config import get_settings
from tests.conftest import assert_error, count_documents
from tests.hostile_corpus import TEXT, multipart


def _auth_headers(client: Any) -> dict[str, str]:
    """The credentials the session's client carries (none while auth is off)."""
    return {k: v for k, v in client.headers.items() if k.lower() in ("authorization", "x-api-key")}


# --- request size ----------------------------------------------------------------------------


def test_declared_oversize_upload_is_413_before_the_body_is_read(
    client: Any, api_url: str, collection_name: str, db: Any
) -> None:
    """20 GB announced, 64 KB sent: the answer arrives without waiting for the rest."""
    url = urlsplit(api_url)
    body_head = multipart([("huge.txt", b"x" * 65536)], {"collection": collection_name})[0]
    declared = 20 * 1024**3
    head = (
        f"POST /api/v1/documents HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: multipart/form-data; boundary=cairnhostileXYZ\r\n"
        f"Content-Length: {declared}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in _auth_headers(client).items())
        + "\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + body_head)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            part = sock.recv(65536)
            if not part:
                break
            reply += part
    elapsed = time.monotonic() - started
    status_line, _, rest = reply.partition(b"\r\n")
    assert b" 413 " in status_line, reply[:300]
    body = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "payload_too_large"
    assert body["error"]["details"]["limit_bytes"] == get_settings().max_upload_request_bytes
    assert elapsed < 5
    assert count_documents(db, collection_name) == 0


def test_streamed_upload_without_length_is_cut_off_at_the_limit(
    client: Any, api_url: str, collection_name: str, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunked body (no Content-Length) is counted as it arrives and answered 413 at the limit,
    while the client is still sending."""
    monkeypatch.setattr(get_settings(), "max_upload_request_bytes", 2 * 4096 + 1024 * 1024)
    limit = get_settings().max_upload_request_bytes
    url = urlsplit(api_url)
    head = (
        f"POST /api/v1/documents HTTP/1.1\r\nHost: {url.netloc}\r\n"
        "Content-Type: multipart/form-data; boundary=cairnhostileXYZ\r\n"
        "Transfer-Encoding: chunked\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in _auth_headers(client).items())
        + "\r\n"
    ).encode()
    first = (
        b'--cairnhostileXYZ\r\nContent-Disposition: form-data; name="collection"\r\n\r\n'
        + collection_name.encode()
        + b'\r\n--cairnhostileXYZ\r\nContent-Disposition: form-data; name="files"; '
        b'filename="s.txt"\r\n\r\n'
    )
    block = b"y" * 65536
    sent = 0
    reply = b""
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + b"%x\r\n" % len(first) + first + b"\r\n")
        while sent < 50 * limit:
            try:
                sock.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
            except OSError:  # the server closed the connection after answering
                break
            sent += len(block)
            readable, _, _ = io_select.select([sock], [], [], 0)
            if readable:
                break
        sock.settimeout(10)
        while not reply.rstrip().endswith(b"}"):
            part = sock.recv(65536)
            if not part:
                break
            reply += part
    assert b" 413 " in reply.partition(b"\r\n")[0], reply[:300]
    assert (
        json.loads(reply.split(b"\r\n\r\n", 1)[1].split(b"\r\n")[-1] or b"{}")
        .get("error", {})
        .get("code", "payload_too_large")
        == "payload_too_large"
    )
    assert sent < 10 * limit  # answered while the client was still sending
    assert count_documents(db, collection_name) == 0


def test_request_just_under_the_limit_is_not_refused_for_size(
    client: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 2048)
    monkeypatch.setattr(get_settings(), "max_files_per_upload", 2)
    files = [("a.txt", TEXT * 20 + b"a"), ("b.txt", TEXT * 20 + b"b")]
    body, content_type = multipart(files, {"collection": collection_name})
    assert len(body) < get_settings().max_upload_request_bytes
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert resp.status_code == 202, resp.text


# --- multipart shape -------------------------------------------------------------------------


def test_ten_thousand_files_in_one_request_is_a_clear_4xx(
    client: Any, collection_name: str, db: Any
) -> None:
    files = [(f"f{i}.txt", b"tiny %d" % i) for i in range(10_000)]
    body, content_type = multipart(files, {"collection": collection_name})
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert resp.status_code in (400, 413, 422), resp.text
    assert_error(resp, resp.status_code)
    assert count_documents(db, collection_name) == 0


def test_ten_thousand_form_fields_is_a_clear_4xx(
    client: Any, collection_name: str, db: Any
) -> None:
    fields = {f"field{i}": "v" for i in range(10_000)} | {"collection": collection_name}
    body, content_type = multipart([("one.txt", TEXT)], fields)
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert resp.status_code in (400, 413, 422), resp.text
    assert_error(resp, resp.status_code)
    assert count_documents(db, collection_name) == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"files": ["a.txt"]}'),
        ("text/plain", b"just some text"),
        ("multipart/form-data", b"--x\r\nno boundary given\r\n"),
        ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data\r\n\r\n"),
        ("application/x-www-form-urlencoded", b"files=a.txt&collection=x"),
    ],
    ids=["json", "text", "no-boundary", "truncated-part", "urlencoded"],
)
def test_upload_with_the_wrong_body_type_is_a_clear_4xx(
    client: Any, content_type: str, body: bytes
) -> None:
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert 400 <= resp.status_code < 500, resp.text
    assert_error(resp, resp.status_code)


# --- metadata and names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "statuses"),
    [
        (json.dumps({"k": "v" * 40_000}), (422,)),
        (json.dumps({"k": "v" * 2_000_000}), (400, 413, 422)),
        ("[" * 20_000 + "]" * 20_000, (422,)),
        ('{"a": ' * 5_000 + "1" + "}" * 5_000, (422,)),
        (json.dumps({"nul": "a\u0000b"}), (422,)),
        ('{"x": NaN}', (422,)),
        ('{"x": Infinity}', (422,)),
    ],
    ids=["40kb", "2mb", "deep-array", "deep-object", "nul-char", "nan", "infinity"],
)
def test_hostile_metadata_is_refused_and_nothing_is_recorded(
    client: Any, collection_name: str, db: Any, metadata: str, statuses: tuple[int, ...]
) -> None:
    body, content_type = multipart(
        [("m.txt", TEXT + uuid.uuid4().hex.encode())],
        {"collection": collection_name, "metadata": metadata},
    )
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert resp.status_code in statuses, resp.text
    assert_error(resp, resp.status_code)
    assert count_documents(db, collection_name) == 0


@pytest.mark.parametrize("collection", ["bad\u0000name", "x" * 201], ids=["nul-char", "201-chars"])
def test_hostile_collection_name_is_422(client: Any, collection: str) -> None:
    body, content_type = multipart(
        [("c.txt", TEXT + uuid.uuid4().hex.encode())], {"collection": collection}
    )
    resp = client.post("/api/v1/documents", content=body, headers={"content-type": content_type})
    assert_error(resp, 422)


@pytest.mark.parametrize(
    "params",
    [{"collection": "a\u0000b"}, {"limit": "99999999999999999999"}, {"status": "\u0000"}],
    ids=["nul-collection", "huge-limit", "nul-status"],
)
def test_hostile_list_parameters_are_4xx_or_empty(client: Any, params: dict[str, str]) -> None:
    resp = client.get("/api/v1/documents", params=params)
    if resp.status_code == 200:
        assert resp.json()["total"] == 0
    else:
        assert_error(resp, 422)


# --- search ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"query": "q" * 100_000},
        {"query": "x", "k": -1},
        {"query": "x", "k": 0},
        {"query": "x", "k": 10**12},
        {"query": "x", "k": "ten"},
        {"query": "x", "unknown_field": 1},
        {"query": None},
        {"query": ["a", "list"]},
        {"query": "x", "document_ids": ["not-a-uuid"]},
        {"query": "x", "document_ids": [str(uuid.uuid4())] * 5000},
        {"query": "x", "collection": "c" * 10_000},
        {},
    ],
    ids=[
        "100kb-query",
        "negative-k",
        "zero-k",
        "huge-k",
        "string-k",
        "unknown-field",
        "null-query",
        "list-query",
        "bad-uuid",
        "5000-ids",
        "10k-collection",
        "empty-object",
    ],
)
def test_invalid_search_body_is_422(client: Any, body: dict[str, Any]) -> None:
    assert_error(client.post("/api/v1/search", json=body), 422, "validation_error")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"query": "unterminated', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"42", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"query": "x"}', "text/plain"),
        (b"query=x", "application/x-www-form-urlencoded"),
    ],
    ids=["malformed", "array", "number", "binary", "deep-nesting", "text-plain", "urlencoded"],
)
def test_malformed_or_mistyped_search_body_is_a_clear_4xx(
    client: Any, content: bytes, content_type: str
) -> None:
    resp = client.post("/api/v1/search", content=content, headers={"content-type": content_type})
    assert resp.status_code in (400, 415, 422), resp.text
    assert_error(resp, resp.status_code)


@pytest.mark.parametrize(
    "query",
    ["nul \u0000 inside", "\u0000", "&|!():*<->'\"\\", "\ud7ff\ue000 \U0010ffff", "ä" * 4000],
    ids=["nul-inside", "only-nul", "tsquery-syntax", "odd-codepoints", "4000-umlauts"],
)
def test_odd_but_valid_queries_never_500(client: Any, query: str) -> None:
    resp = client.post("/api/v1/search", json={"query": query, "k": 5})
    assert resp.status_code in (200, 422), resp.text
    if resp.status_code == 422:
        assert_error(resp, 422)
    else:
        assert isinstance(resp.json()["results"], list)


def test_unsupported_method_is_405_json(client: Any) -> None:
    assert_error(client.put("/api/v1/search", json={"query": "x"}), 405)
