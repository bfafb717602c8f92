"""The MCP server at /mcp, driven by the official `mcp` client SDK over streamable HTTP
against the real app served by uvicorn: tool listing, each tool, a bad argument, a caller
without access to a collection, and a missing key."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import upload, wait_for_documents

TEXT = ("The Zephyr X9 wind turbine has a rated power of 4.2 megawatts. Its rotor diameter "
        "is 136 metres.")
QUESTION = "What is the rated power of the Zephyr X9 wind turbine?"


def run(url: str, key: str | None, body: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await body(session)

    return asyncio.run(main())


def payload(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    return dict(json.loads(result.content[0].text))


@pytest.fixture(scope="module")
def corpus(client: Any, api_url: str) -> dict[str, Any]:
    name = f"mcp-{time.time_ns()}"
    resp = upload(client, [("turbine.txt", TEXT.encode())], collection=name)
    doc = resp.json()["documents"][0]["id"]
    assert wait_for_documents(client, [doc])[doc]["status"] == "ready"
    return {"collection": name, "doc": doc, "url": api_url}


def test_tools_are_listed(corpus: dict[str, Any], api_key: str) -> None:
    tools = run(corpus["url"], api_key, lambda s: s.list_tools())
    names = {t.name for t in tools.tools}
    assert names == {"search", "get_document_chunks", "get_passage", "list_collections", "ask"}


def test_each_tool_answers_within_the_callers_scope(corpus: dict[str, Any], api_key: str) -> None:
    async def body(s: ClientSession) -> dict[str, Any]:
        return {
            "collections": payload(await s.call_tool("list_collections", {})),
            "search": payload(await s.call_tool("search", {
                "query": QUESTION, "collection": corpus["collection"], "k": 3})),
            "chunks": payload(await s.call_tool("get_document_chunks",
                                                {"document_id": corpus["doc"]})),
            "ask": payload(await s.call_tool("ask", {
                "question": QUESTION, "collection": corpus["collection"]})),
        }

    out = run(corpus["url"], api_key, body)
    assert corpus["collection"] in {c["name"] for c in out["collections"]["collections"]}
    hit = out["search"]["results"][0]
    assert hit["document_id"] == corpus["doc"] and "4.2 megawatts" in hit["text"]
    assert out["chunks"]["total"] >= 1
    assert "4.2 megawatts" in out["ask"]["answer"] and "[1]" in out["ask"]["answer"]
    assert out["ask"]["sources"][0]["document_id"] == corpus["doc"]
    passage = run(corpus["url"], api_key,
                  lambda s: s.call_tool("get_passage", {"chunk_id": hit["chunk_id"]}))
    assert payload(passage)["text"] == hit["text"]


def test_a_bad_argument_is_a_tool_error(corpus: dict[str, Any], api_key: str) -> None:
    async def body(s: ClientSession) -> list[Any]:
        return [await s.call_tool("search", {"query": QUESTION, "mode": "psychic"}),
                await s.call_tool("get_document_chunks", {"document_id": "not-a-uuid"}),
                await s.call_tool("search", {"query": QUESTION, "k": 0}),
                await s.call_tool("get_passage", {"chunk_id": 2**62}),
                await s.call_tool("ask", {"question": "   "}),
                await s.call_tool("search", {"query": QUESTION, "filters": {"nope": 1}})]

    for result in run(corpus["url"], api_key, body):
        assert result.is_error


def test_a_caller_who_may_not_read_a_collection_gets_nothing_from_it(
    corpus: dict[str, Any], make_user: Any
) -> None:
    stranger, _ = make_user()

    async def body(s: ClientSession) -> list[Any]:
        return [
            await s.call_tool("search", {"query": QUESTION, "collection": corpus["collection"]}),
            await s.call_tool("get_document_chunks", {"document_id": corpus["doc"]}),
            await s.call_tool("ask", {"question": QUESTION, "collection": corpus["collection"]}),
            await s.call_tool("search", {"query": QUESTION}),
            await s.call_tool("list_collections", {}),
        ]

    named, chunks, ask, everywhere, listed = run(corpus["url"], stranger.api_key, body)
    assert named.is_error and chunks.is_error and ask.is_error
    assert "No collection" in named.content[0].text
    assert corpus["doc"] not in {r["document_id"] for r in payload(everywhere)["results"]}
    assert corpus["collection"] not in {c["name"] for c in payload(listed)["collections"]}


def test_a_missing_or_wrong_key_is_401(corpus: dict[str, Any]) -> None:
    import httpx

    for headers in ({}, {"Authorization": "Bearer ck_wrong"}):
        resp = httpx.post(f"{corpus['url']}/mcp", headers={**headers, "Accept":
                          "application/json, text/event-stream"},
                          json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "unauthorized"
