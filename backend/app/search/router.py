"""POST /api/v1/search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.core.db import get_db
from app.search import service
from app.search.schemas import SearchRequest, SearchResponse

router = APIRouter(prefix="/api/v1/search", tags=["search"])


@router.post("", response_model=SearchResponse)
def search(db: Annotated[Session, Depends(get_db)], request: SearchRequest) -> SearchResponse:
    return service.search(db, request)
