"""POST /api/v1/chat (SSE or one JSON) and the caller's conversations."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse

from app.auth.principal import CurrentPrincipal
from app.auth.ratelimit import enforce, identity
from app.chat import answer, service
from app.chat.errors import BadGateway, GatewayTimeout
from app.chat.schemas import ChatAnswer, ChatRequest, ConversationDetail, ConversationPage
from app.core.config import get_settings
from app.core.db import get_db

router = APIRouter(tags=["chat"])


def limit_chat(request: Request, principal: CurrentPrincipal) -> None:
    enforce("chat", get_settings().rate_limit_chat, identity(request, principal))


async def sse(prepared: service.Prepared) -> AsyncIterator[dict[str, Any]]:
    async for ev in answer.events(prepared):
        yield {"event": ev.name, "data": json.dumps(ev.data)}


@router.post(
    "/api/v1/chat",
    response_model=ChatAnswer,
    dependencies=[Depends(limit_chat)],
    responses={
        200: {"description": "The answer; with stream=true, text/event-stream events "
                             "retrieval, token, citation, done, error."},
        404: {"description": "A named collection or the conversation does not exist "
                             "(or is not yours)."},
        502: {"description": "The language model failed."},
        504: {"description": "The language model did not answer in time."},
    },
)
async def chat(db: Annotated[Session, Depends(get_db)], principal: CurrentPrincipal,
               request: ChatRequest) -> Any:
    """Ask a question; the answer cites the retrieved passages as [n]."""
    prepared = await service.prepare(db, principal, request)
    if request.stream:
        return EventSourceResponse(sse(prepared), ping=15)
    result = await answer.collect(prepared)
    if isinstance(result, dict):
        error = GatewayTimeout if result["code"] == GatewayTimeout.code else BadGateway
        raise error(str(result["message"]))
    return result


@router.get("/api/v1/conversations", response_model=ConversationPage)
def list_conversations(
    db: Annotated[Session, Depends(get_db)], principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConversationPage:
    return service.list_conversations(db, principal, limit, offset)


@router.get("/api/v1/conversations/{conversation_id}", response_model=ConversationDetail)
def get_conversation(db: Annotated[Session, Depends(get_db)], principal: CurrentPrincipal,
                     conversation_id: uuid.UUID) -> ConversationDetail:
    return service.get_conversation(db, principal, conversation_id)


@router.delete("/api/v1/conversations/{conversation_id}", status_code=204)
def delete_conversation(db: Annotated[Session, Depends(get_db)], principal: CurrentPrincipal,
                        conversation_id: uuid.UUID) -> Response:
    service.delete_conversation(db, principal, conversation_id)
    return Response(status_code=204)
