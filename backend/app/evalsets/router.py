"""Golden sets of a collection: upload, list, delete, run. Each route calls one
app.evalsets.service function; routers never commit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, File, Form, Response, UploadFile, status
from sqlalchemy.orm import Session

from app.auth.principal import CurrentPrincipal
from app.core.db import get_db
from app.evalsets import service
from app.evalsets.models import EvalSet
from app.evalsets.parsing import MAX_FILE_BYTES
from app.evalsets.schemas import EvalSetOut, RunIn, RunOut

router = APIRouter(prefix="/api/v1/collections/{collection_id}/eval-sets", tags=["eval-sets"])
DB = Annotated[Session, Depends(get_db)]


def _out(row: EvalSet) -> EvalSetOut:
    return EvalSetOut(id=row.id, collection_id=row.collection_id, name=row.name,
                      match_by=row.match_by, queries=len(row.queries),
                      judgements=row.judgements, created_at=row.created_at)  # fmt: skip


def _read(upload: UploadFile) -> bytes:
    return upload.file.read(MAX_FILE_BYTES + 1)


@router.post("", response_model=EvalSetOut, status_code=status.HTTP_201_CREATED)
def create_eval_set(
    db: DB,
    principal: CurrentPrincipal,
    collection_id: uuid.UUID,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    queries: Annotated[UploadFile, File(description="queries.jsonl ({_id, text}) or TSV")],
    qrels: Annotated[UploadFile, File(description="TSV: query-id, corpus-id, score")],
    match_by: Annotated[
        str,
        Form(max_length=120, description="'filename' or 'metadata:<key>': what corpus-id names"),
    ] = "filename",
) -> EvalSetOut:
    """Upload a golden set (write access to the collection). Strictly checked: every judged
    query is in the queries file and every judged document is in the collection."""
    upload = service.Upload(
        name=name, match_by=match_by,
        queries=_read(queries), queries_filename=queries.filename or "queries",
        qrels=_read(qrels), qrels_filename=qrels.filename or "qrels",
    )  # fmt: skip
    return _out(service.create(db, principal, collection_id, upload))


@router.get("", response_model=list[EvalSetOut])
def list_eval_sets(
    db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID
) -> list[EvalSetOut]:
    return [_out(row) for row in service.list_sets(db, principal, collection_id)]


@router.delete("/{set_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_eval_set(
    db: DB, principal: CurrentPrincipal, collection_id: uuid.UUID, set_id: uuid.UUID
) -> Response:
    service.delete(db, principal, collection_id, set_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{set_id}/run", response_model=RunOut)
def run_eval_set(
    db: DB,
    principal: CurrentPrincipal,
    collection_id: uuid.UUID,
    set_id: uuid.UUID,
    body: Annotated[RunIn | None, Body()] = None,
) -> RunOut:
    """nDCG@10, Recall@100 and MRR@10 of each search mode on this golden set, now (read
    access). Runs every judged query in every mode, so it takes a while on a large set."""
    modes: list[str] = list((body or RunIn()).modes)
    return RunOut.model_validate(service.run(db, principal, collection_id, set_id, modes))
