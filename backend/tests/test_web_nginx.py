"""The nginx config of the web app's image (frontend/react-app/nginx/cairn.conf): it parses as
nginx configuration (crossplane, nginx's own Python parser, which checks every directive's
context and arguments), the streams are proxied unbuffered, the SPA falls back to index.html;
and `nginx -t` accepts it where nginx is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import crossplane
import pytest

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "frontend" / "react-app" / "nginx" / "cairn.conf"
STREAMS = ("= /api/v1/events", "= /api/v1/chat", "/v1/", "= /mcp")


def _parse(tmp_path: Path, text: str) -> dict[str, Any]:
    """crossplane's parse of `text` included in an http block, as the nginx image does."""
    site = tmp_path / "site.conf"
    site.write_text(text)
    main = tmp_path / "nginx.conf"
    main.write_text(f"events {{}}\nhttp {{\n    include {site};\n}}\n")
    return crossplane.parse(str(main), check_ctx=True, check_args=True)  # type: ignore[no-any-return]


def _locations(parsed: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    site = next(c for c in parsed["config"] if c["file"].endswith("site.conf"))
    (server,) = [d for d in site["parsed"] if d["directive"] == "server"]
    blocks = [d for d in server["block"] if d["directive"] == "location"]
    return {" ".join(d["args"]): d["block"] for d in blocks}


def _args(block: list[dict[str, Any]], directive: str) -> list[str] | None:
    found = [d["args"] for d in block if d["directive"] == directive]
    return found[0] if found else None


def test_the_config_parses_and_streams_are_not_buffered(tmp_path: Path) -> None:
    parsed = _parse(tmp_path, CONF.read_text())
    assert parsed["status"] == "ok", parsed["errors"]
    locations = _locations(parsed)
    for path in (*STREAMS, "/api/", "= /docs", "= /openapi.json"):
        assert _args(locations[path], "proxy_pass") == ["$cairn_api"], path
    for path in STREAMS:
        assert _args(locations[path], "proxy_buffering") == ["off"], path
    assert _args(locations["/api/"], "proxy_buffering") is None  # buffered: ordinary JSON
    assert _args(locations["/"], "try_files") == ["$uri", "/index.html"]


def test_a_directive_outside_its_context_is_an_error(tmp_path: Path) -> None:
    broken = CONF.read_text().replace("listen 8080;", "listen 8080;\n    worker_processes 2;")
    parsed = _parse(tmp_path, broken)
    assert parsed["status"] == "failed"
    assert "not allowed here" in parsed["errors"][0]["error"]


def test_a_missing_semicolon_or_brace_is_an_error(tmp_path: Path) -> None:
    for broken in (CONF.read_text().replace("proxy_buffering off;", "proxy_buffering off", 1),
                   CONF.read_text().rstrip().removesuffix("}")):  # fmt: skip
        assert _parse(tmp_path, broken)["status"] == "failed"


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n"
                    f"  client_body_temp_path {tmp_path}/body;\n  include {CONF};\n}}\n")
    done = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-e", "stderr", "-c", str(main)],
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr
