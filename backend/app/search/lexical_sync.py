"""Keep this API process's tantivy copies (search/tantivy_index.py) at their collections'
lexical versions (LEXICAL_ENGINE=tantivy).

A thread started with the API wakes every LEXICAL_SYNC_INTERVAL_S, or at once when a search
found a copy behind (`search` nudges it), reads every collection's version and brings each
copy that is behind up to date in one REPEATABLE READ snapshot of Postgres:
- from version v to V it replays `lexical_changes`: the documents changed in (v, V] lose their
  chunks in the copy and get their current ones (a document deleted since has none);
- a copy that is new, ahead of the database (a restored backup) or missing a change record
  (pruned, or a bulk load that raised the version without one) is rebuilt from every posting.
The version goes into the copy in the same tantivy commit, so a copy's version always names
exactly what it holds. The writes themselves keep only each collection's last
`lexical_index.KEEP_CHANGES` records.

Several API processes sharing LEXICAL_INDEX_DIR: tantivy's lock file lets one of them write a
copy at a time; the others skip it that round and read what it commits. A collection deleted
from Postgres loses its copy. Nothing here is needed for a correct answer: a search uses a
copy only at the collection's current version, and Postgres' BM25 otherwise.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from app.core.config import get_settings
from app.core.db import session_scope
from app.core.logging import get_logger
from app.search import lexical_index
from app.search.tantivy_index import IndexBusy, Replica, Replicas

log = get_logger(__name__)

WRITER_HEAP_BYTES = 64 * 1024 * 1024  # tantivy's indexing buffer while a copy is written


@dataclass(frozen=True)
class Synced:
    version: int  # the collection's version the copy now holds
    rebuilt: bool = False  # from every posting (else replayed, or already current)
    chunks: int = 0  # chunks written into the copy


def sync_collection(replica: Replica, collection_id: uuid.UUID) -> Synced | None:
    """Bring one copy to its collection's current version (None: the collection is gone).
    Raises IndexBusy when another process is writing this copy."""
    held = replica.version()
    started = time.perf_counter()
    with session_scope() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        version = lexical_index.lexical_version(session, collection_id)
        if version is None or held == version:
            return None if version is None else Synced(version)
        replaced = None
        if held is not None and held < version:
            replaced = lexical_index.changed_documents(session, collection_id, held, version)
        documents = None if replaced is None else sorted(replaced)
        chunks = lexical_index.chunk_postings(session, collection_id, documents)
        added = replica.apply(version, chunks, documents, WRITER_HEAP_BYTES)
    log.info("lexical_copy_synced", collection_id=str(collection_id), version=version,
             held=held, rebuilt=documents is None, chunks=added,
             seconds=round(time.perf_counter() - started, 3))  # fmt: skip
    return Synced(version, documents is None, added)


class LexicalSync:
    """The thread that keeps `replicas` current. Collections a search found behind go first,
    and a round over the others yields to them as soon as a search asks."""

    def __init__(self, replicas: Replicas, interval_s: float) -> None:
        self.replicas = replicas
        self.interval_s = interval_s
        self._held: dict[uuid.UUID, int] = {}  # versions this process saw its copies reach
        self._wanted: set[uuid.UUID] = set()  # found behind by a search since the last round
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="lexical-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def nudge(self, collection_id: uuid.UUID | None = None) -> None:
        if collection_id is not None:
            self._wanted.add(collection_id)
        self._wake.set()

    def run_once(self) -> None:
        """One round: the collections searches asked for, then every other one until a
        search asks again."""
        wanted, self._wanted = self._wanted, set()
        with session_scope() as session:
            versions = lexical_index.lexical_versions(session)
        for gone in self.replicas.collections() - versions.keys():
            self.replicas.drop(gone)
            self._held.pop(gone, None)
        order = sorted(versions, key=lambda collection_id: collection_id not in wanted)
        for collection_id in order:
            if self._stop.is_set() or (self._wanted and collection_id not in wanted):
                break  # a search is waiting for another copy: a new round serves it first
            version, chunk_count = versions[collection_id]
            if self._held.get(collection_id) == version:
                continue
            # a collection that never had a chunk needs no copy until it has one
            replica = self.replicas.get(collection_id, create=chunk_count > 0)
            if replica is None:
                continue
            try:
                synced = sync_collection(replica, collection_id)
            except IndexBusy:
                continue  # another process is writing it; its commit reaches us
            if synced is not None:
                self._held[collection_id] = synced.version

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # e.g. the database is down: searches use Postgres' BM25
                log.warning("lexical_sync_failed", error=type(exc).__name__)
            if not self._wanted:
                self._wake.wait(self.interval_s)
            self._wake.clear()


_sync: LexicalSync | None = None
_users = 0  # apps in this process that started it (tests run several)
_sync_lock = threading.Lock()


def get_sync() -> LexicalSync:
    """This process's sync (not started: `start` does that)."""
    global _sync
    with _sync_lock:
        if _sync is None:
            settings = get_settings()
            _sync = LexicalSync(Replicas(settings.lexical_root), settings.lexical_sync_interval_s)
        return _sync


def start() -> None:
    """Keep the copies current (API startup, LEXICAL_ENGINE=tantivy); one thread per process
    however many apps start it."""
    global _users
    sync = get_sync()
    with _sync_lock:
        _users += 1
        if _users > 1:
            return
    sync.start()


def stop() -> None:
    """An app's shutdown; the thread stops with the last app that started it."""
    global _sync, _users
    with _sync_lock:
        _users = max(0, _users - 1)
        if _users:
            return
        sync, _sync = _sync, None
    if sync is not None:
        sync.stop()


def search(
    collection_id: uuid.UUID, version: int, idfs: Mapping[str, float], depth: int
) -> list[tuple[int, float]] | None:
    """The copy's best `depth` chunks for the lexemes `idfs` names (with those idfs), or None
    when it is not at `version` (the sync is nudged; the caller answers with Postgres' BM25)."""
    sync = get_sync()
    replica = sync.replicas.get(collection_id)
    if replica is not None:
        # a copy at another version answers at once, unsearched
        held, hits = replica.search(idfs, depth, version)
        if held is not None and held < version:  # another process may have committed it
            replica.index.reload()
            held, hits = replica.search(idfs, depth, version)
        if held == version:
            return hits
    sync.nudge(collection_id)
    return None
