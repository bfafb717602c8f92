"""Generation as a sequence of events, the same for SSE and for the one-JSON answer:

    retrieval (sources) → token* / citation* → done (answer, usage, timings) | error

Cancelling the consumer (client disconnect) cancels the provider's stream, which closes
its HTTP response and stops the generation; nothing is stored for an interrupted answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from app.chat import service
from app.chat.citations import CitationFilter
from app.chat.errors import llm_event_error
from app.chat.prompts import PROMPT_VERSION
from app.chat.schemas import ChatAnswer, Citation
from app.providers.llm import Generation, LLMError


@dataclass
class Event:
    name: str  # retrieval | token | citation | done | error
    data: dict[str, Any]


async def events(prepared: service.Prepared) -> AsyncIterator[Event]:
    by_n = {s.n: s for s in prepared.sources}
    yield Event("retrieval", {
        "conversation_id": str(prepared.conversation_id) if prepared.conversation_id else None,
        "query": prepared.query,
        "sources": [s.model_dump(mode="json") for s in prepared.sources],
    })
    filt = CitationFilter(set(by_n))
    parts: list[str] = []
    first_token: float | None = None
    gen_start = time.perf_counter()
    llm = prepared.llm

    def emit(text: str, cited: list[int]) -> list[Event]:
        out = []
        if text:
            parts.append(text)
            out.append(Event("token", {"text": text}))
        for n in cited:
            citation = Citation(marker=f"[{n}]", n=n, source=by_n[n])
            out.append(Event("citation", citation.model_dump(mode="json")))
        return out

    if prepared.not_found:
        first_token = time.perf_counter()
        for ev in emit(service.NOT_FOUND, []):
            yield ev
    else:
        try:
            generation = Generation(prepared.messages, prepared.question, prepared.passages,
                                    prepared.max_tokens, prepared.temperature)
            async for delta in llm.stream(generation):
                if first_token is None:
                    first_token = time.perf_counter()
                for ev in emit(*filt.feed(delta)):
                    yield ev
        except LLMError as exc:
            yield Event("error", llm_event_error(exc))
            return
        for ev in emit(*filt.flush()):
            yield ev
    now = time.perf_counter()
    timings = dict(prepared.timings)
    timings["first_token_ms"] = round(((first_token or now) - prepared.started) * 1000, 1)
    timings["generation_ms"] = round((now - gen_start) * 1000, 1)
    timings["total_ms"] = round((now - prepared.started) * 1000, 1)
    answer = "".join(parts).strip()
    usage = service.usage_of(llm)
    message_id = await asyncio.to_thread(service.save_answer, prepared, answer, usage, timings)
    yield Event("done", {
        "conversation_id": str(prepared.conversation_id) if prepared.conversation_id else None,
        "message_id": message_id,
        "answer": answer,
        "provider": llm.name,
        "prompt": PROMPT_VERSION,
        "not_found": prepared.not_found,
        "cited": filt.cited,
        "invalid_citations": filt.invalid,
        "usage": usage,
        "timings": timings,
    })


async def collect(prepared: service.Prepared) -> ChatAnswer | dict[str, Any]:
    """The whole answer as one object, or the error event's data."""
    citations: list[Citation] = []
    done: dict[str, Any] = {}
    async for ev in events(prepared):
        if ev.name == "error":
            return ev.data
        if ev.name == "citation":
            citations.append(Citation.model_validate(ev.data))
        if ev.name == "done":
            done = ev.data
    return ChatAnswer(
        conversation_id=prepared.conversation_id, message_id=done.get("message_id"),
        query=prepared.query, answer=done["answer"], provider=done["provider"],
        not_found=done["not_found"], sources=prepared.sources, citations=citations,
        invalid_citations=done["invalid_citations"], usage=done["usage"],
        timings=done["timings"],
    )
