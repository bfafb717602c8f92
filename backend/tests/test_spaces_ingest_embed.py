"""The ingest embeds a document into its collection's other embedding spaces in the embed
stage, before the write's transaction opens (which holds the document's row lock and the
collection's shared rows until it commits), and only inserts those vectors in the write.
The second model is the bundled SmolLM2 GGUF (576-d), as in test_embedding_spaces."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import upload, upload_ready, wait_for_documents

SMOL = {"provider": "llamacpp", "model": "SmolLM2-135M-Instruct"}


def _ready_collection(client: Any) -> tuple[str, str]:
    name = f"se-{uuid.uuid4().hex[:8]}"
    upload_ready(client, [("first.txt", b"Basalt columns form as lava cools slowly.")], name)
    cid = next(c["id"] for c in client.get("/api/v1/collections").json() if c["name"] == name)
    return name, cid


def _space(client: Any, cid: str, *, active: bool) -> int:
    """A SmolLM2 space built by the run's worker (and made active if asked)."""
    resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces", json=SMOL)
    assert resp.status_code == 202, resp.text
    sid = int(resp.json()["id"])
    deadline = time.monotonic() + 240
    while (state := _state(client, cid, sid))["status"] != "ready":
        assert state["status"] == "building" and time.monotonic() < deadline, state
        time.sleep(0.3)
    if active:
        resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces/{sid}/activate")
        assert resp.status_code == 200, resp.text
    return sid


def _state(client: Any, cid: str, sid: int) -> dict[str, Any]:
    spaces = client.get(f"/api/v1/collections/{cid}/embedding-spaces").json()
    return dict(next(s for s in spaces if s["id"] == str(sid)))


def _vectors_of(doc_id: str, sid: int) -> int:
    from app.core.db import session_scope

    with session_scope() as session:
        return int(session.execute(text(
            "SELECT count(*) FROM space_vectors v JOIN chunks c ON c.id = v.chunk_id "
            "WHERE v.space_id = :s AND c.document_id = :d"), {"s": sid, "d": doc_id},
        ).scalar_one())  # fmt: skip


class _Watched:
    """The real space embedder; on each call it records whether the collection's documents
    and its row can be locked at that moment (NOWAIT: a held lock answers at once) with the
    documents' stages. With `fail`, it refuses like an unreachable model server."""

    def __init__(self, collection_id: str, fail: bool) -> None:
        self.real: Any = None
        self.collection_id, self.fail = collection_id, fail
        self.seen: list[tuple[bool, list[str]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        from app.core.db import get_engine
        from app.providers.embeddings import EmbeddingError

        with get_engine().connect() as conn:
            try:
                stages = list(conn.execute(text(
                    "SELECT stage FROM documents WHERE collection_id = :c FOR UPDATE NOWAIT"),
                    {"c": self.collection_id}).scalars())  # fmt: skip
                conn.execute(text("SELECT 1 FROM collections WHERE id = :c FOR UPDATE NOWAIT"),
                             {"c": self.collection_id})  # fmt: skip
                self.seen.append((True, stages))
            except Exception:  # lock not available: a write transaction holds it
                self.seen.append((False, []))
            conn.rollback()
        if self.fail:
            raise EmbeddingError("model server unreachable", transient=True)
        return list(self.real.embed_documents(texts))

    embed_bulk = embed_documents  # what the worker's batcher calls


def _watch(monkeypatch: pytest.MonkeyPatch, cid: str, *, fail: bool = False) -> _Watched:
    """The ingest's SmolLM2 embedder, watched (the default model is left alone)."""
    from app.providers.embeddings import get_embedder_for
    from app.spaces import vectors as space_vectors

    watched = _Watched(cid, fail)

    def embedder_for(spec: Any) -> Any:
        real = get_embedder_for(spec)
        if spec.model != SMOL["model"]:
            return real
        watched.real = real
        return watched

    monkeypatch.setattr(space_vectors, "get_embedder_for", embedder_for)
    return watched


def _ingest(client: Any, name: str, content: bytes) -> str:
    resp = upload(client, [(f"{uuid.uuid4().hex[:6]}.txt", content)], collection=name)
    assert resp.status_code == 202, resp.text
    return str(resp.json()["documents"][0]["id"])


def test_other_spaces_are_embedded_before_the_write_locks_anything(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, cid = _ready_collection(client)
    sid = _space(client, cid, active=False)
    watched = _watch(monkeypatch, cid)
    doc_id = _ingest(client, name, b"Obsidian is volcanic glass from rapidly cooled lava.")
    doc = wait_for_documents(client, [doc_id], timeout=120)[doc_id]
    assert doc["status"] == "ready", doc
    assert watched.seen, "the space's model was not called by the ingest"
    for lockable, stages in watched.seen:
        assert lockable, "the space's model ran while the write held the rows"
        # the ingested document is before its write (a short one shows no stage between
        # `fetching` and `done`); the collection's other document is done
        assert sorted(stages) == ["done", "fetching"], stages
    assert _vectors_of(doc_id, sid) == doc["chunk_count"] >= 1


def test_a_failing_inactive_space_fails_alone_and_the_document_is_ready(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, cid = _ready_collection(client)
    sid = _space(client, cid, active=False)
    watched = _watch(monkeypatch, cid, fail=True)
    doc_id = _ingest(client, name, b"Pumice floats because its rock is full of gas bubbles.")
    assert wait_for_documents(client, [doc_id], timeout=120)[doc_id]["status"] == "ready"
    assert watched.seen and all(lockable for lockable, _ in watched.seen)
    state = _state(client, cid, sid)
    assert state["status"] == "failed" and "unreachable" in state["error"], state
    assert _vectors_of(doc_id, sid) == 0


def test_a_failing_active_space_keeps_the_document_from_ready_until_it_can_embed(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, cid = _ready_collection(client)
    sid = _space(client, cid, active=True)
    watched = _watch(monkeypatch, cid, fail=True)
    doc_id = _ingest(client, name, b"Tuff is rock made of volcanic ash pressed together.")
    deadline = time.monotonic() + 90
    while (doc := client.get(f"/api/v1/documents/{doc_id}").json())["stage"] != "retrying":
        assert doc["status"] != "ready", "ready without its vectors in the active space"
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)
    assert _vectors_of(doc_id, sid) == 0 and doc["chunk_count"] == 0, doc
    watched.fail = False  # the model server is back: the retry embeds and writes
    doc = wait_for_documents(client, [doc_id], timeout=120)[doc_id]
    assert doc["status"] == "ready", doc
    assert _vectors_of(doc_id, sid) == doc["chunk_count"] >= 1
    assert _state(client, cid, sid)["status"] == "ready"
