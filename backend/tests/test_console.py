"""The Gradio console's handlers against the real API (live uvicorn + real Celery worker).

The console lives in frontend/gradio-interface (not a package): its directory goes on
sys.path, and its app.py is loaded under another name because `app` is the backend package.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "frontend" / "gradio-interface"
if str(CONSOLE_DIR) not in sys.path:
    sys.path.insert(0, str(CONSOLE_DIR))

import api_client  # noqa: E402
import console_handlers as h  # noqa: E402
import console_render as render  # noqa: E402

TEXT = (
    b"Glaciers carve U-shaped valleys as they move. Moraines are ridges of debris a glacier "
    b"leaves behind when it retreats."
)
STATUS, ID = 2, 7  # columns of the documents table


def load_console_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cairn_console_app", CONSOLE_DIR / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """The test user's API key once the API has authentication; empty before."""
    try:
        return str(request.getfixturevalue("api_key"))
    except pytest.FixtureLookupError:
        return ""


def closed_port_url() -> str:
    from app.core.embedded import free_port

    return f"http://127.0.0.1:{free_port()}"  # nothing listens: the socket was closed


def write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def wait_ready(
    api_url: str, key: Any, collection: str, count: int, timeout: float = 120.0
) -> list[list[Any]]:
    """Poll the console's documents handler until `count` documents are ready or failed."""
    deadline = time.monotonic() + timeout
    while True:
        rows, msg = h.list_documents(api_url, key, h.ALL, collection)
        assert not msg.startswith("**Error"), msg
        if len(rows) == count and all(r[STATUS] in ("ready", "failed") for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"not ready after {timeout}s: {rows}")
        time.sleep(0.25)


def ingest(
    api_url: str, key: Any, tmp_path: Path, collection: str, name: str = "glaciers.txt"
) -> str:
    rows, msg = h.upload_files(
        api_url, key, [write(tmp_path, name, TEXT)], collection, '{"source": "test"}', False
    )
    assert rows, msg
    ready = wait_ready(api_url, key, collection, 1)
    assert ready[0][STATUS] == "ready", ready
    return str(rows[0][1])


# --- happy paths against the live API ------------------------------------------------------


def test_upload_handler_shows_accepted_file_and_documents_handler_lists_it_ready(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "glaciers.txt", TEXT)
    rows, msg = h.upload_files(api_url, key, [path], collection_name, "", False)
    assert msg.startswith("Accepted 1 file"), msg
    filename, doc_id, status, duplicate, task_id, collection = rows[0]
    assert (filename, duplicate, collection) == ("glaciers.txt", "no", collection_name)
    assert status in ("queued", "processing", "ready") and task_id and len(doc_id) == 36
    listed = wait_ready(api_url, key, collection_name, 1)
    assert listed[0][0] == "glaciers.txt" and listed[0][ID] == doc_id
    assert listed[0][STATUS] == "ready" and listed[0][4] >= 1  # chunks
    again, msg = h.upload_files(api_url, key, [path], collection_name, "", False)
    assert again[0][1] == doc_id and again[0][3] == "yes" and "already known" in msg


def test_document_details_show_chunks_and_download_returns_the_original_bytes(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    doc_id = ingest(api_url, key, tmp_path, collection_name)
    details, chunks, msg = h.document_details(api_url, key, doc_id)
    assert details is not None and details["metadata"] == {"source": "test"}, msg
    assert details["collection"] == collection_name and "ready" in msg
    assert chunks and "Moraines" in " ".join(str(c[4]) for c in chunks)
    path, msg = h.download_document(api_url, key, doc_id)
    assert path is not None and Path(path).name == "glaciers.txt", msg
    assert Path(path).read_bytes() == TEXT


def test_delete_handler_removes_the_document_from_list_and_details(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    doc_id = ingest(api_url, key, tmp_path, collection_name)
    assert h.delete_document(api_url, key, doc_id) == f"Deleted document {doc_id}."
    rows, _ = h.list_documents(api_url, key, h.ALL, collection_name)
    assert rows == []
    details, _, msg = h.document_details(api_url, key, doc_id)
    assert details is None and "404" in msg and "No document" in msg
    assert "404" in h.delete_document(api_url, key, doc_id)


def test_search_handler_finds_the_document_and_renders_a_highlighted_snippet(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    ingest(api_url, key, tmp_path, collection_name)
    rows, html, msg = h.run_search(
        api_url, key, "ridges of debris left by glaciers", 5, collection_name, "hybrid", "chunk"
    )
    assert msg.startswith(f"{len(rows)} result(s)") and rows, msg
    rank, score, filename, _page, snippet, _retrievers = rows[0]
    assert (rank, filename) == (1, "glaciers.txt") and isinstance(score, float)
    assert "Moraines" in snippet
    assert "<mark>" in html and "glaciers.txt" in html


def test_search_options_are_sent_only_when_the_live_api_declares_them(
    api_url: str, key: str
) -> None:
    caps = h.search_capabilities(api_url, key)
    assert {"query", "k", "collection"} <= caps.fields  # read from the live /openapi.json
    payload = h.build_search_payload(caps, "q", 3, "", "lexical", "document")
    assert ("mode" in payload) == (caps.has_mode and (not caps.modes or "lexical" in caps.modes))
    assert ("group_by" in payload) == caps.has_group_by
    assert "collection" not in payload and payload["k"] == 3


def test_search_modes_when_the_api_has_them_show_retrievers_and_api_highlights(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    if not h.search_capabilities(api_url, key).has_mode:
        pytest.skip("this API's search has no modes")
    ingest(api_url, key, tmp_path, collection_name)
    h.upload_files(
        api_url,
        key,
        [write(tmp_path, "other.txt", b"Moraines, again.")],
        collection_name,
        "",
        False,
    )
    wait_ready(api_url, key, collection_name, 2)
    rows, html, msg = h.run_search(api_url, key, "moraines", 5, collection_name, "lexical", "chunk")
    assert "mode=lexical" in msg and rows, msg
    assert all(r[5].startswith("lexical#") for r in rows), rows
    assert "highlights from the API" in html and "<mark>Moraines</mark>" in html
    docs, _, msg = h.run_search(api_url, key, "moraines", 5, collection_name, "hybrid", "document")
    assert "group_by=document" in msg and len({r[2] for r in docs}) == len(docs) == 2, docs


def test_health_handler_shows_every_check_ok(api_url: str, key: str) -> None:
    rows, msg = h.health(api_url, key)
    # the workers' ping is informational (the session's Celery worker answers it)
    assert {r[0] for r in rows} == {"database", "redis", "storage", "workers"}
    assert all(r[1] == "ok" and r[3] == "" for r in rows), rows
    assert msg.startswith("Ready: all 4 checks ok")


def test_on_load_offers_existing_collections_and_all(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    ingest(api_url, key, tmp_path, collection_name)
    console = load_console_app()
    collections, *_rest, health_msg = console._on_load(api_url, key)
    values = [value for _, value in collections["choices"]]
    assert values[0] == h.ALL and collection_name in values
    assert health_msg.startswith("Ready")


def test_build_ui_constructs_every_tab_without_error() -> None:
    import gradio as gr

    demo = load_console_app().build_ui("http://127.0.0.1:9")
    assert isinstance(demo, gr.Blocks)
    labels = {b.label for b in demo.blocks.values() if isinstance(b, gr.Tab)}
    assert labels == {"Upload", "Documents", "Search", "Chat", "Tasks", "Labels", "Evaluate",
                      "Health"}


# --- unhappy paths: API errors become readable messages -------------------------------------


def test_upload_of_an_empty_file_shows_the_api_message(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    rows, msg = h.upload_files(
        api_url, key, [write(tmp_path, "empty.txt", b"")], collection_name, "", False
    )
    assert rows == []
    assert msg == "**Error:** API error 422 [empty_file]: empty.txt is empty. " + (
        '({"filename": "empty.txt"})'
    )


def test_upload_with_metadata_that_is_not_json_shows_the_api_message(
    api_url: str, key: str, collection_name: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "a.txt", TEXT)
    rows, msg = h.upload_files(api_url, key, [path], collection_name, "{not json", False)
    assert rows == [] and "422" in msg and "metadata is not valid JSON" in msg


def test_upload_without_files_asks_for_a_file_without_calling_the_api() -> None:
    rows, msg = h.upload_files(closed_port_url(), "ck_some-key", [], "c", "", False)
    assert rows == [] and "choose at least one file" in msg


def test_search_in_an_unknown_collection_shows_not_found(api_url: str, key: str) -> None:
    rows, html, msg = h.run_search(api_url, key, "glaciers", 5, "no-such-collection-x")
    assert rows == [] and html == ""
    assert (
        msg == "**Error:** API error 404 [not_found]: No collection named 'no-such-collection-x'."
    )


def test_search_with_an_empty_query_asks_for_one() -> None:
    rows, _, msg = h.run_search(closed_port_url(), "", "   ", 5, "")
    assert rows == [] and "type a query" in msg


def test_details_of_a_malformed_id_show_the_validation_error(api_url: str, key: str) -> None:
    details, chunks, msg = h.document_details(api_url, key, "not-a-uuid")
    assert details is None and chunks == []
    assert "422 [validation_error]" in msg and "document_id" in msg


def test_listing_with_an_unknown_status_shows_the_validation_error(api_url: str, key: str) -> None:
    rows, msg = h.list_documents(api_url, key, "sleeping", "")
    assert rows == [] and "422" in msg and "status" in msg


@pytest.mark.parametrize(
    "call",
    [
        lambda url: h.health(url, "")[-1],
        lambda url: h.list_documents(url, "ck_k", "", "")[-1],
        lambda url: h.run_search(url, "ck_k", "q", 3, "")[-1],
        lambda url: h.collection_choices(url, "ck_k")[-1],
        lambda url: h.document_details(url, "ck_k", "00000000-0000-0000-0000-000000000000")[-1],
    ],
    ids=["health", "documents", "search", "collections", "details"],
)
def test_unreachable_api_is_a_readable_message(call: Any) -> None:
    url = closed_port_url()
    msg = call(url)
    assert msg.startswith(f"**Error:** Cannot reach the API at {url}"), msg


def test_unreachable_api_leaves_search_options_hidden() -> None:
    caps = h.search_capabilities(closed_port_url(), "")
    assert not caps.has_mode and not caps.has_group_by and caps.fields == frozenset()


def test_error_without_the_json_envelope_is_still_readable() -> None:
    resp = httpx.Response(502, text="Bad Gateway from proxy")
    err = api_client.error_from_response(resp)
    assert err.status == 502 and str(err) == "API error 502: Bad Gateway from proxy"
    empty = api_client.error_from_response(httpx.Response(500, content=b""))
    assert str(empty) == "API error 500: Internal Server Error"


def test_a_wrong_key_shows_the_api_refusal_and_points_at_signing_in(
    api_url: str, key: str
) -> None:
    _, _, msg = h.run_search(api_url, "ck_not-a-real-key", "ice", 3, "")
    assert "401" in msg and "sign in" in msg


def test_unauthorized_error_points_at_signing_in() -> None:
    body = {"error": {"code": "unauthorized", "message": "Missing credentials."}}
    err = api_client.error_from_response(httpx.Response(401, json=body))
    assert err.code == "unauthorized" and "Missing credentials." in str(err)
    assert "sign in" in str(err)


# --- rendering of highlights (pure) ---------------------------------------------------------


def test_highlight_offsets_from_the_api_are_marked_and_text_escaped() -> None:
    hit = {"text": "a <b> glacier", "highlights": [{"start": 6, "end": 13}]}
    html, from_api = render.highlight_html(hit, "ignored")
    assert from_api and html == "a &lt;b&gt; <mark>glacier</mark>"


def test_highlight_fragments_keep_only_highlight_tags() -> None:
    hit = {"text": "x", "highlights": ["<b>ice</b> <script>alert(1)</script>"]}
    html, from_api = render.highlight_html(hit, "ice")
    assert from_api and html == "<mark>ice</mark> &lt;script&gt;alert(1)&lt;/script&gt;"


def test_highlights_already_escaped_by_the_api_are_not_escaped_twice() -> None:
    hit = {"text": "x", "highlights": ["<mark>ice</mark> &lt;b&gt; &amp; snow", "<mark>open"]}
    html, from_api = render.highlight_html(hit, "ice")
    assert from_api and html == "<mark>ice</mark> &lt;b&gt; &amp; snow … <mark>open</mark>"


def test_without_highlights_the_console_marks_query_words_itself() -> None:
    html, from_api = render.highlight_html({"text": "Ice <and> snow"}, "snow ice")
    assert not from_api and html == "<mark>Ice</mark> &lt;and&gt; <mark>snow</mark>"
    plain, _ = render.highlight_html({"text": "nothing here"}, "glacier")
    assert "<mark>" not in plain and plain == "nothing here"
