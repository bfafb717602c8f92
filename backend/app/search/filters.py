"""Which chunks a search may see, as one SQL condition over `chunks c JOIN documents d`.

Every retriever puts this condition inside its own query (never a post-filter), so filters
and access rules cannot truncate results. Only `ready` documents are ever visible; deleted
documents have no rows left.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.labels.repository import documents_labelled_sql


@dataclass
class SearchScope:
    # The collections searched: always a subset of what the caller may read. Required: an
    # unscoped search cannot be expressed.
    collection_ids: list[uuid.UUID]
    document_ids: list[uuid.UUID] | None = None
    content_types: list[str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    metadata: dict[str, Any] | None = None  # JSONB containment
    # {kind: [values]}: an active label of one of the values, for every kind (an EXISTS over
    # labels inside the retriever's query, like every other filter).
    labels: dict[str, list[str]] | None = None
    label_min_confidence: float = 0.0
    # Chunk rows only (INDEX_GRANULARITY=chunk, search/granularity.py). Not a filter of what
    # the user sees: the collections' chunk counts and the BM25 postings already count chunk
    # rows only, so the retrievers' shortcuts for an unfiltered scope still hold.
    chunks_only: bool = False

    def collections_only(self) -> bool:
        """True when nothing but the collections narrows the scope (no filter;
        `chunks_only` aside)."""
        return (self.document_ids is None and self.content_types is None
                and self.created_after is None and self.created_before is None
                and not self.metadata and not self.labels)  # fmt: skip

    def sql(self) -> tuple[str, dict[str, Any]]:
        clauses = ["d.status = 'ready'"]
        params: dict[str, Any] = {}
        clauses.append("c.collection_id = ANY(:scope_collections)")
        params["scope_collections"] = list(self.collection_ids)
        if self.document_ids is not None:
            clauses.append("c.document_id = ANY(:scope_documents)")
            params["scope_documents"] = list(self.document_ids)
        if self.content_types is not None:
            clauses.append("d.content_type = ANY(:scope_content_types)")
            params["scope_content_types"] = list(self.content_types)
        if self.created_after is not None:
            clauses.append("d.created_at >= :scope_created_after")
            params["scope_created_after"] = self.created_after
        if self.created_before is not None:
            clauses.append("d.created_at < :scope_created_before")
            params["scope_created_before"] = self.created_before
        if self.metadata:
            clauses.append("d.metadata @> CAST(:scope_metadata AS jsonb)")
            params["scope_metadata"] = json.dumps(self.metadata)
        if self.labels:
            for clause, clause_params in documents_labelled_sql(
                self.labels, self.label_min_confidence
            ):
                clauses.append(clause)
                params.update(clause_params)
        if self.chunks_only:
            clauses.append("c.granularity = 'chunk'")
        return " AND ".join(clauses), params
