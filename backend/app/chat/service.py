"""Chat: a question → standalone query → retrieval (the search service, same scope and
access rules) → numbered passages → an answer whose citations are checked → stored.

`prepare` and `save_answer` are units of work (they commit); `answer_events` (answer.py)
streams between them. A passage is given to the model only when its cosine similarity to
the query is at least CHAT_MIN_SIMILARITY; when none is, the answer is NOT_FOUND and no
model is called.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.chat import repository
from app.chat.citations import strip_markers
from app.chat.errors import llm_http_error
from app.chat.followup import standalone
from app.chat.models import Conversation, Message
from app.chat.prompts import answer_messages
from app.chat.schemas import (
    ChatRequest,
    ConversationDetail,
    ConversationOut,
    ConversationPage,
    MessageOut,
    Source,
)
from app.core.config import get_settings
from app.core.db import get_sessionmaker
from app.core.errors import NotFound
from app.providers.llm import LLM, ChatMessage, LLMError, Passage, get_llm
from app.search import service as search_service
from app.search.schemas import SearchRequest

NOT_FOUND = "The documents do not contain the answer to this question."
SNIPPET_CHARS = 300


@dataclass
class Prepared:
    llm: LLM
    question: str
    query: str
    sources: list[Source]
    passages: list[Passage]
    messages: list[ChatMessage]
    conversation_id: uuid.UUID | None = None
    # Per-request generation limits (the OpenAI-compatible door); None = configured ones.
    max_tokens: int | None = None
    temperature: float | None = None
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def not_found(self) -> bool:
        return not self.sources


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


async def prepare(session: Session, principal: Principal, request: ChatRequest,
                  history: list[ChatMessage] | None = None, persist: bool = True) -> Prepared:
    """Everything before generation. `history` is given by stateless callers (the
    OpenAI-compatible door); otherwise it comes from the stored conversation."""
    started = time.perf_counter()
    try:
        llm = get_llm(request.provider)
    except LLMError as exc:
        raise llm_http_error(exc) from exc
    conversation, past, previous_query = await asyncio.to_thread(
        _history, session, principal, request.conversation_id)
    if history is not None:
        past = history
        previous_query = next((m.content for m in reversed(history) if m.role == "user"), None)
    t0 = time.perf_counter()
    query = await standalone(llm, past, previous_query, request.message)
    standalone_ms = _ms(t0)
    t0 = time.perf_counter()
    sources, passages = await asyncio.to_thread(retrieve, session, principal, request, query)
    prepared = Prepared(
        llm=llm, question=request.message, query=query, sources=sources, passages=passages,
        messages=answer_messages(request.message, passages, [_label(s) for s in sources], past),
        started=started,
        timings={"standalone_ms": standalone_ms, "retrieval_ms": _ms(t0)},
    )
    if persist:
        prepared.conversation_id = await asyncio.to_thread(
            _store_question, session, principal, conversation, request.message, query)
    return prepared


def _history(session: Session, principal: Principal, conversation_id: uuid.UUID | None
             ) -> tuple[Conversation | None, list[ChatMessage], str | None]:
    if conversation_id is None:
        return None, [], None
    conversation = repository.get_conversation(session, conversation_id, principal.user_id)
    if conversation is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    turns = get_settings().chat_history_turns
    recent = repository.messages(session, conversation.id, last=max(2 * turns, 2))
    previous = next((m.query or m.content for m in reversed(recent) if m.role == "user"), None)
    readable = _readable_sources(session, principal, recent)
    past = [ChatMessage(m.role, strip_markers(_visible_content(m, readable)))
            for m in recent[-2 * turns:]] if turns else []
    return conversation, past, previous


# An earlier answer built on a document the caller can no longer read (a share revoked since)
# is neither shown again nor sent to the model as history: its text may quote that document.
WITHHELD = "[This answer cited documents you can no longer read.]"


def _source_ids(message: Message) -> set[uuid.UUID]:
    return {uuid.UUID(str(s["document_id"])) for s in message.sources}


def _readable_sources(session: Session, principal: Principal,
                      messages: list[Message]) -> set[uuid.UUID]:
    ids = set().union(*(_source_ids(m) for m in messages)) if messages else set()
    return repository.readable_documents(session, principal, list(ids))


def _visible_content(message: Message, readable: set[uuid.UUID]) -> str:
    if message.role == "assistant" and not _source_ids(message) <= readable:
        return WITHHELD
    return message.content


def retrieve(session: Session, principal: Principal, request: ChatRequest,
             query: str) -> tuple[list[Source], list[Passage]]:
    settings = get_settings()
    search = SearchRequest(
        query=query[:4000], k=request.k or settings.chat_default_k, collection=request.collection,
        collections=request.collections, filters=request.filters, group_by="chunk",
    )
    result = search_service.search(session, search, principal)
    sources: list[Source] = []
    passages: list[Passage] = []
    for hit in result.results:
        vector = hit.retrievers.get("vector")
        similarity = vector.score if vector is not None else 0.0
        if similarity < settings.chat_min_similarity:
            continue
        n = len(sources) + 1
        sources.append(Source(
            n=n, document_id=hit.document_id, filename=hit.filename, collection=hit.collection,
            page=hit.page, chunk_id=hit.chunk_id, char_start=hit.char_start,
            char_end=hit.char_end, snippet=_snippet(hit.text), score=hit.score,
            similarity=round(similarity, 4),
        ))
        passages.append(Passage(n, hit.text))
    return sources, passages


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def _label(source: Source) -> str:
    return source.filename + (f", page {source.page}" if source.page is not None else "")


def _store_question(session: Session, principal: Principal, conversation: Conversation | None,
                    message: str, query: str) -> uuid.UUID:
    if conversation is None:
        title = " ".join(message.split())[:200]
        conversation = Conversation(user_id=principal.user_id, title=title)
        session.add(conversation)
        session.flush()
    else:
        repository.touch(session, conversation)
    session.add(Message(conversation_id=conversation.id, role="user", content=message,
                        query=query))
    session.commit()
    return conversation.id


def save_answer(prepared: Prepared, answer: str, usage: dict[str, int],
                timings: dict[str, float]) -> int | None:
    """Store the answer with its sources (own session: a stream outlives its request's)."""
    if prepared.conversation_id is None:
        return None
    with get_sessionmaker()() as session:
        message = Message(
            conversation_id=prepared.conversation_id, role="assistant", content=answer,
            sources=[s.model_dump(mode="json") for s in prepared.sources],
            provider=prepared.llm.name, usage=usage, timings=timings,
        )
        session.add(message)
        conversation = session.get(Conversation, prepared.conversation_id)
        if conversation is not None:
            repository.touch(session, conversation)
        session.commit()
        return message.id


def list_conversations(session: Session, principal: Principal, limit: int,
                       offset: int) -> ConversationPage:
    rows, total = repository.list_conversations(session, principal.user_id, limit, offset)
    return ConversationPage(items=[_out(c) for c in rows], total=total, limit=limit,
                            offset=offset)


def get_conversation(session: Session, principal: Principal,
                     conversation_id: uuid.UUID) -> ConversationDetail:
    """The conversation with its messages; sources of documents the caller can no longer
    read (a share revoked since) are left out, and so is the text of an answer built on
    them."""
    conversation = repository.get_conversation(session, conversation_id, principal.user_id)
    if conversation is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    messages = repository.messages(session, conversation.id)
    readable = _readable_sources(session, principal, messages)
    out = [
        MessageOut(
            id=m.id, role=m.role, content=_visible_content(m, readable), query=m.query,
            sources=[s for s in m.sources if uuid.UUID(str(s["document_id"])) in readable],
            provider=m.provider, usage=m.usage, timings=m.timings, created_at=m.created_at,
        )
        for m in messages
    ]
    return ConversationDetail(**_out(conversation).model_dump(), messages=out)


def delete_conversation(session: Session, principal: Principal,
                        conversation_id: uuid.UUID) -> None:
    conversation = repository.get_conversation(session, conversation_id, principal.user_id)
    if conversation is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    repository.delete_conversation(session, conversation)
    session.commit()


def _out(c: Conversation) -> ConversationOut:
    return ConversationOut(id=c.id, title=c.title, created_at=c.created_at,
                           updated_at=c.updated_at)


def usage_of(llm: LLM) -> dict[str, Any]:
    return llm.usage.as_dict()
