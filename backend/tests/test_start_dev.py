"""`./start.sh --dev`: the Vite dev server of the web app runs under supervisord beside the API
and proxies /api to it; without Node, start.sh says so and the API (with its build note at /)
and the console still start; a taken WEB_DEV_PORT stops start.sh before it starts anything.

Real runs of start.sh (about a minute each; SKIP_INSTALL=1, own DATA_DIR and free ports).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from app.core.embedded import free_port
from tests.test_start_supervised import (
    REPO,
    Run,
    _clean_env,
    _gone,
    _until,
    _wait_ready,
    start_sh,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

NODE_TOOLS = ("node", "nodejs", "npm", "npx", "corepack")


def _path_without_node(tmp: Path) -> str:
    """A PATH with every command of this machine except Node's."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    dirs = [d for d in _clean_env()["PATH"].split(":") if d and Path(d).is_dir()]
    for d in dirs:
        for exe in Path(d).iterdir():
            target = bin_dir / exe.name
            if exe.name not in NODE_TOOLS and not target.exists():
                target.symlink_to(exe)
    return str(bin_dir)


@contextlib.contextmanager
def _start(*args: str, node: bool = True, **extra: str) -> Iterator[Run]:
    path = None if node else _path_without_node
    with start_sh(*args, prefix="cd-", path=path, **extra) as run:
        yield run


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_dev_runs_vite_with_the_api_behind_its_proxy_and_stop_ends_it() -> None:
    web_port = free_port()
    with _start("--dev", WEB_DEV_PORT=str(web_port)) as run:
        _wait_ready(run)
        assert f"Web app dev  http://127.0.0.1:{web_port}/" in run.output()
        web = f"http://127.0.0.1:{web_port}"
        _until("the dev server answering", lambda: _answers(f"{web}/"), 60, run)
        page = httpx.get(f"{web}/documents/some-id", timeout=10)
        assert page.status_code == 200 and "/@vite/client" in page.text  # SPA route, dev build
        proxied = httpx.get(f"{web}/api/health", timeout=10)
        assert proxied.status_code == 200 and proxied.json() == {"status": "ok"}
        vite = run.pid("web")
        assert vite and "vite" in " ".join(psutil.Process(vite).cmdline())
        stop = subprocess.run(["bash", str(REPO / "start.sh"), "--stop"], env=run.env,
                              capture_output=True, text=True, timeout=200, check=False)  # fmt: skip
        assert stop.returncode == 0, stop.stdout + stop.stderr
        _until("the dev server gone", lambda: _gone(vite), 30, run)


def test_dev_without_node_says_so_and_the_api_and_console_still_start() -> None:
    with _start("--dev", node=False) as run:
        _wait_ready(run)
        out = run.output()
        assert "node/npm not found" in out and "no Vite dev server" in out
        assert "Web app dev" not in out
        home = httpx.get(f"{run.api}/", timeout=10)
        # The app as last built (a checkout where it was built, e.g. by run_tests.sh), or the
        # note saying how to build it: either way the API answers at /.
        assert home.status_code == 200, home.text
        assert "npm run build" in home.text or '<div id="root">' in home.text, home.text[:300]
        console = f"http://127.0.0.1:{run.console_port}/"
        _until("the console answering", lambda: _answers(console), 60, run)


def test_dev_stops_at_once_when_its_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with _start("--dev", WEB_DEV_PORT=str(port)) as run:
            assert run.proc.wait(timeout=60) != 0
            assert f"port {port} (WEB_DEV_PORT) is in use" in run.output()
            assert not (run.data_dir / "run" / "supervisord.pid").exists()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
