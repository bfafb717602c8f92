"""End to end, one document per supported format through the real API and worker.

Each becomes `ready`; a search for a sentence from it returns it first; its chunks are
numbered, paged and spanned exactly on the parsed text; the download is the original bytes.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.ingest.parsers import parse
from tests.conftest import make_docx, make_pdf, search, upload, wait_for_documents

CASTLES = (
    "Medieval castles were built with thick curtain walls, round towers and a keep. "
    "Masons cut limestone blocks by hand and raised them with wooden cranes. "
)
ROSETTA = "The Rosetta Stone allowed scholars to decipher Egyptian hieroglyphs in 1822."
PAPYRUS = (
    "Scribes in ancient Egypt wrote on papyrus sheets made from reeds of the Nile delta. "
    "Temple archives kept records of harvests, taxes and offerings for centuries. "
)

TXT = (
    b"Honeybees tell their hive mates where flowers are through a waggle dance.\n\n"
    b"The angle of the dance points to the food relative to the sun."
)
MD = (
    b"# Volcanoes\n\nBasaltic lava flows quietly from shield volcanoes such as Mauna Loa "
    b"in Hawaii.\n\n- Stratovolcanoes erupt explosively.\n"
)
HTML = (
    b"<!DOCTYPE html><html><head><title>Glaciers</title><style>.x{color:red}</style>"
    b"<script>var trackingToken = 'zebra-crossing-analytics';</script></head><body>"
    b"<h1>Glaciers</h1><p>Glaciers carve U-shaped valleys as they grind slowly across "
    b"bedrock.</p></body></html>"
)
PDF = make_pdf([CASTLES * 8, PAPYRUS * 4 + ROSETTA + " " + PAPYRUS * 4])
DOCX = make_docx(
    [
        "Tardigrades survive extreme dehydration by entering a state called cryptobiosis.",
        "They can be revived years later by adding water.",
    ],
    table=[["Element", "Symbol"], ["Tungsten", "W"]],
)

FILES = {
    "bees.txt": (TXT, "text/plain", "how do honeybees tell each other where flowers are"),
    "volcanoes.md": (MD, "text/markdown", "lava flowing from shield volcanoes in Hawaii"),
    "glaciers.html": (HTML, "text/html", "glaciers carving U-shaped valleys"),
    "egypt.pdf": (
        PDF,
        "application/pdf",
        "deciphering Egyptian hieroglyphs with the Rosetta Stone",
    ),
    "tardigrades.docx": (
        DOCX,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "tardigrades surviving dehydration through cryptobiosis",
    ),
}


@pytest.fixture(scope="module")
def ingested(client: Any) -> dict[str, Any]:
    """All five formats uploaded in one request into a fresh collection, and ingested."""
    collection = f"t-formats-{uuid.uuid4().hex[:8]}"
    resp = upload(
        client, [(name, data) for name, (data, _, _) in FILES.items()], collection=collection
    )
    assert resp.status_code == 202, resp.text
    uploaded = {d["filename"]: d for d in resp.json()["documents"]}
    assert set(uploaded) == set(FILES)
    ids = {name: d["id"] for name, d in uploaded.items()}
    docs = wait_for_documents(client, list(ids.values()))
    return {"collection": collection, "ids": ids, "docs": {n: docs[i] for n, i in ids.items()}}


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_format_becomes_ready_with_its_sniffed_type(
    ingested: dict[str, Any], name: str
) -> None:
    doc = ingested["docs"][name]
    assert doc["status"] == "ready", doc
    assert doc["stage"] == "done"
    assert doc["error"] is None
    assert doc["content_type"] == FILES[name][1]
    assert doc["size_bytes"] == len(FILES[name][0])
    assert doc["chunk_count"] >= 1
    assert doc["collection"] == ingested["collection"]


@pytest.mark.parametrize("name", sorted(FILES))
def test_search_for_a_sentence_returns_its_document_first(
    client: Any, ingested: dict[str, Any], name: str
) -> None:
    hits = search(client, FILES[name][2], ingested["collection"])
    assert hits, "no results"
    assert hits[0]["document_id"] == ingested["ids"][name], [h["filename"] for h in hits]
    assert hits[0]["filename"] == name


def test_pdf_keeps_page_numbers_and_search_hits_page_two(
    client: Any, ingested: dict[str, Any]
) -> None:
    assert ingested["docs"]["egypt.pdf"]["page_count"] == 2
    hits = search(client, "Rosetta Stone decipher hieroglyphs 1822", ingested["collection"])
    top = hits[0]
    assert top["document_id"] == ingested["ids"]["egypt.pdf"]
    assert top["page"] == 2, top
    assert "Rosetta" in top["text"]
    castle_hits = search(
        client, "masons raising limestone blocks with cranes", ingested["collection"]
    )
    assert castle_hits[0]["document_id"] == ingested["ids"]["egypt.pdf"]
    assert castle_hits[0]["page"] == 1


def test_html_text_excludes_scripts_and_styles(client: Any, ingested: dict[str, Any]) -> None:
    chunks = client.get(f"/api/v1/documents/{ingested['ids']['glaciers.html']}/chunks").json()
    text = " ".join(c["text"] for c in chunks["items"])
    assert "Glaciers carve U-shaped valleys" in text
    assert "trackingToken" not in text and "color:red" not in text


def test_docx_tables_are_ingested(client: Any, ingested: dict[str, Any]) -> None:
    chunks = client.get(f"/api/v1/documents/{ingested['ids']['tardigrades.docx']}/chunks").json()
    text = "\n".join(c["text"] for c in chunks["items"])
    assert "cryptobiosis" in text
    assert "Tungsten | W" in text


@pytest.mark.parametrize("name", sorted(FILES))
def test_chunks_have_ordinals_pages_and_spans_on_the_parsed_text(
    client: Any, ingested: dict[str, Any], name: str
) -> None:
    data, content_type, _ = FILES[name]
    parsed = parse(data, content_type)
    resp = client.get(f"/api/v1/documents/{ingested['ids'][name]}/chunks", params={"limit": 1000})
    assert resp.status_code == 200, resp.text
    page = resp.json()
    items = page["items"]
    assert page["total"] == len(items) == ingested["docs"][name]["chunk_count"]
    assert [c["ordinal"] for c in items] == list(range(len(items)))
    for chunk in items:
        assert 0 <= chunk["char_start"] < chunk["char_end"] <= len(parsed.text)
        assert parsed.text[chunk["char_start"] : chunk["char_end"]] == chunk["text"]
        assert chunk["page"] == parsed.page_at(chunk["char_start"])
        assert chunk["token_count"] > 0
    if content_type == "application/pdf":
        assert {c["page"] for c in items} == {1, 2}
    else:
        assert {c["page"] for c in items} == {None}


def test_chunks_endpoint_pages_with_limit_and_offset(client: Any, ingested: dict[str, Any]) -> None:
    doc_id = ingested["ids"]["egypt.pdf"]
    everything = client.get(f"/api/v1/documents/{doc_id}/chunks").json()["items"]
    assert len(everything) >= 3
    second = client.get(
        f"/api/v1/documents/{doc_id}/chunks", params={"limit": 1, "offset": 1}
    ).json()
    assert [c["ordinal"] for c in second["items"]] == [1]
    assert second["total"] == len(everything)


@pytest.mark.parametrize("name", sorted(FILES))
def test_download_returns_the_original_bytes(
    client: Any, ingested: dict[str, Any], name: str
) -> None:
    resp = client.get(f"/api/v1/documents/{ingested['ids'][name]}/download")
    assert resp.status_code == 200
    assert resp.content == FILES[name][0]
    assert resp.headers["content-type"].startswith(FILES[name][1])
    assert name in resp.headers["content-disposition"]


def test_list_documents_filters_by_collection_and_status(
    client: Any, ingested: dict[str, Any]
) -> None:
    resp = client.get(
        "/api/v1/documents", params={"collection": ingested["collection"], "status": "ready"}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["total"] == len(FILES)
    assert {d["filename"] for d in body["items"]} == set(FILES)
    failed = client.get(
        "/api/v1/documents", params={"collection": ingested["collection"], "status": "failed"}
    ).json()
    assert failed["total"] == 0 and failed["items"] == []
