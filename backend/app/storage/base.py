"""The object-store interface. Originals are stored under content-addressed keys."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO


class StorageError(Exception):
    """The object store could not be reached or refused the operation."""


class ObjectNotFound(StorageError):
    """No object under that key."""


class ObjectStore(ABC):
    """Put/get/delete of whole objects. Implementations must be safe to call from threads."""

    @abstractmethod
    def put(self, key: str, data: BinaryIO, *, size: int, content_type: str) -> None:
        """Store `data` (read from its current position) under `key`, replacing any object."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object; raises ObjectNotFound."""

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key is not an error."""

    @abstractmethod
    def iter_objects(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """(key, last modified, timezone-aware) of every object whose key starts with prefix."""

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        for key, _ in self.iter_objects(prefix):
            yield key

    @abstractmethod
    def check(self) -> None:
        """Raise StorageError unless the store is reachable and writable."""


def content_key(sha256: str) -> str:
    """objects/ab/cd/abcd…: the key of an original is its content hash."""
    return f"objects/{sha256[:2]}/{sha256[2:4]}/{sha256}"
