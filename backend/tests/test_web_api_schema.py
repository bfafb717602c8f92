"""The web app's typed client matches the API: the committed schema.d.ts has exactly the live
OpenAPI paths and schemas, and every API path the app's code calls exists with that method."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

APP = Path(__file__).resolve().parents[2] / "frontend" / "react-app"
SCHEMA = APP / "src" / "api" / "schema.d.ts"
REGEN = "cd frontend/react-app && npm run gen:api"


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from app.main import create_app

    spec: dict[str, Any] = create_app().openapi()
    return spec


def _typed_paths() -> set[str]:
    block = SCHEMA.read_text().split("export type webhooks", 1)[0]
    return set(re.findall(r'^    "(/[^"]*)": \{', block, re.M))


def _typed_schemas() -> set[str]:
    block = SCHEMA.read_text().split("schemas: {", 1)[1].split("responses: never", 1)[0]
    return set(re.findall(r"^        (\w+): ", block, re.M))


def test_committed_schema_has_the_live_paths(openapi: dict[str, Any]) -> None:
    assert _typed_paths() == set(openapi["paths"]), f"schema.d.ts is stale: run `{REGEN}`"


def test_committed_schema_has_the_live_models(openapi: dict[str, Any]) -> None:
    assert _typed_schemas() == set(openapi["components"]["schemas"]), \
        f"schema.d.ts is stale: run `{REGEN}`"


def test_every_path_the_app_calls_exists_with_its_method(openapi: dict[str, Any]) -> None:
    calls: set[tuple[str, str]] = set()
    for source in (APP / "src").rglob("*.ts*"):
        if source.name.endswith((".test.ts", ".test.tsx", ".d.ts")):
            continue
        text = source.read_text()
        for method, path in re.findall(r'api\.(GET|POST|PUT|PATCH|DELETE)\("([^"]+)"', text):
            calls.add((method.lower(), path))
        for path in re.findall(r'(?:authFetch|fetch)\(\s*[`"](/api/[^`"?$]+)', text):
            calls.add(("*", path))
    assert len(calls) >= 10, calls
    for method, path in calls:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path.rstrip("/")))
        matches = [p for p in openapi["paths"] if re.fullmatch(pattern, p)
                   or re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path.rstrip("/"))]
        assert matches, f"the app calls {path}, which the API does not have"
        if method != "*":
            assert any(method in openapi["paths"][p] for p in matches), (method, path)
