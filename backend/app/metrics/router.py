"""GET /metrics: Prometheus exposition of the API (and, in multiprocess mode, the workers on
the same host). Who may read it: metrics/service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Response
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from sqlalchemy.orm import Session

from app.core.db import get_db
from app.metrics import service

router = APIRouter(tags=["metrics"])
# Made once per process: every app (tests make several) records into the same two metrics.
_REQUEST_METRICS = (
    metrics.requests(),
    metrics.latency(buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)),
)


@router.get("/metrics", response_class=Response, include_in_schema=False,
            responses={200: {"content": {"text/plain": {}}}, 401: {}, 403: {}})
def read_metrics(
    db: Annotated[Session, Depends(get_db)],
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    credential = None
    if authorization and authorization.lower().startswith("bearer "):
        credential = authorization[7:].strip() or None
    service.authorize_scrape(db, credential)
    body, content_type = service.scrape()
    return Response(body, media_type=content_type)


def instrument(app: FastAPI) -> None:
    """Request counts and latency by route template, method and status (unmatched paths are
    grouped as `none`, so a scan cannot blow up the label set)."""
    Instrumentator(
        should_group_status_codes=False,
        should_group_untemplated=True,
        excluded_handlers=["/metrics"],
    ).add(*_REQUEST_METRICS).instrument(app)
    app.include_router(router)
