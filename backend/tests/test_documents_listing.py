"""GET /api/v1/documents: filter by content-type group (?type=), sort (?sort=created|updated|
name|size|status, ?order=asc|desc) with pagination; unknown values are 422 JSON errors; a
second user's filtered list never shows the first user's documents."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_pdf, upload

FILES = [
    ("b-notes.txt", b"Plain notes about granite, basalt and slate quarries." * 3),
    ("A-readme.md", b"# Readme\n\nMarkdown about quarries."),
    ("c-report.pdf", make_pdf(["A short report on the quarries of the valley."])),
    ("d-page.html", b"<html><body><p>An HTML page on quarry safety rules.</p></body></html>"),
]


@pytest.fixture
def library(make_user: Any, collection_name: str) -> tuple[Any, str]:
    _, client = make_user()
    resp = upload(client, FILES, collection=collection_name)
    assert resp.status_code == 202, resp.text
    return client, collection_name


def _names(client: Any, **query: Any) -> list[str]:
    resp = client.get("/api/v1/documents", params=query)
    assert resp.status_code == 200, resp.text
    return [d["filename"] for d in resp.json()["items"]]


def test_type_groups_sorting_and_pages(library: tuple[Any, str]) -> None:
    client, name = library
    assert _names(client, collection=name, type="text", sort="name", order="asc") == [
        "A-readme.md", "b-notes.txt"]  # fmt: skip
    assert _names(client, collection=name, type="pdf") == ["c-report.pdf"]
    assert _names(client, collection=name, type="html") == ["d-page.html"]
    assert _names(client, collection=name, type="image") == []
    assert _names(client, collection=name, type="word") == []
    by_name = ["A-readme.md", "b-notes.txt", "c-report.pdf", "d-page.html"]  # case-insensitive
    assert _names(client, collection=name, sort="name", order="asc") == by_name
    assert _names(client, collection=name, sort="name", order="desc") == by_name[::-1]
    sizes = {f: len(b) for f, b in FILES}
    assert _names(client, collection=name, sort="size", order="asc") == sorted(sizes, key=sizes.get)
    # pages keep the order, and the total counts the filtered rows
    first = client.get("/api/v1/documents", params={"collection": name, "sort": "name",
                                                    "order": "asc", "limit": 3}).json()
    second = _names(client, collection=name, sort="name", order="asc", limit=3, offset=3)
    assert first["total"] == 4 and [d["filename"] for d in first["items"]] + second == by_name
    newest = _names(client, collection=name)  # the default: newest first
    assert newest == _names(client, collection=name, sort="created", order="desc")
    assert newest == _names(client, collection=name, sort="created", order="asc")[::-1]
    assert sorted(_names(client, collection=name, sort="status")) == by_name


@pytest.mark.parametrize("query", [{"sort": "colour"}, {"order": "sideways"}, {"type": "xls"},
                                   {"sort": ""}])  # fmt: skip
def test_an_unknown_sort_order_or_type_is_a_422_error(client: Any, query: dict[str, str]) -> None:
    resp = client.get("/api/v1/documents", params=query)
    assert resp.status_code == 422
    assert set(resp.json()["error"]) >= {"code", "message"}


def test_another_user_sees_none_of_them_whatever_the_filter(
    library: tuple[Any, str], make_user: Any
) -> None:
    _, name = library
    _, other = make_user()
    for query in ({"type": "text"}, {"type": "pdf", "sort": "name"}, {"sort": "size"}):
        assert _names(other, collection=name, **query) == []
        assert not {f for f, _ in FILES} & set(_names(other, **query, limit=500))
