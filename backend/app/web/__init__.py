"""Serve the built React app (frontend/react-app/dist) at `/` with an SPA fallback.

Paths under /api, /v1, /mcp and /docs are never answered here. Without a build, `/` says how
to make one (not a 404 or a 500).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

RESERVED = ("api", "v1", "mcp", "docs", "redoc", "openapi.json")

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Cairn</title></head><body><main><h1>Cairn API is running</h1>
<p>The web app is not built. Build it with
<code>cd frontend/react-app &amp;&amp; npm ci &amp;&amp; npm run build</code>
(or run <code>./start.sh</code> with Node installed), then reload.</p>
<p>API documentation: <a href="/docs">/docs</a>.</p></main></body></html>"""


def default_dist() -> Path:
    return Path(__file__).resolve().parents[3] / "frontend" / "react-app" / "dist"


def install_web(app: FastAPI, dist: Path | None = None) -> None:
    root = (dist or default_dist()).resolve()

    @app.get("/", include_in_schema=False)
    @app.get("/{path:path}", include_in_schema=False)
    def web(path: str = "") -> Response:
        first = path.split("/", 1)[0]
        if first in RESERVED:
            raise HTTPException(status_code=404, detail="Not Found")
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT)
        if path:
            candidate = (root / path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                cache = ("public, max-age=31536000, immutable"
                         if path.startswith("assets/") else "no-cache")
                return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
