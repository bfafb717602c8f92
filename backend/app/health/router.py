"""GET /api/health (liveness) and /api/health/ready (readiness); the probes are in
health/service.py."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.health import service

router = APIRouter(prefix="/api/health", tags=["health"])


@router.get("")
def alive() -> dict[str, str]:
    return service.liveness()


@router.get("/ready", responses={503: {"description": "A dependency is down"}})
def ready() -> JSONResponse:
    status, body = service.readiness()
    return JSONResponse(body, status_code=status)
