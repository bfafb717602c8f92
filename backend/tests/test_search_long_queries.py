"""Long queries: accepted up to SEARCH_MAX_QUERY_CHARS, dense embeds averaged windows, and
lexical keeps BM25 exact over a bounded set of terms (the highest idf ones)."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest

from app.core.config import get_settings
from app.providers.embeddings import get_embedder
from app.providers.embeddings.windows import char_windows, mean_normalised, token_windows
from app.search.lexical import QueryTerm, select_terms
from tests.conftest import assert_error, upload, wait_for_documents

A, B = uuid.uuid4(), uuid.uuid4()

# --- the lexical term rule (pure) -----------------------------------------------------------


def test_the_term_cap_keeps_the_highest_idf_terms() -> None:
    terms = [QueryTerm(A, f"t{i}", idf) for i, idf in enumerate([0.5, 3.0, 1.2, 2.5, 0.9])]
    kept = select_terms(terms, max_terms=2, min_idf=0.0)
    assert sorted(t.term for t in kept) == ["t1", "t3"]  # idf 3.0 and 2.5


def test_terms_below_the_minimum_idf_are_dropped_unless_none_would_be_left() -> None:
    terms = [QueryTerm(A, "common", 0.01), QueryTerm(A, "rare", 2.0), QueryTerm(A, "mid", 0.3)]
    assert sorted(t.term for t in select_terms(terms, 10, 0.05)) == ["mid", "rare"]
    only_common = [QueryTerm(A, "the", 0.01), QueryTerm(A, "and", 0.02)]
    assert [t.term for t in select_terms(only_common, 10, 0.05)] == ["and"]  # the best one


def test_the_cap_counts_a_lexeme_once_across_collections_and_ties_break_by_term() -> None:
    terms = [QueryTerm(A, "x", 1.0), QueryTerm(B, "x", 1.0), QueryTerm(A, "b", 1.0),
             QueryTerm(B, "a", 1.0)]  # fmt: skip
    kept = select_terms(terms, max_terms=2, min_idf=0.0)
    assert sorted((t.collection_id == A, t.term) for t in kept) == [(False, "a"), (True, "b")]
    assert select_terms([], 5, 0.1) == []


# --- the dense window rule (pure, then the real model) ---------------------------------------


def test_a_query_that_fits_the_window_is_one_window() -> None:
    assert token_windows(10, 254, 32, 8) == [(0, 10)]
    assert token_windows(254, 254, 32, 8) == [(0, 254)]


def test_windows_overlap_and_the_last_one_ends_at_the_last_token() -> None:
    windows = token_windows(600, 254, 32, 8)
    assert windows == [(0, 254), (222, 476), (346, 600)]
    assert all(b - a == 254 for a, b in windows)


def test_past_the_window_cap_the_windows_spread_evenly_over_the_query() -> None:
    windows = token_windows(10_000, 254, 32, 4)
    assert len(windows) == 4
    assert windows[0][0] == 0 and windows[-1][1] == 10_000
    starts = [a for a, _ in windows]
    gaps = {starts[i + 1] - starts[i] for i in range(3)}
    assert max(gaps) - min(gaps) <= 1
    with pytest.raises(ValueError):
        token_windows(10, 0, 0, 1)


def test_char_windows_follow_token_offsets_and_the_mean_is_unit_length() -> None:
    offsets = [(i * 2, i * 2 + 1) for i in range(5)]  # five one-letter tokens
    assert char_windows(offsets, 3, 1, 8) == [(0, 5), (4, 9)]
    assert char_windows([], 3, 1, 8) == []
    mean = mean_normalised([[1.0, 0.0], [0.0, 1.0]])
    assert mean == pytest.approx([math.sqrt(0.5), math.sqrt(0.5)])
    with pytest.raises(ValueError):
        mean_normalised([[1.0], [1.0, 0.0]])


def test_a_long_query_vector_is_the_normalised_mean_of_its_window_vectors() -> None:
    embedder = get_embedder()
    assert embedder.window_tokens is not None
    text = " ".join(f"sentence {i} about glaciers, tides and copper mines." for i in range(120))
    offsets = embedder.token_offsets(text)
    assert offsets is not None and len(offsets) > embedder.window_tokens
    spans = char_windows(offsets, embedder.window_tokens, embedder.query_window_overlap_tokens,
                         embedder.query_max_windows)  # fmt: skip
    assert len(spans) > 1
    expected = mean_normalised(embedder.embed_documents([text[a:b] for a, b in spans]))
    got = embedder.embed_query(text)
    assert got == pytest.approx(expected, abs=1e-6)
    assert math.isclose(math.fsum(x * x for x in got), 1.0, rel_tol=1e-5)
    # a short query is embedded whole, exactly as a document
    assert embedder.embed_query("glaciers") == pytest.approx(
        embedder.embed_documents(["glaciers"])[0], abs=1e-6
    )


# --- the API --------------------------------------------------------------------------------

DOCS = [
    ("glacier.txt", b"Glaciers carve fjords as the ice sheet retreats along the coast."),
    ("copper.txt", b"Copper mines in the desert need water pumped from deep aquifers."),
    ("tides.txt", b"Spring tides follow the new moon and flood the salt marsh."),
]


@pytest.fixture(scope="module")
def seeded(client: Any) -> str:
    name = f"longq-{uuid.uuid4().hex[:8]}"
    resp = upload(client, DOCS, collection=name)
    assert resp.status_code == 202, resp.text
    wait_for_documents(client, [d["id"] for d in resp.json()["documents"]])
    return name


def test_a_15000_character_query_is_accepted_and_answered(client: Any, seeded: str) -> None:
    filler = "The report also mentions weather, budgets, staff rotas and other matters. "
    query = (filler * 300)[:14_900] + " copper mines desert aquifers"
    query = query.ljust(15_000, ".")
    assert len(query) == 15_000
    for mode in ("hybrid", "lexical", "vector"):
        resp = client.post("/api/v1/search", json={"query": query, "collection": seeded,
                                                   "mode": mode, "k": 3})  # fmt: skip
        assert resp.status_code == 200, resp.text
        hits = resp.json()["results"]
        assert hits, mode
    lexical = client.post("/api/v1/search", json={"query": query, "collection": seeded,
                                                  "mode": "lexical", "k": 3,
                                                  "highlights": True}).json()  # fmt: skip
    assert lexical["results"][0]["filename"] == "copper.txt"
    assert any("<mark>" in h for h in lexical["results"][0]["highlights"])


def test_a_query_over_the_limit_is_422_naming_the_setting(client: Any, seeded: str) -> None:
    limit = get_settings().search_max_query_chars
    resp = client.post("/api/v1/search", json={"query": "a" * (limit + 1), "collection": seeded})
    err = assert_error(resp, 422, "validation_error")
    assert "SEARCH_MAX_QUERY_CHARS" in json.dumps(err["details"])
    assert "a" * 100 not in resp.text  # the query is not echoed back


def test_an_absurd_query_is_413_before_it_is_parsed(client: Any, seeded: str) -> None:
    body = json.dumps({"query": "b" * (3 * 1024 * 1024), "collection": seeded})
    resp = client.post("/api/v1/search", content=body,
                       headers={"Content-Type": "application/json"})  # fmt: skip
    assert_error(resp, 413, "payload_too_large")


def test_a_tiny_term_cap_keeps_the_rarest_query_term(
    client: Any, seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "query_max_terms", 1)
    # "coast" is in one document; "the" is a stopword; all three words are in one doc each,
    # so the tie breaks by lexeme: 'aquif' < 'coast' < 'moon'.
    resp = client.post("/api/v1/search", json={"query": "moon coast aquifers",
                                               "collection": seeded, "mode": "lexical"})
    assert resp.status_code == 200, resp.text
    assert [h["filename"] for h in resp.json()["results"]] == ["copper.txt"]


def test_the_settings_refuse_a_json_cap_that_cannot_hold_the_longest_query() -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    with pytest.raises(ValidationError, match="MAX_JSON_BODY_BYTES"):
        Settings(search_max_query_chars=200_000, max_json_body_bytes=100_000)
