"""Eval-set request and response shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Mode = Literal["vector", "lexical", "hybrid"]


class EvalSetOut(BaseModel):
    id: uuid.UUID
    collection_id: uuid.UUID
    name: str
    match_by: str
    queries: int  # judged queries
    judgements: int
    created_at: datetime


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    modes: list[Mode] = Field(default=["vector", "lexical", "hybrid"], min_length=1, max_length=3)


class LatencyOut(BaseModel):
    p50_ms: float | None
    p95_ms: float | None
    mean_ms: float | None


class ModeResult(BaseModel):
    ndcg_at_10: float = Field(alias="ndcg@10")
    recall_at_100: float = Field(alias="recall@100")
    mrr_at_10: float = Field(alias="mrr@10")
    queries: int
    errors: int  # queries that could not be searched (e.g. longer than the search limit now)
    latency: LatencyOut  # per query, inside the server

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class RunOut(BaseModel):
    eval_set_id: uuid.UUID
    name: str
    collection_id: uuid.UUID
    k: int
    modes: dict[str, ModeResult]
