"""Database engine and sessions (SQLAlchemy 2.0, psycopg 3, sync).

The API runs its sync endpoints in FastAPI's threadpool; the Celery worker uses the same
session factory, so there is one way to talk to the database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import CheckConstraint, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.core.config import get_settings
from app.core.logging import get_logger
from app.core.once import build_once

log = get_logger(__name__)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def one_of(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    """CHECK that `column` holds one of the enum's values (constraint named after it), so
    the database and the Python enum can never list different values."""
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


@build_once  # one engine (one pool) per process, even when threads first ask together
def get_engine() -> Engine:
    settings = get_settings()
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
        # Errors (and so logs) never carry the SQL's bound values: they can be user data.
        hide_parameters=True,
    )
    timeout = settings.db_statement_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {int(timeout)}")
        dbapi_conn.commit()
        raise_malloc_threshold(dbapi_conn)

    return engine


# glibc hands a freed block of at least its mmap threshold (128 KB at first) back to the
# kernel, and raises the threshold to the size of the largest such block freed. A pgvector
# HNSW insert builds a few MB of search state in blocks above 128 KB and frees them when it
# ends, so until its backend has freed one bigger block every row inserted maps and zero-fills
# ~4 MB afresh (~950 page faults a row). One 16 MB value made and dropped at connect raises the
# backend's threshold for good: 2,363 MiniLM vectors took 3.3-4.0 ms of backend CPU a row
# before, 1.3-1.5 ms after (README, Performance → Ingest). Other allocators ignore it. The
# value is built from 1 KB pieces and measured in bytes: 10-20 ms of backend CPU a connection,
# against 70-100 ms for one character repeated 16 M times and counted in characters.
MALLOC_WARM_UP_SQL = "SELECT octet_length(repeat(repeat(' ', 1024), 16384))"


def raise_malloc_threshold(dbapi_conn: Any) -> None:
    """Run MALLOC_WARM_UP_SQL on a new connection; a failure only costs the speed-up."""
    try:
        with dbapi_conn.cursor() as cur:
            cur.execute(MALLOC_WARM_UP_SQL)
        dbapi_conn.commit()
    except psycopg.Error as exc:
        dbapi_conn.rollback()
        log.warning("db.malloc_warm_up_failed", error=str(exc))


@build_once
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_db() -> Iterator[Session]:
    """FastAPI dependency: one session per request, committed by the service layer."""
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


def reset_engine() -> None:
    """Forget the cached engine (tests and the CLI point the app at another database)."""
    for engine in get_engine.built():
        engine.dispose()
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
