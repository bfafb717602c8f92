"""The ingest stage becomes a state machine the database enforces, and a failed document
carries a stable error code beside its plain reason.

- `documents.error_code`: e.g. parse_failed, original_missing, embedding_failed, timed_out,
  gave_up, dead_lettered (see app.documents.errors).
- CHECK constraints: `stage` is one of the known stages (app.documents.stages.IngestStage),
  and `status` agrees with it (queued: queued/waiting_for_queue/retrying; processing:
  fetching..writing; ready: done; failed: failed). Existing rows are normalised first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = (
    "queued", "waiting_for_queue", "retrying", "fetching", "parsing", "chunking", "embedding",
    "writing", "done", "failed",
)
STATUS_STAGES = {
    "queued": ("queued", "waiting_for_queue", "retrying"),
    "processing": ("fetching", "parsing", "chunking", "embedding", "writing"),
    "ready": ("done",),
    "failed": ("failed",),
}


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.add_column("documents", sa.Column("error_code", sa.String(64)))
    # Normalise rows written before the state machine existed.
    op.execute("UPDATE documents SET stage = 'done' WHERE status = 'ready'")
    op.execute(
        "UPDATE documents SET stage = 'failed', error_code = 'failed' WHERE status = 'failed'"
    )
    op.execute(
        f"UPDATE documents SET stage = 'queued' WHERE status = 'queued' "
        f"AND stage NOT IN ({_in(STATUS_STAGES['queued'])})"
    )
    op.execute(
        f"UPDATE documents SET stage = 'fetching' WHERE status = 'processing' "
        f"AND stage NOT IN ({_in(STATUS_STAGES['processing'])})"
    )
    op.create_check_constraint(op.f("ck_documents_stage_known"), "documents", f"stage IN ({_in(STAGES)})")
    agreement = " OR ".join(
        f"(status = '{status}' AND stage IN ({_in(stages)}))"
        for status, stages in STATUS_STAGES.items()
    )
    op.create_check_constraint(op.f("ck_documents_stage_matches_status"), "documents", agreement)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_documents_stage_matches_status"), "documents", type_="check")
    op.drop_constraint(op.f("ck_documents_stage_known"), "documents", type_="check")
    op.drop_column("documents", "error_code")
