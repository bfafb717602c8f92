"""Build a provider once per process, whichever thread asks first.

`functools.lru_cache` lets callers that miss together each build the value, and each keeps
the copy it built: the threads worker's two ingest threads, starting together, loaded the
embedding model twice, and the process kept ~120 MB more for good (README, Performance →
Ingest). `build_once` builds under a lock, so concurrent first callers wait for the one
value; a build that raises is not kept, and the next call tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from functools import update_wrapper
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class BuildOnce(Generic[T]):
    """`build(*args)` once per distinct args (hashable, positional); with `maxsize`, the
    oldest-built value is dropped past that many."""

    def __init__(self, build: Callable[..., T], maxsize: int | None = None) -> None:
        self._build = build
        self._maxsize = maxsize
        self._values: dict[tuple[Hashable, ...], T] = {}
        self._lock = threading.Lock()
        update_wrapper(self, build)

    def __call__(self, *args: Hashable) -> T:
        try:
            return self._values[args]  # built already: no lock on the hot path
        except KeyError:
            pass
        with self._lock:
            if args not in self._values:
                value = self._build(*args)
                if self._maxsize is not None and len(self._values) >= self._maxsize:
                    del self._values[next(iter(self._values))]
                self._values[args] = value
            return self._values[args]

    def built(self) -> list[T]:
        """The values built so far (to close them before `cache_clear`, say)."""
        with self._lock:
            return list(self._values.values())

    def cache_clear(self) -> None:
        with self._lock:
            self._values.clear()


@overload
def build_once(build: Callable[..., T]) -> BuildOnce[T]: ...


@overload
def build_once(*, maxsize: int) -> Callable[[Callable[..., T]], BuildOnce[T]]: ...


def build_once(
    build: Callable[..., T] | None = None, *, maxsize: int | None = None
) -> BuildOnce[T] | Callable[[Callable[..., T]], BuildOnce[T]]:
    """`@build_once` or `@build_once(maxsize=n)` over a provider's factory."""
    if build is not None:
        return BuildOnce(build, maxsize)

    def decorate(fn: Callable[..., T]) -> BuildOnce[T]:
        return BuildOnce(fn, maxsize)

    return decorate
