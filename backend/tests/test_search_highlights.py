"""Highlights only on request (`"highlights": true`), refused when not a JSON boolean; the
Server-Timing header of a search when SERVER_TIMING is on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.core.config import get_settings
from tests.conftest import assert_error, upload, wait_for_documents


@pytest.fixture(scope="module")
def glaciers(client: Any) -> str:
    name = "highlights-glaciers"
    resp = upload(client, [("ice.txt", b"Glaciers carve valleys. A moraine is rock a "
                                       b"glacier left behind.")], collection=name)  # fmt: skip
    assert resp.status_code == 202, resp.text
    final = wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    assert all(d["status"] == "ready" for d in final.values()), final
    return name


@pytest.fixture
def server_timing() -> Iterator[None]:
    settings = get_settings()
    settings.server_timing = True
    try:
        yield
    finally:
        settings.server_timing = False


def _search(client: Any, collection: str, **extra: Any) -> Any:
    return client.post("/api/v1/search", json={"query": "glacier moraine",
                                               "collection": collection, **extra})


def test_highlights_are_marked_when_asked_and_absent_otherwise(
    client: Any, glaciers: str
) -> None:
    for mode in ("hybrid", "lexical"):
        asked = _search(client, glaciers, mode=mode, highlights=True)
        assert asked.status_code == 200, asked.text
        assert any("<mark>" in h for h in asked.json()["results"][0]["highlights"]), mode
        for body in ({}, {"highlights": False}):
            plain = _search(client, glaciers, mode=mode, **body)
            assert plain.status_code == 200, plain.text
            hits = plain.json()["results"]
            assert hits and all(h["highlights"] == [] for h in hits), (mode, body)


@pytest.mark.parametrize("bad", ["yes", 1, None, "true"])
def test_highlights_that_are_not_a_json_boolean_are_422(
    client: Any, glaciers: str, bad: Any
) -> None:
    assert_error(_search(client, glaciers, highlights=bad), 422)


def test_server_timing_lists_the_search_stages_when_on(
    client: Any, glaciers: str, server_timing: None
) -> None:
    resp = _search(client, glaciers, highlights=True)
    assert resp.status_code == 200, resp.text
    stages = dict(part.strip().split(";dur=") for part in
                  resp.headers["server-timing"].split(","))  # fmt: skip
    expected = {"auth", "rate_limit", "search_scope", "search_terms", "search_lexical",
                "search_embed", "search_dense", "search_hydrate", "app"}  # fmt: skip
    assert expected <= set(stages), stages
    assert all(float(ms) >= 0 for ms in stages.values())


def test_no_server_timing_header_when_off_nor_on_a_refused_search(
    client: Any, anon: Any, glaciers: str
) -> None:
    assert "server-timing" not in _search(client, glaciers).headers
    refused = anon.post("/api/v1/search", json={"query": "glacier"})
    assert refused.status_code == 401 and "server-timing" not in refused.headers
