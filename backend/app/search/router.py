"""POST /api/v1/search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.auth.ratelimit import limit_search
from app.core.db import get_db
from app.search import service
from app.search.schemas import SearchRequest, SearchResponse

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.post(
    "",
    response_model=SearchResponse,
    dependencies=[Depends(limit_search)],
    responses={404: {"description": "A named collection does not exist (or is not yours)."}},
)
def search(
    db: Annotated[Session, Depends(get_db)], principal: CurrentPrincipal, request: SearchRequest
) -> SearchResponse:
    """Hybrid (default), vector or lexical search over the collections the caller may read."""
    return service.search(db, request, principal)
