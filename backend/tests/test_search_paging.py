"""Paging a hybrid search keeps one order: asking for a deeper page (which asks the
retrievers for more candidates) never reorders the results before it, grouped by document
or not (search/service.py fuses each list's first HYBRID_CANDIDATES, deeper ones after)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import assert_error, upload, wait_for_documents

TOPICS = ["glaciers retreat as the climate warms", "river deltas flood each spring",
          "coral reefs bleach in hot water", "forests burn in dry summers",
          "deserts spread where rain fails", "sea ice thins over the arctic"]  # fmt: skip


@pytest.fixture()
def shallow_pool(client: Any, collection_name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from app.core.config import get_settings

    monkeypatch.setattr(get_settings(), "hybrid_candidates", 4)
    files = [(f"t{n}.txt", ("\n\n".join(f"Part {i}: {topic}; {TOPICS[(n + i) % 6]}. " * 12
                                         for i in range(5))).encode())
             for n, topic in enumerate(TOPICS)]  # fmt: skip
    resp = upload(client, files, collection=collection_name)
    wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    return collection_name


QUERIES = ["ice melting in a warmer climate", "spring floods", "hot dry summers burn",
           "arctic sea ice", "rain fails and deserts spread", "reefs"]  # fmt: skip


def page(client: Any, collection: str, query: str = QUERIES[0], **body: Any) -> list[Any]:
    resp = client.post("/api/v1/search", json={"query": query, "collection": collection,
                                               "mode": "hybrid", **body})  # fmt: skip
    assert resp.status_code == 200, resp.text
    key = "document_id" if body.get("group_by") == "document" else "chunk_id"
    return [hit[key] for hit in resp.json()["results"]]


def test_a_deeper_page_never_reorders_the_first(client: Any, shallow_pool: str) -> None:
    for query in QUERIES:
        for group_by in ("document", "chunk"):
            top = page(client, shallow_pool, query, k=2, group_by=group_by)
            deep = page(client, shallow_pool, query, k=6, group_by=group_by)
            assert len(top) == 2 and deep[:2] == top, (query, group_by)
            second = page(client, shallow_pool, query, k=3, offset=3, group_by=group_by)
            first = page(client, shallow_pool, query, k=3, group_by=group_by)
            assert first + second == deep, (query, group_by)


def test_a_page_past_the_end_is_empty_not_an_error(client: Any, shallow_pool: str) -> None:
    assert page(client, shallow_pool, k=5, offset=500, group_by="document") == []


def test_a_negative_offset_or_k_is_refused(client: Any, shallow_pool: str) -> None:
    for bad in ({"offset": -1}, {"k": 0}):
        resp = client.post("/api/v1/search", json={"query": "ice", "collection": shallow_pool,
                                                   **bad})  # fmt: skip
        assert_error(resp, 422, "validation_error")
