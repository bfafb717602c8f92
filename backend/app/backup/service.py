"""Backups that restore.

backup: one REPEATABLE READ, READ ONLY transaction sees one snapshot of every table; each
table is copied out with COPY (text format, so pgvector's vectors and every other type round
trip exactly) into `db/<table>.copy`, then every original a document of that snapshot
references is copied from the object store into `objects/<key>` (content-addressed and never
rewritten, so the copy matches the snapshot). `manifest.json` records the schema revision,
each file's SHA-256, size and row count, and each object's content type.

restore: refuses a backup whose files do not match the manifest (before writing anything), a
schema revision other than the installation's, and an installation that is not empty (any
row in a backed-up table). Then it puts the objects, and loads every table with COPY in
foreign-key order in ONE transaction, and moves each sequence past the restored ids. Chunks
come back with their vectors and lexical postings, so search answers at once (the HNSW index
is maintained as the rows go in).

Run both with the API's settings (DATABASE_URL, the object store): `cairn backup /backups/x`.
Restore into an installation where `cairn migrate` has run and nothing else (before the API
first starts, or with ADMIN_EMAIL unset, so no first admin is created).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Engine, text

from app.core.errors import AppError
from app.storage import ObjectStore

FORMAT = 1
MANIFEST = "manifest.json"
SKIP_TABLES = frozenset({"alembic_version"})


class BackupError(AppError):
    status_code = 409

    def __init__(self, message: str, code: str = "backup_invalid") -> None:
        super().__init__(message, code=code)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables(conn: Connection) -> list[str]:
    """Every table of the public schema, parents before the tables that reference them."""
    names = [r[0] for r in conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
        if r[0] not in SKIP_TABLES]
    edges = conn.execute(text(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace")).all()
    parents: dict[str, set[str]] = {n: set() for n in names}
    for row in edges:
        child, parent = str(row[0]).strip('"'), str(row[1]).strip('"')
        if child in parents and parent in parents and child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(n for n, p in parents.items() if not p - set(ordered))
        if not ready:
            raise BackupError("The tables' foreign keys form a cycle.")
        ordered += ready
        for n in ready:
            del parents[n]
    return ordered


def _psycopg(conn: Connection) -> psycopg.Connection[Any]:
    """The driver's connection under SQLAlchemy's (COPY is psycopg's API)."""
    return cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)


def _revision(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def backup(engine: Engine, store: ObjectStore, dest: Path) -> dict[str, Any]:
    """Write a backup into `dest` (a new or empty directory); returns the manifest."""
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty.", code="backup_destination_not_empty")
    (dest / "db").mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {"format": FORMAT, "tables": {}, "objects": {}}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        conn.execute(text("SET TRANSACTION READ ONLY"))
        manifest["created_at"] = conn.execute(text("SELECT now()")).scalar_one().isoformat()
        manifest["revision"] = _revision(conn)
        raw = _psycopg(conn)
        for table in _tables(conn):
            path = dest / "db" / f"{table}.copy"
            rows = 0
            with path.open("wb") as out, raw.cursor() as cur, \
                    cur.copy(f'COPY "{table}" TO STDOUT') as copy:
                for block in copy:
                    data = bytes(block)
                    rows += data.count(b"\n")
                    out.write(data)
            manifest["tables"][table] = {"file": f"db/{table}.copy", "rows": rows,
                                         "sha256": _sha256_file(path),
                                         "bytes": path.stat().st_size}
        objects = conn.execute(text(
            "SELECT storage_key, content_type FROM documents UNION "
            "SELECT thumbnail_key, 'image/webp' FROM documents WHERE thumbnail_key IS NOT NULL"
        )).all()
    for key, content_type in ((str(k), str(c)) for k, c in objects):
        path = dest / "objects" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with store.open(key) as src, path.open("wb") as out:
            for block in iter(lambda: src.read(1 << 20), b""):
                out.write(block)
        manifest["objects"][key] = {"sha256": _sha256_file(path), "bytes": path.stat().st_size,
                                    "content_type": content_type}
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, dest / MANIFEST)  # a backup without its manifest is visibly incomplete
    return manifest


def verify(src: Path) -> dict[str, Any]:
    """The manifest, once every file it names matches its checksum (else BackupError)."""
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} has no readable {MANIFEST}.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    files = [(e["file"], e["sha256"]) for e in manifest["tables"].values()]
    files += [(f"objects/{k}", e["sha256"]) for k, e in manifest["objects"].items()]
    for name, expected in files:
        path = src / name
        if not path.is_file() or _sha256_file(path) != expected:
            raise BackupError(f"{name} is missing or does not match its checksum: the backup "
                              "is damaged.", code="backup_corrupt")
    return manifest


def restore(engine: Engine, store: ObjectStore, src: Path) -> dict[str, int]:
    """Restore `src` into an empty installation; returns rows restored per table."""
    manifest = verify(src)
    with engine.begin() as conn:
        revision = _revision(conn)
        if revision != manifest["revision"]:
            raise BackupError(f"The backup is of schema revision {manifest['revision']}, this "
                              f"installation is at {revision}: run the matching version.",
                              code="backup_revision_mismatch")
        tables = _tables(conn)
        missing = sorted(set(manifest["tables"]) - set(tables))
        if missing:
            raise BackupError(f"This installation has no table {missing[0]!r}.")
        for table in tables:
            if conn.execute(text(f'SELECT EXISTS (SELECT 1 FROM "{table}")')).scalar():
                raise BackupError(f"This installation is not empty (table {table} has rows): "
                                  "restore only into a fresh one.", code="not_empty")
    for key, entry in manifest["objects"].items():
        if not store.exists(key):
            data = (src / "objects" / key).read_bytes()
            store.put(key, io.BytesIO(data), size=len(data), content_type=entry["content_type"])
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        raw = _psycopg(conn)
        for table in (t for t in tables if t in manifest["tables"]):
            with (src / manifest["tables"][table]["file"]).open("rb") as f, raw.cursor() as cur, \
                    cur.copy(f'COPY "{table}" FROM STDIN') as copy:
                for block in iter(lambda: f.read(1 << 20), b""):
                    copy.write(block)
            counts[table] = manifest["tables"][table]["rows"]
        _advance_sequences(conn, tables)
    return counts


def _advance_sequences(conn: Connection, tables: list[str]) -> None:
    for table, column in conn.execute(text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND (column_default LIKE 'nextval(%' "
            "OR is_identity = 'YES')")).all():
        if table not in tables:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                           {"t": f'"{table}"', "c": column}).scalar()
        if seq:
            conn.execute(text(
                f'SELECT setval(:s, COALESCE((SELECT max("{column}") FROM "{table}"), 0) + 1, '
                "false)"), {"s": seq})


def describe(manifest: dict[str, Any]) -> str:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return (f"{len(manifest['tables'])} tables, {rows} rows, {len(manifest['objects'])} "
            f"objects (revision {manifest['revision']}, {manifest.get('created_at') or ''})")
