"""Embedding spaces: a collection moves to a second real model of another dimension (the
bundled SmolLM2-135M GGUF's embeddings, 576-d, through xllamacpp) while search keeps
answering from the old space; the switch is one atomic step; a stopped job resumes without
duplicates; owner-only management with JSON errors."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

import pytest

from tests.conftest import upload_ready

SMOL = {"provider": "llamacpp", "model": "SmolLM2-135M-Instruct"}
DOCS = [
    ("glacier.txt", b"Glaciers are retreating as the ice sheets melt in a warming climate."),
    ("bread.txt", b"Sourdough bread rises slowly because wild yeast ferments the dough."),
    ("comet.txt", b"A comet's tail of dust and gas always points away from the sun."),
    ("violin.txt", b"The violin has four strings tuned in fifths and is played with a bow."),
]
QUERY = "melting ice sheets and glaciers"


def _collection(client: Any, name: str, files: list[tuple[str, bytes]]) -> tuple[str, list[str]]:
    ids = upload_ready(client, files, name, timeout=300)
    cid = next(c["id"] for c in client.get("/api/v1/collections").json() if c["name"] == name)
    return cid, ids


def _search(client: Any, query: str, collection: str | None = None) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"query": query, "k": 10, "mode": "vector"}
    if collection:
        body["collection"] = collection
    resp = client.post("/api/v1/search", json=body)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["results"])


def _spaces(client: Any, cid: str) -> dict[str, dict[str, Any]]:
    resp = client.get(f"/api/v1/collections/{cid}/embedding-spaces")
    assert resp.status_code == 200, resp.text
    return {s["id"]: s for s in resp.json()}


def _vector_rows(space_id: int) -> tuple[int, int]:
    from sqlalchemy import text

    from app.core.db import session_scope

    with session_scope() as session:
        row = session.execute(text(
            "SELECT count(*), count(DISTINCT chunk_id) FROM space_vectors WHERE space_id = :s"),
            {"s": space_id}).one()
    return int(row[0]), int(row[1])


def _chunk_vector(space_id: int, chunk_id: int) -> list[float]:
    from sqlalchemy import text

    from app.core.db import session_scope

    with session_scope() as session:
        raw = session.execute(text(
            "SELECT embedding::text FROM space_vectors WHERE space_id = :s AND chunk_id = :c"),
            {"s": space_id, "c": chunk_id}).scalar_one()
    return [float(x) for x in raw.strip("[]").split(",")]


def test_switch_to_another_dimension_while_search_answers_then_atomically(
    client: Any, anon: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings
    from app.providers.embeddings import EmbedderSpec, EmbeddingError, get_embedder_for
    from app.spaces import jobs, queue
    from app.spaces import vectors as space_vectors

    name, other = f"sp-{uuid.uuid4().hex[:8]}", f"sp-{uuid.uuid4().hex[:8]}"
    cid, _ = _collection(client, name, DOCS)
    _collection(client, other, [("tide.txt", b"Ocean tides follow the pull of the moon.")])
    before = _search(client, QUERY, name)
    assert before[0]["filename"] == "glacier.txt"

    # The job is driven by hand first (stopped, failed, resumed), then by the worker.
    sent: list[int] = []
    real_send = queue.send_reembed
    monkeypatch.setattr(queue, "send_reembed", lambda space_id: sent.append(space_id) or True)
    monkeypatch.setattr(get_settings(), "space_reembed_batch", 1)
    resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces", json=SMOL)
    assert resp.status_code == 202, resp.text
    space = resp.json()
    assert (space["status"], space["dim"], space["total"], space["active"]) == (
        "building", 576, 4, False)
    sid = int(space["id"])
    assert sent == [sid]

    # A failure half way: the reason is visible, the old space keeps serving.
    def broken(spec: EmbedderSpec) -> Any:
        raise EmbeddingError("model server unreachable", transient=True)

    monkeypatch.setattr(space_vectors, "get_embedder_for", broken)
    assert jobs.run(sid)["status"] == "failed"
    failed = _spaces(client, cid)[str(sid)]
    assert failed["status"] == "failed" and "unreachable" in failed["error"]
    assert _search(client, QUERY, name) == before
    monkeypatch.setattr(space_vectors, "get_embedder_for", get_embedder_for)

    # Stopped after two batches (a killed job): progress is stored, search is unchanged,
    # activation is refused.
    assert jobs.run(sid, stop_after_batches=2)["status"] == "stopped"
    half = _spaces(client, cid)[str(sid)]
    assert (half["status"], half["embedded"], half["total"]) == ("building", 2, 4)
    scraped = anon.get("/metrics").text  # open on loopback
    assert any(line.startswith("cairn_embedding_space_progress{") and f'space="{sid}"' in line
               and 'status="building"' in line and line.endswith(" 0.5")
               for line in scraped.splitlines()), scraped[-2000:]
    assert _vector_rows(sid) == (2, 2)
    assert _search(client, QUERY, name) == before
    refused = client.post(f"/api/v1/collections/{cid}/embedding-spaces/{sid}/activate")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "space_not_ready"

    # Resumed through the API, by the real worker: no duplicates, complete, indexed.
    monkeypatch.setattr(queue, "send_reembed", real_send)
    resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces/{sid}/resume")
    assert resp.status_code == 202, resp.text
    deadline = time.monotonic() + 240
    while _spaces(client, cid)[str(sid)]["status"] != "ready":
        assert time.monotonic() < deadline, _spaces(client, cid)
        assert _search(client, QUERY, name) == before  # still the old space meanwhile
        time.sleep(0.5)
    assert _vector_rows(sid) == (4, 4)
    assert _spaces(client, cid)[str(sid)]["progress"] == 1.0

    # One switch: from now on the query is embedded by SmolLM2 and compared with its vectors.
    resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces/{sid}/activate")
    assert resp.status_code == 200, resp.text
    assert resp.json()["active"] is True
    listed = _spaces(client, cid)
    assert listed[str(sid)]["active"] and not listed["default"]["active"]
    after = _search(client, QUERY, name)
    assert {h["filename"] for h in after} == {d[0] for d in DOCS}
    smol = get_embedder_for(EmbedderSpec("llamacpp", "SmolLM2-135M-Instruct", 576))
    q = smol.embed_query(QUERY)
    for hit in after:
        d = _chunk_vector(sid, hit["chunk_id"])
        cosine = sum(a * b for a, b in zip(q, d, strict=True))
        assert math.isclose(hit["retrievers"]["vector"]["score"], cosine, abs_tol=1e-3)
    assert [h["score"] for h in after] != [h["score"] for h in before]

    # Both collections in one search: each answers from its own space, merged.
    both = client.post("/api/v1/search", json={"query": "moon tides and ice", "k": 10,
                                                "mode": "vector"})
    assert both.status_code == 200, both.text
    assert {"tide.txt", "glacier.txt"} <= {h["filename"] for h in both.json()["results"]}

    # A document ingested now gets its vector in the active space by the ingest itself.
    upload_ready(client, [("lava.txt", b"Lava from the volcano cooled into black basalt.")], name)
    assert _vector_rows(sid) == (5, 5)
    # (SmolLM2 is a toy embedder: the test checks where vectors come from, not its ranking)
    assert "lava.txt" in {h["filename"] for h in _search(client, "volcanic basalt lava", name)}

    # The active space cannot be dropped; back on the default space it can.
    resp = client.delete(f"/api/v1/collections/{cid}/embedding-spaces/{sid}")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "space_active"
    resp = client.post(f"/api/v1/collections/{cid}/embedding-spaces/default/activate")
    assert resp.status_code == 200 and resp.json()["active"] is True
    assert client.delete(f"/api/v1/collections/{cid}/embedding-spaces/{sid}").status_code == 204
    assert _vector_rows(sid) == (0, 0)
    assert list(_spaces(client, cid)) == ["default"]
    assert _search(client, QUERY, name)[0]["filename"] == "glacier.txt"


def test_a_query_vector_of_another_space_is_refused_by_construction() -> None:
    from app.search.dense import VectorSource, dense_search
    from app.search.filters import SearchScope

    with pytest.raises(ValueError, match="not of the searched space"):
        dense_search(None, [0.1] * 384, SearchScope([uuid.uuid4()]), 5,  # type: ignore[arg-type]
                     VectorSource(space_id=1, dim=576))


def test_spaces_are_managed_by_the_owner_only_with_json_errors(make_user: Any) -> None:
    _owner, a = make_user()
    reader, r = make_user()
    _, stranger = make_user()
    name = f"sp-{uuid.uuid4().hex[:8]}"
    cid, _ = _collection(a, name, DOCS[:1])
    base = f"/api/v1/collections/{cid}/embedding-spaces"
    share = a.post(f"/api/v1/collections/{cid}/shares", json={"email": reader.email})
    assert share.status_code == 201, share.text

    listed = a.get(base)
    assert listed.status_code == 200
    assert [(s["id"], s["active"], s["status"]) for s in listed.json()] == [
        ("default", True, "ready")]

    # Unknown provider or model: 422, JSON.
    for body, code in (({"provider": "nope", "model": "x"}, None),
                       ({"provider": "local", "model": "no-such-model"}, "unknown_embedding_model"),
                       ({"provider": "llamacpp", "model": "no-such.gguf"},
                        "unknown_embedding_model")):
        resp = a.post(base, json=body)
        assert resp.status_code == 422, resp.text
        assert "error" in resp.json()
        if code:
            assert resp.json()["error"]["code"] == code
    # The default model is already every collection's space.
    resp = a.post(base, json={"provider": "local", "model": "all-MiniLM-L6-v2"})
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "space_exists"
    # Missing spaces and the default space's limits.
    assert a.post(f"{base}/987654/activate").status_code == 404
    assert a.get(f"{base}/not-a-space").status_code == 404
    resp = a.delete(f"{base}/default")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "space_default"
    assert a.post(f"{base}/default/resume").status_code == 409

    # Another user: every route is a 404 (the collection's existence does not leak).
    for method, path, body in (("get", base, None), ("post", base, SMOL),
                               ("get", f"{base}/default", None),
                               ("post", f"{base}/default/activate", None),
                               ("post", f"{base}/default/resume", None),
                               ("delete", f"{base}/default", None)):
        resp = getattr(stranger, method)(path, **({"json": body} if body else {}))
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["error"]["code"] == "not_found"
    # A reader of a shared collection may search it but not manage its spaces.
    for method, path, body in (("get", base, None), ("post", base, SMOL),
                               ("post", f"{base}/default/activate", None)):
        resp = getattr(r, method)(path, **({"json": body} if body else {}))
        assert resp.status_code == 403, (method, path, resp.text)
    assert len(_search(r, QUERY, None)) >= 1
    assert list(_spaces(a, cid)) == ["default"]  # nothing was added by anyone


def test_cli_lists_follows_and_reports_refusals(
    api_url: str, api_key: str, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.cli import main

    name = f"sp-{uuid.uuid4().hex[:8]}"
    _collection(client, name, DOCS[:1])
    conn = ["--collection", name, "--url", api_url, "--api-key", api_key]
    assert main(["spaces", "list", *conn]) == 0
    out = capsys.readouterr().out
    assert "default" in out and "all-MiniLM-L6-v2" in out and "1/1" in out
    assert main(["spaces", "wait", "default", "--activate", *conn]) == 0
    assert "is active" in capsys.readouterr().err
    assert main(["spaces", "add", "--provider", "local", "--model", "nope", *conn]) == 2
    assert "422" in capsys.readouterr().err
    assert main(["spaces", "drop", "default", *conn]) == 2
    assert "409" in capsys.readouterr().err
    other = ["--collection", "no-such-collection", "--url", api_url, "--api-key", api_key]
    assert main(["spaces", "list", *other]) == 2
    assert "no collection named" in capsys.readouterr().err
