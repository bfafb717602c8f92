"""New database connections: the backend's malloc threshold is raised at connect (core/db.py),
so pgvector's HNSW inserts stop mapping fresh memory for every row; a failing warm-up costs
only that speed-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from sqlalchemy import text

from app.core import db as core_db
from app.core.config import get_settings

ROWS, PER_COMMIT, MEASURED_FROM = 300, 3, 100


def _minor_faults(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt: pages mapped in without reading from disk


def _raw_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(get_settings().database_url.replace("postgresql+psycopg", "postgresql"))


def _faults_per_row(conn: Any, table: str) -> float:
    """Insert ROWS vectors into a fresh HNSW-indexed table as the worker does (a COPY and a
    commit per few rows); page faults of the backend per row after the first MEASURED_FROM."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(ROWS, 384)).astype(np.float32)
    with conn.cursor() as cur:
        pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]
        cur.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, embedding vector(384))")
        cur.execute(f"CREATE INDEX ON {table} USING hnsw (embedding vector_cosine_ops) "
                    "WITH (m = 16, ef_construction = 128)")
        conn.commit()
        start = 0
        for i in range(0, ROWS, PER_COMMIT):
            if i == MEASURED_FROM:
                start = _minor_faults(pid)
            with cur.copy(f"COPY {table} (embedding) FROM STDIN") as copy:
                for vector in vectors[i : i + PER_COMMIT]:
                    copy.write_row([str(vector.tolist())])
            conn.commit()
        faults = _minor_faults(pid) - start
        cur.execute(f"DROP TABLE {table}")
        conn.commit()
    return faults / (ROWS - MEASURED_FROM)


@pytest.fixture
def engine_connection() -> Iterator[Any]:
    """A new backend connected the app's way: an engine built as the app builds it (its
    connect hook runs), not a connection reused from the shared pool."""
    engine = core_db.get_engine.__wrapped__()
    fairy = engine.raw_connection()
    try:
        yield fairy.driver_connection
    finally:
        fairy.close()
        engine.dispose()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="page faults read from /proc")
def test_an_app_connection_inserts_hnsw_rows_without_mapping_memory_per_row(
    engine_connection: Any,
) -> None:
    with _raw_connection() as plain:
        if not os.access(f"/proc/{plain.info.backend_pid}/stat", os.R_OK):
            pytest.skip("the Postgres backend's /proc entry is not readable here")
        before = _faults_per_row(plain, "malloc_plain")
    if before < 300:
        pytest.skip(f"this allocator does not map per insert ({before:.0f} faults a row)")
    after = _faults_per_row(engine_connection, "malloc_app")
    # measured: ~950 faults a row without the warm-up, under 10 with it
    assert after < before / 10, (before, after)


def test_a_failing_warm_up_leaves_the_connection_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_db, "MALLOC_WARM_UP_SQL", "SELECT 1 / 0")
    with _raw_connection() as conn:
        core_db.raise_malloc_threshold(conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 41 + 1").fetchone() == (42,)


def test_a_failing_warm_up_keeps_the_statement_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_db, "MALLOC_WARM_UP_SQL", "SELECT pg_sleep(5)")
    with _raw_connection() as conn:
        conn.execute("SET statement_timeout = 50")
        conn.commit()
        core_db.raise_malloc_threshold(conn)  # cancelled by the timeout: a psycopg error
        assert conn.execute("SHOW statement_timeout").fetchone() == ("50ms",)


def test_app_sessions_still_get_the_statement_timeout(db: Any) -> None:
    shown = db.execute(text("SHOW statement_timeout")).scalar_one()
    assert shown == f"{get_settings().db_statement_timeout_ms // 1000}s"
