"""Liveness and readiness for load balancers and orchestrators (no identity: they reveal nothing)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gennai.web.deps import ServicesDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, bool] = {}
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # any failure to reach the database means not ready
        checks["database"] = False
    models = await services.models.ready()
    checks["models"] = all(models.values())
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks, "models": models}
    return JSONResponse(body, status_code=200 if ready else 503)
