"""The MCP tools: search, get_document_chunks, get_passage, list_collections, ask.

Each runs as the principal the request authenticated (endpoint.py puts it in a context
variable) through the same services as the REST API, so the same access rules hold: a
collection or document the caller may not read is "not found".
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError

from app.auth.principal import Principal
from app.chat import answer
from app.chat import service as chat_service
from app.chat.schemas import ChatAnswer, ChatRequest
from app.collections import service as collections
from app.core.db import get_sessionmaker
from app.core.errors import AppError, NotFound
from app.documents import service as documents
from app.mcp_server import repository
from app.search import service as search_service
from app.search.schemas import SearchFilters, SearchRequest

current_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("mcp_principal")
T = TypeVar("T")


async def _with_session(fn: Callable[..., T], *args: Any) -> T:
    principal = current_principal.get()

    def run() -> T:
        with get_sessionmaker()() as session:
            return fn(session, principal, *args)

    with _as_tool_errors():
        return await asyncio.to_thread(run)


@contextlib.contextmanager
def _as_tool_errors() -> Iterator[None]:
    """The caller's mistakes (not found, invalid values) become tool errors with their message."""
    try:
        yield
    except AppError as exc:
        raise ToolError(exc.message) from exc
    except (ValidationError, ValueError) as exc:
        raise ToolError(f"Invalid argument: {exc}") from exc


def build() -> MCPServer:
    server = MCPServer(
        "cairn", instructions="Search and ask the documents of a Cairn instance; answers cite "
                              "their sources as [n].")

    @server.tool()
    async def search(query: str, mode: Literal["hybrid", "vector", "lexical"] = "hybrid",
                     collection: str | None = None, filters: dict[str, Any] | None = None,
                     k: int = 10) -> dict[str, Any]:
        """Search the documents you may read. Returns passages with their document, page,
        chunk id (for get_passage) and score."""
        with _as_tool_errors():
            request = SearchRequest(
                query=query, mode=mode, collection=collection, k=k,
                filters=SearchFilters.model_validate(filters) if filters else None)

        def run(session: Any, principal: Principal) -> dict[str, Any]:
            result = search_service.search(session, request, principal)
            return {"results": [
                {"chunk_id": h.chunk_id, "document_id": str(h.document_id),
                 "filename": h.filename, "collection": h.collection, "page": h.page,
                 "score": round(h.score, 4), "text": h.text} for h in result.results]}

        return await _with_session(run)

    @server.tool()
    async def get_document_chunks(document_id: str, offset: int = 0,
                                  limit: int = 20) -> dict[str, Any]:
        """The chunks of one document, in order (at most 100 per call)."""
        with _as_tool_errors():
            doc_id = uuid.UUID(document_id)
        limit = max(1, min(limit, 100))

        def run(session: Any, principal: Principal) -> dict[str, Any]:
            chunks, total = documents.list_chunks(session, doc_id, principal, limit=limit,
                                                  offset=max(0, offset))
            return {"document_id": document_id, "total": total, "chunks": [
                {"chunk_id": c.id, "ordinal": c.ordinal, "page": c.page,
                 "char_start": c.char_start, "char_end": c.char_end, "text": c.text}
                for c in chunks]}

        return await _with_session(run)

    @server.tool()
    async def get_passage(chunk_id: int) -> dict[str, Any]:
        """One passage (chunk) by id, with its document."""

        def run(session: Any, principal: Principal) -> dict[str, Any]:
            found = repository.chunk(session, chunk_id)
            if found is None:
                raise NotFound(f"No passage {chunk_id}.")
            doc = documents.get(session, found.document_id, principal)
            return {"chunk_id": found.id, "document_id": str(doc.id), "filename": doc.filename,
                    "page": found.page, "char_start": found.char_start,
                    "char_end": found.char_end, "text": found.text}

        return await _with_session(run)

    @server.tool()
    async def list_collections() -> dict[str, Any]:
        """The collections you may read, with your permission on each."""

        def run(session: Any, principal: Principal) -> dict[str, Any]:
            return {"collections": [
                {"id": str(v.collection.id), "name": v.collection.name,
                 "owner": v.owner_email, "permission": v.permission}
                for v in collections.list_visible(session, principal)]}

        return await _with_session(run)

    @server.tool()
    async def ask(question: str, collection: str | None = None,
                  k: int | None = None) -> dict[str, Any]:
        """Ask a question; the answer cites the returned sources as [n] and says so when the
        documents do not contain it."""
        principal = current_principal.get()
        with _as_tool_errors(), get_sessionmaker()() as session:
            request = ChatRequest(message=question, collection=collection, k=k)
            prepared = await chat_service.prepare(session, principal, request, persist=False)
        result = await answer.collect(prepared)
        if not isinstance(result, ChatAnswer):
            raise ToolError(str(result["message"]))
        return result.model_dump(mode="json", include={
            "answer", "not_found", "sources", "citations", "invalid_citations", "provider"})

    return server
