"""One contract, two object stores: the local disk and S3 (moto), parametrized alike."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.embedded import free_port
from app.storage import ObjectNotFound, ObjectStore, StorageError, content_key
from app.storage.local import LocalObjectStore
from tests.conftest import s3_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, services: Any) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
    else:
        # a bucket of its own per test: no state shared with the app's bucket
        yield s3_store(services.s3_url, f"contract-{uuid.uuid4().hex[:12]}")


def _put(store: ObjectStore, key: str, data: bytes) -> None:
    store.put(key, io.BytesIO(data), size=len(data), content_type="application/octet-stream")


def test_put_then_open_get_bytes_and_exists(store: ObjectStore) -> None:
    key = content_key("ab" * 32)
    assert not store.exists(key)
    _put(store, key, b"hello object")
    assert store.exists(key)
    assert store.get_bytes(key) == b"hello object"
    with store.open(key) as fh:
        assert fh.read() == b"hello object"


def test_put_reads_from_the_stream_position(store: ObjectStore) -> None:
    stream = io.BytesIO(b"skipME")
    stream.seek(4)
    store.put("k/pos", stream, size=2, content_type="text/plain")
    assert store.get_bytes("k/pos") == b"ME"


def test_put_overwrites(store: ObjectStore) -> None:
    _put(store, "k/over", b"first version")
    _put(store, "k/over", b"second")
    assert store.get_bytes("k/over") == b"second"


def test_large_object_round_trips(store: ObjectStore) -> None:
    data = bytes(range(256)) * 40_000  # ~10 MB: multipart on S3
    _put(store, "k/large", data)
    assert store.get_bytes("k/large") == data


def test_missing_key_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.open("k/missing")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("k/missing")
    assert not store.exists("k/missing")


def test_object_not_found_is_a_storage_error() -> None:
    assert issubclass(ObjectNotFound, StorageError)


def test_delete_removes_and_deleting_missing_is_fine(store: ObjectStore) -> None:
    _put(store, "k/gone", b"x")
    store.delete("k/gone")
    assert not store.exists("k/gone")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("k/gone")
    store.delete("k/gone")
    store.delete("k/never-was")


def test_iter_keys_lists_by_prefix(store: ObjectStore) -> None:
    assert list(store.iter_keys()) == []
    for key in ("a/1", "a/2", "b/1"):
        _put(store, key, key.encode())
    assert sorted(store.iter_keys()) == ["a/1", "a/2", "b/1"]
    assert sorted(store.iter_keys("a/")) == ["a/1", "a/2"]
    assert list(store.iter_keys("c/")) == []


def test_check_passes_on_a_reachable_store(store: ObjectStore) -> None:
    store.check()


def test_content_key_is_sharded_by_hash() -> None:
    digest = "0123456789abcdef" * 4
    assert content_key(digest) == f"objects/01/23/{digest}"


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "/etc/passwd"])
def test_local_store_rejects_keys_outside_its_root(tmp_path: Path, key: str) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    with pytest.raises(StorageError):
        _put(store, key, b"x")
    with pytest.raises(StorageError):
        store.open(key)
    assert not (tmp_path / "escape").exists()


def test_local_store_check_fails_when_root_is_not_writable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"a file where the root directory should be")
    with pytest.raises(StorageError):
        LocalObjectStore(blocker / "objects").check()


def test_unreachable_s3_raises_storage_error() -> None:
    store = s3_store(f"http://127.0.0.1:{free_port()}", "nowhere")
    with pytest.raises(StorageError):
        store.check()
    with pytest.raises(StorageError):
        store.exists("k")
    with pytest.raises(StorageError):
        _put(store, "k", b"x")
    with pytest.raises(StorageError) as excinfo:
        store.get_bytes("k")
    assert not isinstance(excinfo.value, ObjectNotFound)


def test_s3_without_bucket_creation_reports_missing_bucket(services: Any) -> None:
    store = s3_store(services.s3_url, f"absent-{uuid.uuid4().hex[:8]}", create_bucket=False)
    with pytest.raises(StorageError):
        store.check()


def test_s3_reads_with_a_missing_bucket_are_errors_not_missing_objects(services: Any) -> None:
    store = s3_store(services.s3_url, f"absent-{uuid.uuid4().hex[:8]}", create_bucket=False)
    with pytest.raises(StorageError) as excinfo:
        store.get_bytes("k")
    assert not isinstance(excinfo.value, ObjectNotFound)
    with pytest.raises(StorageError):
        store.exists("k")
