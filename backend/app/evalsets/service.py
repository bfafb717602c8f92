"""Golden sets: upload (write access; commits), list (read), delete (write; commits) and run
(read): every judged query through the search service in each mode, over that collection
only, scored with the eval harness's metrics (nDCG@10, Recall@100, MRR@10)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.collections import access
from app.collections import service as collections
from app.collections.models import Collection
from app.core.config import get_settings
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.eval.metrics import METRICS, evaluate_run, latency_summary
from app.evalsets import parsing, repository
from app.evalsets.models import EvalSet
from app.search import repository as search_repository
from app.search import service as search_service
from app.search.filters import SearchScope
from app.search.schemas import SearchRequest

MODES = ("vector", "lexical", "hybrid")
RUN_K = 100  # Recall@100 needs a hundred documents per query


@dataclass(frozen=True)
class Upload:
    name: str
    match_by: str
    queries: bytes
    queries_filename: str
    qrels: bytes
    qrels_filename: str


def _writable(session: Session, principal: Principal, collection_id: uuid.UUID) -> Collection:
    found = collections.get_readable(session, principal, collection_id)
    if not access.can_write(session, principal, found.id):
        raise Forbidden("This collection is shared with you read-only.")
    return found


def _metadata_key(match_by: str) -> str | None:
    if match_by == "filename":
        return None
    prefix, _, key = match_by.partition(":")
    if prefix != "metadata" or not key.strip() or len(key) > 100:
        raise Unprocessable(
            "match_by is 'filename' or 'metadata:<key>' (a key of the documents' metadata).",
            code="invalid_eval_set",
        )
    return key.strip()


def resolve(
    session: Session, collection_id: uuid.UUID, match_by: str, qrels: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """The judgements with each document reference replaced by the Cairn document id.

    `filename`: a reference names a document's filename, or its filename without the last
    extension (`cairn eval` uploads BEIR id `X` as `X.txt`). `metadata:<key>`: it equals the
    text of that metadata key. A reference that matches no document, or several, is a 422.
    """
    key = _metadata_key(match_by)
    index: dict[str, set[uuid.UUID]] = {}
    stems: dict[str, set[uuid.UUID]] = {}
    for doc_id, value, filename in repository.document_refs(session, collection_id, key):
        if key is None:
            index.setdefault(filename, set()).add(doc_id)
            stems.setdefault(PurePosixPath(filename).stem, set()).add(doc_id)
        elif value is not None:
            index.setdefault(value, set()).add(doc_id)
    unknown: list[str] = []
    ambiguous: list[str] = []
    resolved: dict[str, dict[str, int]] = {}
    for qid, docs in qrels.items():
        for ref, grade in docs.items():
            ids = index.get(ref) or stems.get(ref) or set()
            if not ids:
                unknown.append(ref)
            elif len(ids) > 1:
                ambiguous.append(ref)
            else:
                doc = str(next(iter(ids)))
                judged = resolved.setdefault(qid, {})
                judged[doc] = max(grade, judged.get(doc, grade))
    if unknown:
        raise Unprocessable(
            f"{len(unknown)} judged documents match no document of this collection "
            f"(by {match_by}).",
            code="unknown_documents",
            details={"count": len(unknown), "examples": sorted(set(unknown))[:20]},
        )
    if ambiguous:
        raise Unprocessable(
            f"{len(ambiguous)} judged documents match several documents (by {match_by}); "
            "match by a metadata key that is unique instead.",
            code="ambiguous_documents",
            details={"count": len(ambiguous), "examples": sorted(set(ambiguous))[:20]},
        )
    return resolved


def create(
    session: Session, principal: Principal, collection_id: uuid.UUID, upload: Upload
) -> EvalSet:
    collection = _writable(session, principal, collection_id)
    name = upload.name.strip()
    if not name or len(name) > 200:
        raise Unprocessable("An eval set name is 1 to 200 characters.", code="invalid_eval_set")
    _metadata_key(upload.match_by)
    queries = parsing.parse_queries(
        parsing.decode(upload.queries, upload.queries_filename), upload.queries_filename
    )
    qrels = parsing.parse_judgements(
        parsing.decode(upload.qrels, upload.qrels_filename), upload.qrels_filename
    )
    judged = parsing.judged_queries(queries, qrels)
    resolved = resolve(session, collection.id, upload.match_by, qrels)
    if repository.named(session, collection.id, name) is not None:
        raise Conflict(f"This collection already has an eval set named {name!r}.")
    row = EvalSet(
        id=uuid.uuid4(), collection_id=collection.id, name=name, match_by=upload.match_by,
        queries=judged, qrels=resolved, judgements=sum(len(d) for d in qrels.values()),
        created_by=principal.user_id,
    )  # fmt: skip
    session.add(row)
    session.commit()
    return row


def list_sets(session: Session, principal: Principal, collection_id: uuid.UUID) -> list[EvalSet]:
    collection = collections.get_readable(session, principal, collection_id)
    return repository.of_collection(session, collection.id)


def _get(
    session: Session, principal: Principal, collection_id: uuid.UUID, set_id: uuid.UUID
) -> tuple[Collection, EvalSet]:
    collection = collections.get_readable(session, principal, collection_id)
    row = repository.by_id(session, collection.id, set_id)
    if row is None:
        raise NotFound(f"No eval set {set_id} in this collection.")
    return collection, row


def delete(
    session: Session, principal: Principal, collection_id: uuid.UUID, set_id: uuid.UUID
) -> None:
    _writable(session, principal, collection_id)
    _, row = _get(session, principal, collection_id, set_id)
    session.delete(row)
    session.commit()


def run(
    session: Session,
    principal: Principal,
    collection_id: uuid.UUID,
    set_id: uuid.UUID,
    modes: list[str],
) -> dict[str, Any]:
    """Each judged query in each mode over this collection; metrics and latency per mode."""
    collection, row = _get(session, principal, collection_id, set_id)
    k = min(RUN_K, get_settings().search_max_k)
    qrels: dict[str, dict[str, int]] = {
        q: {d: int(g) for d, g in docs.items()} for q, docs in row.qrels.items()
    }
    report: dict[str, Any] = {}
    for mode in modes:
        rankings: dict[str, list[str]] = {}
        latencies: list[float] = []
        errors = 0
        for qid, query in row.queries.items():
            start = time.perf_counter()
            try:
                request = SearchRequest(query=str(query), k=k, mode=mode, group_by="document")
            except ValidationError:
                errors += 1  # the query no longer fits the search limits
                continue
            candidates = search_service.retrieve(
                session, request, principal, scope=SearchScope([collection.id])
            )[:k]
            document_of = search_repository.documents_of(session, [c.chunk_id for c in candidates])
            rankings[qid] = [
                str(document_of[c.chunk_id]) for c in candidates if c.chunk_id in document_of
            ]
            latencies.append((time.perf_counter() - start) * 1000)
        means, _ = evaluate_run(qrels, rankings)
        report[mode] = {
            **{m: round(means[m], 6) for m in METRICS},
            "queries": len(qrels),
            "errors": errors,
            "latency": latency_summary(latencies),
        }
    return {"eval_set_id": row.id, "name": row.name, "collection_id": collection.id, "k": k,
            "modes": report}  # fmt: skip
