"""The API serves the built web app at `/` with an SPA fallback, and never shadows the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.web import install_web


@pytest.fixture
def web(tmp_path: Path) -> Any:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>cairn-app</html>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    app = FastAPI()
    install_web(app, tmp_path)
    return TestClient(app)


def test_root_and_deep_links_serve_index_html(web: Any) -> None:
    assert "cairn-app" in web.get("/").text
    assert "cairn-app" in web.get("/library/some-id").text
    js = web.get("/assets/app.js")
    assert js.status_code == 200 and "immutable" in js.headers["cache-control"]


def test_api_paths_are_not_answered_by_the_app(web: Any) -> None:
    assert web.get("/api/v1/nothing").status_code == 404
    assert web.get("/v1/models").status_code == 404


def test_paths_outside_dist_are_not_served(web: Any, tmp_path: Path) -> None:
    (tmp_path.parent / "secret.txt").write_text("s3cret")
    resp = web.get("/..%2Fsecret.txt")
    assert "s3cret" not in resp.text


def test_without_a_build_root_says_how_to_build(tmp_path: Path) -> None:
    app = FastAPI()
    install_web(app, tmp_path / "missing")
    resp = TestClient(app).get("/")
    assert resp.status_code == 200 and "npm run build" in resp.text


def test_the_real_app_keeps_api_404s_json(client: Any) -> None:
    resp = client.get("/api/health/nothing-here")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/json")
