"""Fixtures of the fault tests that run a real API process (registered with pytest_plugins by
their modules, as chat_fixtures is). Each module names its own Redis database in `REDIS_DB`
(and may add environment in `ENV_OVERRIDES`); the processes are tests/fault_procs.py's.

- `log_dir`: one folder of process logs for the module (`faults-<rest of the module name>`).
- `env`: the module's isolated environment (fault_procs.isolated_env).
- `api`: one API process for the module, stopped after its last test.
- `http`: an httpx client on that API for one test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fault_procs import Api, isolated_env


@pytest.fixture(scope="module")
def log_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    module = request.module.__name__.rsplit(".", 1)[-1]
    return tmp_path_factory.mktemp(module.removeprefix("test_").replace("_", "-"))


@pytest.fixture(scope="module")
def env(request: pytest.FixtureRequest) -> dict[str, str]:
    overrides: dict[str, str] = getattr(request.module, "ENV_OVERRIDES", {})
    return isolated_env(request.module.REDIS_DB, **overrides)


@pytest.fixture(scope="module")
def api(env: dict[str, str], log_dir: Path) -> Iterator[Api]:
    proc = Api(env, log_dir)
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def http(api: Api) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api.url, timeout=60) as client:
        yield client
