"""The embedded Postgres analyzes new rows within seconds (core/embedded.py): until the first
ANALYZE after a bulk upload the planner has no statistics for the rows, and searches right
after the upload took ~5x as long (README, Performance)."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import Engine, text


def _engine() -> Engine:
    from app.core.db import get_engine

    return get_engine()


def _last_autoanalyze(engine: Engine, table: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT last_autoanalyze FROM pg_stat_user_tables WHERE relname = :t"),
            {"t": table}).scalar_one_or_none()


def test_the_embedded_postgres_looks_for_tables_to_analyze_every_five_seconds() -> None:
    from app.core.embedded import AUTOVACUUM_NAPTIME

    with _engine().connect() as conn:
        assert conn.execute(text("SHOW autovacuum_naptime")).scalar_one() == AUTOVACUUM_NAPTIME
        assert conn.execute(text("SHOW autovacuum")).scalar_one() == "on"


def test_rows_written_in_bulk_have_statistics_within_seconds() -> None:
    table = f"stats_probe_{uuid.uuid4().hex[:8]}"
    engine = _engine()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id int, kind text)"))
    try:
        with engine.connect() as conn:
            # never analyzed: Postgres knows nothing of its rows
            assert conn.execute(text(
                "SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}
            ).scalar_one() < 0
        with engine.begin() as conn:
            conn.execute(text(
                f"INSERT INTO {table} SELECT g, CASE WHEN g % 10 = 0 THEN 'rare' ELSE 'common' "
                "END FROM generate_series(1, 5000) g"))
        deadline = time.monotonic() + 20  # naptime 5 s (at the default, up to a minute)
        analyzed = None
        while time.monotonic() < deadline:
            analyzed = _last_autoanalyze(engine, table)
            if analyzed is not None:
                break
            time.sleep(0.5)
        assert analyzed is not None, "autovacuum did not analyze the new rows in 20 s"
        with engine.connect() as conn:
            reltuples = conn.execute(text(
                "SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar_one()
            plan = conn.execute(text(
                f"EXPLAIN (FORMAT JSON) SELECT * FROM {table} WHERE kind = 'rare'")).scalar_one()
        assert reltuples == 5000
        # the planner now knows how rare the value is (a tenth), not a default guess
        assert 400 <= plan[0]["Plan"]["Plan Rows"] <= 600
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))


def test_a_table_left_alone_is_not_analyzed() -> None:
    """Only written rows bring autovacuum: an empty table stays without statistics (the
    probe above is not passing by an ANALYZE of everything)."""
    table = f"stats_idle_{uuid.uuid4().hex[:8]}"
    engine = _engine()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {table} (id int)"))
    try:
        time.sleep(6)  # longer than one naptime
        assert _last_autoanalyze(engine, table) is None
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {table}"))
