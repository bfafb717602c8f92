"""build_once: providers are built once per process even when threads ask together; a build
that fails is not kept."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from app.core import db as core_db
from app.core.once import BuildOnce, build_once
from app.providers.embeddings import get_embedder


def _together(call: Any, threads: int = 8) -> list[Any]:
    """`call()` from `threads` threads released at the same moment; their results."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(call())
        except BaseException as exc:  # collected for the test to assert on
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return results + errors


def test_threads_asking_together_get_one_value_built_once() -> None:
    builds = 0

    @build_once
    def provider() -> object:
        nonlocal builds
        builds += 1
        time.sleep(0.05)  # a model load: long enough for every thread to miss together
        return object()

    got = _together(provider)
    assert len(got) == 8
    assert builds == 1
    assert all(value is got[0] for value in got)


def test_two_threads_starting_together_share_one_embedder() -> None:
    # the threads worker's two ingest threads each built (and loaded) their own model
    fresh = BuildOnce(get_embedder.__wrapped__)  # type: ignore[attr-defined]
    got = _together(fresh, threads=2)
    assert got[0] is got[1]


def test_each_argument_gets_its_own_value() -> None:
    @build_once
    def provider(name: str) -> list[str]:
        return [name]

    assert provider("a") is provider("a")
    assert provider("a") is not provider("b")
    assert provider("b") == ["b"]


def test_a_failing_build_is_not_kept_and_the_next_call_builds_again() -> None:
    attempts = 0

    @build_once
    def provider() -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("model file missing")
        return "loaded"

    with pytest.raises(RuntimeError, match="model file missing"):
        provider()
    assert provider() == "loaded"
    assert provider() == "loaded"
    assert attempts == 2


def test_every_caller_waiting_on_a_failing_build_sees_an_error_not_a_half_built_value() -> None:
    @build_once
    def provider() -> str:
        time.sleep(0.02)
        raise OSError("no such model")

    got = _together(provider, threads=4)
    assert len(got) == 4
    assert all(isinstance(value, OSError) for value in got)


def test_cache_clear_builds_afresh() -> None:
    @build_once
    def provider() -> object:
        return object()

    first = provider()
    provider.cache_clear()
    assert provider() is not first


def test_maxsize_drops_the_oldest_value() -> None:
    builds: list[str] = []

    @build_once(maxsize=2)
    def provider(name: str) -> str:
        builds.append(name)
        return name.upper()

    for name in ("a", "b", "a", "c", "b", "a"):
        assert provider(name) == name.upper()
    # "a" was dropped when "c" came, so it was built again; "b" stayed
    assert builds == ["a", "b", "c", "a"]


def test_built_lists_the_kept_values_only() -> None:
    @build_once
    def provider(name: str) -> str:
        if name == "bad":
            raise ValueError(name)
        return name.upper()

    assert provider.built() == []
    provider("a")
    with pytest.raises(ValueError):
        provider("bad")
    assert provider.built() == ["A"]  # the failed build is not listed
    provider.cache_clear()
    assert provider.built() == []


def test_threads_asking_together_share_one_database_engine(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two engines would be two connection pools, each up to DB_POOL_SIZE + 10 connections
    real = core_db.create_engine

    def slow_create_engine(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)  # long enough for every thread to miss together
        return real(*args, **kwargs)

    monkeypatch.setattr(core_db, "create_engine", slow_create_engine)
    core_db.reset_engine()
    got = _together(core_db.get_engine)
    assert len(got) == 8
    assert all(engine is got[0] for engine in got)
    assert core_db.get_sessionmaker().kw["bind"] is got[0]


def test_reset_engine_closes_the_forgotten_engine_s_pooled_connections(db: Any) -> None:
    engine = core_db.get_engine()
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    pool = engine.pool
    assert pool.checkedin() >= 1
    core_db.reset_engine()
    assert pool.checkedin() == 0  # closed, not left idle on the server
    assert core_db.get_engine() is not engine
