"""Every /api/v1 route needs a principal unless listed in PUBLIC_ROUTES.

`protected_router()` is the parent APIRouter (dependency: get_principal) that main.py
includes every domain router into, so a new router is covered by default; and
`assert_protected(app)` refuses to start an app with an /api/v1 route that does not resolve
get_principal, whichever way it was added.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.principal import get_principal

API_PREFIX = "/api/v1"
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
})


def protected_router() -> APIRouter:
    return APIRouter(dependencies=[Depends(get_principal)])


def _uses(dependant: Dependant | None, target: object) -> bool:
    if dependant is None:
        return False
    return any(d.call is target or _uses(d, target) for d in dependant.dependencies)


def api_routes(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path, resolves get_principal) of every /api/v1 route, through included
    routers (FastAPI keeps those as lazily flattened branches of app.routes)."""
    found = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        path = ctx.path
        if not isinstance(route, APIRoute) or not path or not path.startswith(API_PREFIX):
            continue
        inherited = getattr(ctx, "dependencies", None) or route.dependencies
        guarded = any(
            d.dependency is get_principal for d in inherited
        ) or _uses(route.dependant, get_principal) or _uses(
            getattr(ctx, "dependant", None), get_principal
        )
        for method in sorted(ctx.methods or ()):
            found.append((method, path, guarded))
    return found


def unprotected_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of /api/v1 routes that are neither public nor behind get_principal."""
    return [
        (method, path)
        for method, path, guarded in api_routes(app)
        if not guarded and (method, path) not in PUBLIC_ROUTES
    ]


def assert_protected(app: FastAPI) -> None:
    missing = unprotected_routes(app)
    if missing:
        raise RuntimeError(f"/api/v1 routes without authentication: {missing}")
