"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import models as _models  # noqa: F401  (every mapper)
from app.auth.bootstrap import on_startup as auth_startup
from app.auth.router import auth_router, keys_router, public_router, users_router
from app.auth.routes import assert_protected, protected_router
from app.auth.secret import check_startup_secrets
from app.chat.openai_router import router as openai_router
from app.chat.router import router as chat_router
from app.collections.router import router as collections_router
from app.core.config import get_settings
from app.core.errors import install_error_handlers
from app.core.logging import RequestIdMiddleware, configure_logging, get_logger
from app.core.request_guard import RequestGuard
from app.core.timing import ServerTimingMiddleware
from app.documents.router import router as documents_router
from app.evalsets.router import router as evalsets_router
from app.events.router import router as events_router
from app.health.router import router as health_router
from app.images.router import documents_router as image_documents_router
from app.images.router import search_router as image_search_router
from app.labels.router import router as labels_router
from app.mcp_server.endpoint import mcp_route
from app.metrics.router import instrument
from app.providers.embeddings import get_embedder
from app.search import lexical_sync
from app.search.router import router as search_router
from app.spaces.router import router as spaces_router
from app.tasks.router import router as tasks_router
from app.web import install_web

log = get_logger(__name__)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    configure_logging()
    check_startup_secrets()  # a known, short or low-entropy secret stops the API here
    from app.providers.rerank import get_reranker

    get_reranker()  # a misconfigured reranker stops the API here, with what to fix
    auth_startup()  # signing key, first admin, or the loud single-user-mode warning
    # load the query embedder now, not on first search
    await asyncio.to_thread(lambda: get_embedder().warm_up())
    lexical = get_settings().lexical_engine == "tantivy"
    if lexical:
        lexical_sync.start()  # BM25's tantivy copies, kept current beside Postgres
    log.info("api_started", environment=get_settings().environment,
             auth=get_settings().auth_enabled)
    yield
    if lexical:
        await asyncio.to_thread(lexical_sync.stop)


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Cairn",
        version="0.1.0",
        description="Self-hosted RAG: upload documents, search them, ask with citations.",
        lifespan=lifespan,
    )
    # Innermost first: the guard (401 / 413 before any body is read), then CORS (so preflights
    # and the guard's refusals get CORS headers), then the request id around everything.
    app.add_middleware(RequestGuard)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    app.add_middleware(ServerTimingMiddleware)  # outside the guard: it times auth too
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    instrument(app)  # request metrics, and GET /metrics
    app.include_router(health_router)
    app.include_router(public_router)  # login and refresh: the only unauthenticated /api/v1
    # Every other /api/v1 router goes into `api`, whose dependency is get_principal.
    api = protected_router()
    for router in (
        auth_router, users_router, keys_router,
        documents_router, collections_router, search_router, tasks_router, chat_router,
        events_router, image_search_router, image_documents_router, labels_router,
        evalsets_router, spaces_router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(openai_router)  # /v1: OpenAI-compatible, its own get_principal
    # /mcp: MCP over streamable HTTP, authenticated by the same credentials
    app.router.routes.append(mcp_route())
    assert_protected(app)
    install_web(app)  # last: `/` and the SPA fallback for every other GET
    return app


app = create_app()
