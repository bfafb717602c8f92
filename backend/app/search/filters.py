"""Which chunks a search may see, as one SQL condition over `chunks c JOIN documents d`.

Every retriever puts this condition inside its own query (never a post-filter), so filters
and access rules cannot truncate results.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SearchScope:
    collection_ids: list[uuid.UUID] | None = None  # None: every collection
    document_ids: list[uuid.UUID] | None = None
    extra: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def sql(self) -> tuple[str, dict[str, Any]]:
        clauses = ["d.status = 'ready'"]
        params: dict[str, Any] = {}
        if self.collection_ids is not None:
            clauses.append("c.collection_id = ANY(:scope_collections)")
            params["scope_collections"] = list(self.collection_ids)
        if self.document_ids is not None:
            clauses.append("c.document_id = ANY(:scope_documents)")
            params["scope_documents"] = list(self.document_ids)
        for clause, clause_params in self.extra:
            clauses.append(clause)
            params.update(clause_params)
        return " AND ".join(clauses), params
