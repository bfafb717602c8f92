"""The OpenAI-compatible door (outside /api/v1): Cairn API keys as the bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.chat import openai_door
from app.chat.router import limit_chat
from app.core.db import get_db

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


@router.get("/models")
def list_models(db: Annotated[Session, Depends(get_db)],
                principal: CurrentPrincipal) -> dict[str, Any]:
    """`cairn` (everything the caller may read) and `cairn:<collection>` for each collection."""
    return openai_door.models(db, principal)


@router.post("/chat/completions", dependencies=[Depends(limit_chat)])
async def chat_completions(db: Annotated[Session, Depends(get_db)], principal: CurrentPrincipal,
                           body: openai_door.OAIChatRequest) -> Any:
    """An answer grounded in the scope's documents, with [n] markers and `sources`."""
    prepared = await openai_door.prepare(db, principal, body)
    if body.stream:
        return StreamingResponse(openai_door.chunks(prepared, body.model),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return await openai_door.completion(prepared, body.model)
