"""GET /api/v1/events: the caller's document status changes as server-sent events."""

from __future__ import annotations

from fastapi import APIRouter
from sse_starlette import EventSourceResponse

from app.auth.principal import CurrentPrincipal
from app.events import service

router = APIRouter(tags=["events"])


@router.get(
    "/api/v1/events",
    responses={200: {"description": "text/event-stream: `ready` once, then `document` "
                                    "events (id, status, stage, error_code, error, "
                                    "chunk_count, timings) for documents you may read, "
                                    "`deleted` events (id, collection_id) when one is "
                                    "deleted; a comment ping every 15 s.",
                     "content": {"text/event-stream": {}}}},
)
async def events(principal: CurrentPrincipal) -> EventSourceResponse:
    """Live document status, stage and per-stage timings (send the Authorization header)."""
    return EventSourceResponse(service.stream(principal), ping=15)
