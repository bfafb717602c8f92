"""Request and response shapes of the labels API (see notes: the contract with the web app)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.errors import Unprocessable

KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


def _not_blank(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must contain a non-blank character")
    return value


class LabelOut(BaseModel):
    id: int
    kind: str
    value: str
    confidence: float
    source: Literal["model", "human"]
    status: Literal["active", "rejected"]
    model_name: str | None
    model_version: str | None
    chunk_id: int | None
    created_at: datetime


class LabelerOut(BaseModel):
    name: str
    status: Literal["pending", "running", "done", "failed"]
    error: str | None
    ms: float | None
    finished_at: datetime | None


class DocumentLabels(BaseModel):
    labels: list[LabelOut]
    labelers: list[LabelerOut]


class LabelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern=KIND_PATTERN, description="lower-case letters, digits, _")
    value: str = Field(min_length=1, max_length=200)

    _value = field_validator("value")(_not_blank)


class LabelCount(BaseModel):
    kind: str
    value: str
    count: int


class LabelCounts(BaseModel):
    labels: list[LabelCount]


class ReviewItem(LabelOut):
    document_id: uuid.UUID
    filename: str
    collection: str


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    total: int


class TaxonomyLabel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=1000)

    _clean = field_validator("value", "description")(_not_blank)


class TaxonomyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labels: list[TaxonomyLabel] = Field(min_length=1, max_length=100)

    @field_validator("labels")
    @classmethod
    def _unique(cls, labels: list[TaxonomyLabel]) -> list[TaxonomyLabel]:
        values = [label.value for label in labels]
        if len(set(values)) != len(values):
            raise ValueError("each label value may appear only once")
        return labels


class TaxonomyOut(BaseModel):
    version: int
    labels: list[TaxonomyLabel]


class RelabelOut(BaseModel):
    job_id: str
    status: Literal["queued", "running", "done", "failed"]


class JobOut(RelabelOut):
    done: int
    total: int
    error: str | None


def parse_label_params(params: list[str] | None) -> dict[str, list[str]] | None:
    """`?label=kind:value` (repeatable) → {kind: [values]}: any value per kind, every kind."""
    if not params:
        return None
    out: dict[str, list[str]] = {}
    for param in params:
        kind, sep, value = param.partition(":")
        value = " ".join(value.split())
        if not sep or not value or not _valid_kind(kind):
            raise Unprocessable(f"label must be kind:value (got {param[:100]!r}).")
        out.setdefault(kind, []).append(value)
    return out


def _valid_kind(kind: str) -> bool:
    import re

    return re.fullmatch(KIND_PATTERN, kind) is not None
