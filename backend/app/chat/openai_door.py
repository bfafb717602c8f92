"""Cairn as an OpenAI-compatible model: /v1/models and /v1/chat/completions.

A model is Cairn over a scope: `cairn` (every collection the caller may read) or
`cairn:<collection name>`. The last user message is the question, earlier messages are the
conversation (nothing is stored: the client keeps the history). The answer's text carries
the [n] markers; the sources come in the extra field `sources` (and `citations`), on the
response or, streamed, on the first and last chunk.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.chat import answer, service
from app.chat.errors import BadGateway, GatewayTimeout
from app.chat.schemas import ChatAnswer, ChatRequest
from app.collections import service as collections
from app.core.errors import Unprocessable
from app.providers.llm import ChatMessage

MODEL = "cairn"


class OAIMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class OAIChatRequest(BaseModel):
    # Clients send many OpenAI parameters (top_p, n, user, ...): accepted and ignored.
    model_config = ConfigDict(extra="allow")

    model: str = MODEL
    messages: list[OAIMessage] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)


def models(session: Session, principal: Principal) -> dict[str, Any]:
    names = dict.fromkeys(v.collection.name for v in collections.list_visible(session, principal))
    ids = [MODEL, *(f"{MODEL}:{n}" for n in names)]
    return {"object": "list",
            "data": [{"id": i, "object": "model", "created": 0, "owned_by": "cairn"} for i in ids]}


def to_chat_request(body: OAIChatRequest) -> tuple[ChatRequest, list[ChatMessage]]:
    if body.model != MODEL and not body.model.startswith(MODEL + ":"):
        raise Unprocessable(f"Unknown model {body.model!r}: use 'cairn' or 'cairn:<collection>' "
                            "(GET /v1/models).", code="unknown_model")
    collection = body.model.split(":", 1)[1] if ":" in body.model else None
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise Unprocessable("The last message must be the user's question.",
                            code="validation_error")
    try:
        request = ChatRequest(message=turns[-1].text(), collection=collection or None)
    except ValidationError as exc:
        raise Unprocessable("The question is not valid: " + exc.errors()[0]["msg"]) from exc
    history = [ChatMessage(m.role, m.text()) for m in turns[:-1]]
    return request, history


async def prepare(session: Session, principal: Principal,
                  body: OAIChatRequest) -> service.Prepared:
    request, history = to_chat_request(body)
    prepared = await service.prepare(session, principal, request, history=history,
                                     persist=False)
    prepared.max_tokens, prepared.temperature = body.max_tokens, body.temperature
    return prepared


def _sources(prepared: service.Prepared) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in prepared.sources]


async def completion(prepared: service.Prepared, model: str) -> dict[str, Any]:
    result = await answer.collect(prepared)
    if not isinstance(result, ChatAnswer):
        error = GatewayTimeout if result["code"] == GatewayTimeout.code else BadGateway
        raise error(str(result["message"]))
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion",
        "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": result.answer}}],
        "usage": result.usage or {"prompt_tokens": 0, "completion_tokens": 0,
                                  "total_tokens": 0},
        "sources": _sources(prepared),
        "citations": [c.model_dump(mode="json") for c in result.citations],
        "not_found": result.not_found,
    }


async def chunks(prepared: service.Prepared, model: str) -> AsyncIterator[str]:
    """`data:` lines of chat.completion.chunk objects, then `data: [DONE]`."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def line(obj: dict[str, Any]) -> str:
        return f"data: {json.dumps(obj)}\n\n"

    yield line({**base, "sources": _sources(prepared),
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                             "finish_reason": None}]})
    citations: list[dict[str, Any]] = []
    async for ev in answer.events(prepared):
        if ev.name == "token":
            yield line({**base, "choices": [{"index": 0, "delta": {"content": ev.data["text"]},
                                             "finish_reason": None}]})
        elif ev.name == "citation":
            citations.append(ev.data)
        elif ev.name == "error":
            yield line({"error": {"message": ev.data["message"], "type": ev.data["code"],
                                  "code": ev.data["code"]}})
            break
        elif ev.name == "done":
            yield line({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                        "usage": ev.data["usage"], "sources": _sources(prepared),
                        "citations": citations, "not_found": ev.data["not_found"]})
    yield "data: [DONE]\n\n"
