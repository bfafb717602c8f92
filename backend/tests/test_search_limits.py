"""SEARCH_DEFAULT_K and SEARCH_MAX_K decide a search's page size and its largest k."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.core.config import get_settings
from tests.conftest import assert_error, upload, wait_for_documents


@pytest.fixture
def seeded(client: Any, collection_name: str) -> str:
    files = [(f"n{i}.txt", f"note {i} about the harbour seals".encode()) for i in range(6)]
    resp = upload(client, files, collection=collection_name)
    wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    return collection_name


@pytest.fixture
def limits() -> Iterator[Any]:
    settings = get_settings()
    saved = settings.search_default_k, settings.search_max_k
    try:
        yield settings
    finally:
        settings.search_default_k, settings.search_max_k = saved


def test_the_default_k_comes_from_the_setting(client: Any, seeded: str, limits: Any) -> None:
    limits.search_default_k = 3
    resp = client.post("/api/v1/search", json={"query": "harbour seals", "collection": seeded})
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["results"]) == 3


def test_a_k_above_the_maximum_is_refused(client: Any, seeded: str, limits: Any) -> None:
    limits.search_max_k = 5
    resp = client.post("/api/v1/search", json={"query": "seals", "collection": seeded, "k": 6})
    err = assert_error(resp, 422, "validation_error")
    assert "SEARCH_MAX_K" in str(err["details"])


def test_k_zero_is_refused(client: Any, seeded: str) -> None:
    resp = client.post("/api/v1/search", json={"query": "seals", "collection": seeded, "k": 0})
    assert_error(resp, 422, "validation_error")
