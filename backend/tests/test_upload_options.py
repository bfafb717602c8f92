"""Upload options for simple clients (issue 12): per-file metadata in one request and the
synchronous mode ?wait=<seconds>."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import assert_error, make_pdf

BROKEN_PDF = make_pdf(["a page"])[:400] + b"\x00garbage" * 50


def _post(client: Any, files: list[tuple[str, bytes]], collection: str, *,
          query: str = "", **form: str) -> Any:
    return client.post(f"/api/v1/documents{query}",
                       files=[("files", (n, c)) for n, c in files],
                       data={"collection": collection, **form})


def _text(tag: str) -> bytes:
    return f"{tag} {uuid.uuid4().hex} ".encode() * 20


def test_per_file_metadata_lands_on_the_right_file(client: Any, collection_name: str) -> None:
    resp = _post(client, [("a.txt", _text("a")), ("b.txt", _text("b")), ("c.txt", _text("c"))],
                 collection_name,
                 metadata=json.dumps({"project": "x", "author": "team"}),
                 file_metadata=json.dumps({"a.txt": {"author": "Ada"}, "b.txt": {"page": 2}}))
    assert resp.status_code == 202, resp.text
    by_name = {d["filename"]: d["id"] for d in resp.json()["documents"]}
    meta = {n: client.get(f"/api/v1/documents/{i}").json()["metadata"]
            for n, i in by_name.items()}
    assert meta["a.txt"] == {"project": "x", "author": "Ada"}
    assert meta["b.txt"] == {"project": "x", "author": "team", "page": 2}
    assert meta["c.txt"] == {"project": "x", "author": "team"}


def test_file_metadata_naming_a_file_not_sent_is_422_and_nothing_is_stored(
    client: Any, collection_name: str
) -> None:
    resp = _post(client, [("a.txt", _text("a"))], collection_name,
                 file_metadata=json.dumps({"a.txt": {}, "typo.txt": {"x": 1}}))
    body = assert_error(resp, 422)
    assert body["details"]["unknown"] == ["typo.txt"]
    listed = client.get("/api/v1/documents", params={"collection": collection_name}).json()
    assert listed["total"] == 0


def test_file_metadata_whose_value_is_not_an_object_is_422(client: Any,
                                                           collection_name: str) -> None:
    assert_error(_post(client, [("a.txt", _text("a"))], collection_name,
                       file_metadata=json.dumps({"a.txt": ["not", "an", "object"]})), 422)
    assert_error(_post(client, [("a.txt", _text("a"))], collection_name,
                       file_metadata="{not json"), 422)


def test_wait_answers_200_with_final_statuses(client: Any, collection_name: str) -> None:
    resp = _post(client, [("ok.txt", _text("ready")), ("bad.pdf", BROKEN_PDF + uuid.uuid4().bytes)],
                 collection_name, query="?wait=60")
    assert resp.status_code == 200, resp.text
    docs = {d["filename"]: d for d in resp.json()["documents"]}
    assert docs["ok.txt"]["status"] == "ready" and docs["ok.txt"]["error"] is None
    assert docs["bad.pdf"]["status"] == "failed"
    assert docs["bad.pdf"]["error"] == "The PDF is corrupt or unreadable."


def test_wait_that_runs_out_answers_202_as_without_it(client: Any,
                                                      collection_name: str) -> None:
    resp = _post(client, [("slow.txt", _text("slow"))], collection_name,
                 query="?wait=0.001")
    assert resp.status_code == 202, resp.text
    assert resp.json()["documents"][0]["status"] in ("queued", "processing")


def test_wait_beyond_the_maximum_or_negative_is_422(client: Any,
                                                    collection_name: str) -> None:
    from app.core.config import get_settings

    limit = get_settings().upload_max_wait_s
    body = assert_error(_post(client, [("a.txt", _text("a"))], collection_name,
                              query=f"?wait={limit + 1}"), 422)
    assert body["details"]["max"] == limit
    assert_error(_post(client, [("a.txt", _text("a"))], collection_name, query="?wait=-1"), 422)
    listed = client.get("/api/v1/documents", params={"collection": collection_name}).json()
    assert listed["total"] == 0  # refused before anything was stored
