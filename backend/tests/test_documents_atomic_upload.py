"""An upload request is all or nothing: objects first, every row in one transaction, the
ingest tasks only after the commit; a failure removes the objects the request stored."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any, BinaryIO

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.core.db import get_db, get_sessionmaker
from app.documents.models import Document
from app.storage import ObjectStore, StorageError, content_key, get_store
from tests.conftest import assert_error, s3_keys, upload, wait_for_documents


class FailingOnPut(ObjectStore):
    """The real store, except that its Nth put fails as an outage would."""

    def __init__(self, inner: ObjectStore, fail_on: int) -> None:
        self.inner = inner
        self.fail_on = fail_on
        self.puts = 0

    def put(self, key: str, data: BinaryIO, *, size: int, content_type: str) -> None:
        self.puts += 1
        if self.puts == self.fail_on:
            raise StorageError("injected: the store went away")
        self.inner.put(key, data, size=size, content_type=content_type)

    def open(self, key: str) -> BinaryIO:
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def iter_objects(self, prefix: str = "") -> Any:
        return self.inner.iter_objects(prefix)

    def check(self) -> None:
        self.inner.check()


def _files(n: int) -> list[tuple[str, bytes]]:
    tag = uuid.uuid4().hex
    return [(f"f{i}.txt", f"file {i} of {tag}: notes on tide pools.".encode()) for i in range(n)]


def _rows(db: Any, files: list[tuple[str, bytes]]) -> int:
    db.rollback()
    shas = [hashlib.sha256(content).hexdigest() for _, content in files]
    return int(db.scalar(select(func.count()).where(Document.sha256.in_(shas))) or 0)


def _keys(files: list[tuple[str, bytes]]) -> set[str]:
    return {content_key(hashlib.sha256(content).hexdigest()) for _, content in files}


@pytest.fixture
def failing_store(app: Any) -> Iterator[FailingOnPut]:
    store = FailingOnPut(get_store(), fail_on=3)
    app.dependency_overrides[get_store] = lambda: store
    try:
        yield store
    finally:
        app.dependency_overrides.pop(get_store, None)


def test_five_files_in_one_request_all_become_ready(
    client: Any, collection_name: str, s3: Any
) -> None:
    files = _files(5)
    resp = upload(client, files, collection=collection_name)
    assert resp.status_code == 202, resp.text
    docs = resp.json()["documents"]
    assert [d["outcome"] for d in docs] == ["created"] * 5
    final = wait_for_documents(client, [d["id"] for d in docs])
    assert {d["status"] for d in final.values()} == {"ready"}
    assert _keys(files) <= s3_keys(s3)


def test_a_store_failing_on_the_third_of_five_puts_leaves_nothing(
    client: Any, collection_name: str, db: Any, s3: Any, failing_store: FailingOnPut
) -> None:
    files = _files(5)
    resp = upload(client, files, collection=collection_name)
    assert_error(resp, 503, "storage_unavailable")
    assert failing_store.puts == 3
    assert _rows(db, files) == 0  # no row queued-but-never-enqueued
    assert not (_keys(files) & s3_keys(s3))  # the two objects it did store are gone
    listed = client.get("/api/v1/documents", params={"collection": collection_name}).json()
    assert listed["total"] == 0


def test_a_database_failure_after_the_objects_were_stored_removes_them(
    app: Any, client: Any, collection_name: str, db: Any, s3: Any
) -> None:
    class CommitFails:
        """A real session whose commit fails as a lost connection would."""

        def __init__(self) -> None:
            self.inner = get_sessionmaker()()

        def commit(self) -> None:
            raise OperationalError("COMMIT", {}, Exception("injected: connection lost"))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    def session() -> Iterator[Any]:
        s = CommitFails()
        try:
            yield s
        finally:
            s.inner.close()

    files = _files(3)
    app.dependency_overrides[get_db] = session
    try:
        resp = upload(client, files, collection=collection_name)
    finally:
        app.dependency_overrides.pop(get_db, None)
    assert_error(resp, 503, "service_unavailable")
    assert _rows(db, files) == 0
    assert not (_keys(files) & s3_keys(s3))


def test_reingest_says_it_requeued_and_a_plain_duplicate_says_nothing_was_done(
    client: Any, collection_name: str
) -> None:
    files = _files(1)
    first = upload(client, files, collection=collection_name).json()["documents"][0]
    wait_for_documents(client, [first["id"]])
    again = upload(client, files, collection=collection_name).json()["documents"][0]
    assert (again["outcome"], again["duplicate"], again["id"]) == ("duplicate", True, first["id"])
    assert again["task_id"] == first["task_id"]  # nothing was queued
    redo = upload(client, files, collection=collection_name, reingest=True).json()["documents"][0]
    assert redo["outcome"] == "reingested" and redo["id"] == first["id"]
    assert redo["task_id"] != first["task_id"]
    assert wait_for_documents(client, [first["id"]])[first["id"]]["status"] == "ready"


def test_the_same_file_twice_in_one_request_is_one_document(
    client: Any, collection_name: str, db: Any
) -> None:
    files = _files(1)
    resp = upload(client, files + files, collection=collection_name)
    assert resp.status_code == 202, resp.text
    docs = resp.json()["documents"]
    assert [d["outcome"] for d in docs] == ["created", "duplicate"]
    assert docs[0]["id"] == docs[1]["id"]
    assert _rows(db, files) == 1


def test_an_invalid_file_among_valid_ones_stores_nothing(
    client: Any, collection_name: str, db: Any, s3: Any
) -> None:
    files = [*_files(2), ("empty.txt", b"")]
    assert_error(upload(client, files, collection=collection_name), 422, "empty_file")
    assert _rows(db, files) == 0
    assert not (_keys(files[:2]) & s3_keys(s3))
