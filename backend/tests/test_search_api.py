"""POST /api/v1/search through the real app and worker: contract, modes, grouping, paging,
filters, highlights, deletion, validation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import assert_error, upload, wait_for_documents

DOCS = {
    "volcano.txt": b"Volcanic eruptions\n\nMagma rises through the crust and erupts as lava. "
    b"Volcanoes form where tectonic plates diverge or converge.",
    "bread.txt": b"Baking bread\n\nKnead the dough, let the yeast ferment it overnight, "
    b"then bake the loaf in a hot oven until the crust is brown.",
    "markup.md": b"# Markup\n\nThe <b>zeppelin</b> & <script>alert(1)</script> hangar "
    b"stores a zeppelin airship.",
}
MODES = ("hybrid", "vector", "lexical")


def post(client: Any, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/search", json=body)


def ok(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    resp = post(client, body)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


@pytest.fixture
def corpus(client: Any, collection_name: str) -> dict[str, str]:
    """filename -> document id, all ready, in a fresh collection."""
    resp = upload(client, list(DOCS.items()), collection=collection_name,
                  metadata={"team": "geo", "year": 2024})
    assert resp.status_code == 202, resp.text
    ids = {d["filename"]: d["id"] for d in resp.json()["documents"]}
    final = wait_for_documents(client, list(ids.values()))
    assert all(d["status"] == "ready" for d in final.values()), final
    return ids


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_finds_the_relevant_document_with_the_full_contract(
    client: Any, corpus: dict[str, str], collection_name: str, mode: str
) -> None:
    body = ok(client, {"query": "lava erupting from volcanoes", "collection": collection_name,
                       "mode": mode, "k": 3, "highlights": True})
    assert body["mode"] == mode and body["query"] == "lava erupting from volcanoes"
    assert body["took_ms"] >= 0 and body["total_candidates"] >= 1
    top = body["results"][0]
    assert top["document_id"] == corpus["volcano.txt"]
    assert top["filename"] == "volcano.txt" and top["collection"] == collection_name
    assert top["metadata"] == {"team": "geo", "year": 2024}
    assert {"chunk_id", "page", "ordinal", "char_start", "char_end", "text", "score"} <= set(top)
    assert "matched_chunks" not in top
    expected = {"hybrid": {"vector", "lexical"}, "vector": {"vector"}, "lexical": {"lexical"}}
    assert set(top["retrievers"]) <= expected[mode]
    assert top["retrievers"] and all(r["rank"] >= 1 for r in top["retrievers"].values())
    if mode != "vector":
        assert any("<mark>" in h for h in top["highlights"]), top["highlights"]


def test_lexical_mode_returns_nothing_for_absent_or_stopword_queries(
    client: Any, corpus: dict[str, str], collection_name: str
) -> None:
    for query in ("xylophone quasar", "the and of"):
        body = ok(client, {"query": query, "collection": collection_name, "mode": "lexical"})
        assert body["results"] == [] and body["total_candidates"] == 0


def test_highlights_escape_the_documents_markup_then_mark_terms(
    client: Any, corpus: dict[str, str], collection_name: str
) -> None:
    body = ok(client, {"query": "zeppelin hangar", "collection": collection_name,
                       "mode": "lexical", "highlights": True})
    top = body["results"][0]
    assert top["document_id"] == corpus["markup.md"]
    joined = " ".join(top["highlights"])
    assert "<mark>zeppelin</mark>" in joined and "<mark>hangar</mark>" in joined
    assert "<script>" not in joined and "<b>" not in joined
    assert "&lt;script&gt;" in joined or "&lt;b&gt;" in joined
    assert "<script>" in top["text"]  # the raw text itself is returned unchanged


def test_vector_only_hits_have_no_highlights(
    client: Any, corpus: dict[str, str], collection_name: str
) -> None:
    body = ok(client, {"query": "xylophone quasar", "collection": collection_name,
                       "mode": "vector", "highlights": True})
    assert body["results"] and all(r["highlights"] == [] for r in body["results"])


def test_group_by_document_gives_one_hit_per_document_with_chunk_counts(
    client: Any, collection_name: str
) -> None:
    long_text = "Glaciers\n\n" + " ".join(
        f"Glacier ice number {i} flows slowly downhill and carves a valley." for i in range(120)
    )
    resp = upload(client, [("glacier.txt", long_text.encode()),
                           ("desert.txt", b"Deserts\n\nSand dunes move with the wind.")],
                  collection=collection_name)
    ids = [d["id"] for d in resp.json()["documents"]]
    wait_for_documents(client, ids)
    chunks = ok(client, {"query": "glacier ice valley", "collection": collection_name, "k": 50})
    glacier_chunks = [r for r in chunks["results"] if r["filename"] == "glacier.txt"]
    assert len(glacier_chunks) > 1
    docs = ok(client, {"query": "glacier ice valley", "collection": collection_name, "k": 50,
                       "group_by": "document"})
    doc_ids = [r["document_id"] for r in docs["results"]]
    assert len(doc_ids) == len(set(doc_ids)) == docs["total_candidates"] == 2
    top = docs["results"][0]
    assert top["filename"] == "glacier.txt"
    assert top["matched_chunks"] == len(glacier_chunks)
    assert top["chunk_id"] == glacier_chunks[0]["chunk_id"]  # its best chunk


@pytest.mark.parametrize("mode", MODES)
def test_offset_pages_through_the_same_ranking(
    client: Any, corpus: dict[str, str], collection_name: str, mode: str
) -> None:
    base = {"query": "crust", "collection": collection_name, "mode": mode}
    full = ok(client, {**base, "k": 3})["results"]
    second = ok(client, {**base, "k": 1, "offset": 1})["results"]
    assert len(full) >= 2 and [r["chunk_id"] for r in second] == [full[1]["chunk_id"]]
    beyond = ok(client, {**base, "k": 5, "offset": 1000})
    assert beyond["results"] == []


def test_filters_restrict_every_mode_inside_the_query(
    client: Any, corpus: dict[str, str], collection_name: str
) -> None:
    other = upload(client, [("tagged.txt", b"Crust\n\nThe pie crust is flaky.")],
                   collection=collection_name, metadata={"team": "kitchen"})
    tagged = other.json()["documents"][0]["id"]
    wait_for_documents(client, [tagged])
    for mode in MODES:
        base = {"query": "crust", "collection": collection_name, "mode": mode, "k": 10}
        only = ok(client, {**base, "filters": {"metadata": {"team": "kitchen"}}})["results"]
        assert [r["document_id"] for r in only] == [tagged]
        md = ok(client, {**base, "filters": {"content_types": ["text/markdown"]}})["results"]
        assert {r["document_id"] for r in md} <= {corpus["markup.md"]}
        later = ok(client, {**base, "filters": {"created_after": "2999-01-01T00:00:00Z"}})
        assert later["results"] == []
        earlier = ok(client, {**base, "filters": {"created_before": "2999-01-01T00:00:00Z"}})
        assert earlier["results"]
        by_id = ok(client, {**base, "document_ids": [corpus["bread.txt"]]})["results"]
        assert {r["document_id"] for r in by_id} == {corpus["bread.txt"]}


def test_collections_list_searches_several_and_unknown_names_are_404(
    client: Any, corpus: dict[str, str], collection_name: str
) -> None:
    second = f"{collection_name}-b"
    resp = upload(client, [("moon.txt", b"Moon\n\nThe lunar crust is old.")], collection=second)
    wait_for_documents(client, [resp.json()["documents"][0]["id"]])
    hits = ok(client, {"query": "crust", "collections": [collection_name, second],
                       "mode": "lexical", "k": 10})["results"]
    assert {r["collection"] for r in hits} == {collection_name, second}
    assert_error(post(client, {"query": "crust", "collection": f"nope-{uuid.uuid4().hex}"}),
                 404, "not_found")
    assert_error(post(client, {"query": "crust", "collections": [collection_name, "nope-x1"]}),
                 404, "not_found")


def test_deleted_documents_never_appear_in_any_mode(
    client: Any, corpus: dict[str, str], collection_name: str
) -> None:
    volcano = corpus["volcano.txt"]
    for mode in MODES:
        hits = ok(client, {"query": "volcanic magma lava", "collection": collection_name,
                           "mode": mode})["results"]
        assert volcano in {r["document_id"] for r in hits}
    assert client.delete(f"/api/v1/documents/{volcano}").status_code == 204
    for mode in MODES:
        for group_by in ("chunk", "document"):
            hits = ok(client, {"query": "volcanic magma lava", "collection": collection_name,
                               "mode": mode, "group_by": group_by})["results"]
            assert volcano not in {r["document_id"] for r in hits}


@pytest.mark.parametrize(
    "body",
    [
        {"query": ""},
        {"query": "   "},
        {"query": "x" * 20_001},  # over SEARCH_MAX_QUERY_CHARS (default 20,000)
        {"query": "x", "k": 0},
        {"query": "x", "k": 101},
        {"query": "x", "offset": -1},
        {"query": "x", "offset": 1001},
        {"query": "x", "mode": "semantic"},
        {"query": "x", "group_by": "page"},
        {"query": "x", "collection": "a", "collections": ["b"]},
        {"query": "x", "collections": []},
        {"query": "x", "unknown": 1},
        {"query": "x", "filters": {"colour": "red"}},
        {"query": "x", "filters": {"created_after": "yesterday"}},
        {"query": "x", "document_ids": ["not-a-uuid"]},
        {"k": 3},
    ],
)
def test_invalid_requests_are_422_with_the_error_shape(client: Any, body: dict[str, Any]) -> None:
    assert_error(post(client, body), 422, "validation_error")


def test_rerank_without_a_configured_reranker_is_422(client: Any) -> None:
    assert_error(post(client, {"query": "x", "rerank": True}), 422, "reranker_not_configured")
    assert post(client, {"query": "x", "rerank": False}).status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_group_by_document_fills_the_page_with_k_documents_when_documents_have_many_chunks(
    client: Any, collection_name: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings

    # A shallow candidate pool: without fetching extra chunks for grouping, the first few
    # chunks would all belong to one or two documents and the page would come back short.
    monkeypatch.setattr(get_settings(), "hybrid_candidates", 4)
    files = [
        (f"river{n}.txt", ("Rivers\n\n" + " ".join(
            f"River {n} section {i} floods the delta plain in spring." for i in range(90)
        )).encode())
        for n in range(4)
    ]
    resp = upload(client, files, collection=collection_name)
    ids = [d["id"] for d in resp.json()["documents"]]
    final = wait_for_documents(client, ids)
    assert all(d["chunk_count"] > 1 for d in final.values()), final
    docs = ok(client, {"query": "river floods the delta plain", "collection": collection_name,
                       "k": 3, "mode": mode, "group_by": "document"})
    assert len({r["document_id"] for r in docs["results"]}) == 3
    unknown = post(client, {"query": "river", "collection": collection_name,
                            "group_by": "page"})
    assert unknown.status_code == 422
