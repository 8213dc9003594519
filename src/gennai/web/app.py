"""The application factory: builds the services at start-up and mounts every route."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gennai import __version__
from gennai.apps.legal.ingest import ensure_sample_ingested
from gennai.apps.legal.search import DenseRanking
from gennai.apps.legal.service import LegalResearch
from gennai.apps.legal.vectors import embed_statutes, gateway_embedder
from gennai.chat.service import Chats, close_interrupted_answers
from gennai.config import Settings
from gennai.db.engine import create_engine, session_factory, transaction
from gennai.db.migrate import upgrade
from gennai.gateway.base import ProviderError
from gennai.gateway.registry import ModelRegistry
from gennai.gateway.service import Gateway
from gennai.guard.policy import Guard
from gennai.identity.scim import ScimError
from gennai.identity.service import build_identity, ensure_common_team
from gennai.identity.users import LOCAL_USER_EMAIL, get_or_create_user
from gennai.web.deps import ApiAuthError, ApiScopeError
from gennai.web.pages import create_templates, render
from gennai.web.routes import admin, auth, chat, health, keys, legal, openai_api, preferences, scim
from gennai.web.routes.openai_api import openai_error
from gennai.web.routes.scim import scim_error_response
from gennai.web.services import Services

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The protective headers; sign-out forms may redirect to the identity providers (RP-initiated logout)."""
    form_targets = " ".join(["'self'", *sorted({p.issuer.rstrip("/") for p in settings.oidc_providers})])
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action {form_targets}"
    )
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    ]


class SecurityHeaders:
    """Adds the same protective headers to every response (pure ASGI, so streams stay streams)."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.effective_database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    models = ModelRegistry(settings)
    guard = Guard()
    gateway = Gateway(sessions, models, guard)
    chats = Chats(
        sessions, gateway, max_message_chars=settings.max_message_chars, max_messages=settings.max_conversation_messages
    )
    await ensure_common_team(sessions)
    local_user_id = None
    if not settings.sign_in_required:
        async with transaction(sessions) as session:
            local_user_id = (await get_or_create_user(session, LOCAL_USER_EMAIL, "ローカル利用者")).id
    if settings.legal_sample:
        await ensure_sample_ingested(sessions)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        models=models,
        gateway=gateway,
        guard=guard,
        chats=chats,
        templates=create_templates(settings.data_dir / "templates"),
        legal=await LegalResearch.open(sessions, _dense_ranking(settings, gateway)),
        identity=build_identity(settings, sessions),
        local_user_id=local_user_id,
    )
    longest_timeout = max(spec.timeout_seconds for spec in settings.models)
    await close_interrupted_answers(sessions, older_than=timedelta(seconds=longest_timeout + 60))
    await models.load()
    return services


def _dense_ranking(settings: Settings, gateway: Gateway) -> DenseRanking | None:
    model = settings.legal_embedding_model
    if model is None:
        return None
    return DenseRanking(model, gateway_embedder(gateway, model, "legal.search"), settings.legal_embedding_weight)


async def _index_statutes(services: Services) -> None:
    """Embed the statutes that have no vector yet, then let search use them; runs beside the server.

    A failure (the embedding server down, another node embedding the same articles) leaves search
    lexical for the articles not yet embedded; ``gennai ingest embeddings`` resumes the work.
    """
    model = services.settings.legal_embedding_model
    if model is None:
        return
    try:
        added = await embed_statutes(services.sessions, services.gateway, model)
    except (ProviderError, ValueError, SQLAlchemyError) as failure:
        log.warning("statutes not embedded with %s: %s", model, failure)
        return
    if added:
        await services.legal.refresh()
    log.info("statutes embedded with %s: %d articles", model, added)


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        embedding = asyncio.create_task(_index_statutes(services))
        try:
            yield
        finally:
            embedding.cancel()
            with suppress(asyncio.CancelledError):
                await embedding
            await services.models.close()
            if services.identity is not None:
                await services.identity.close()
            await services.engine.dispose()

    app = FastAPI(title="gennai", version=__version__, lifespan=lifespan, docs_url="/api/docs", redoc_url=None)
    secure_cookies = bool(settings.public_url and settings.public_url.startswith("https://"))
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.effective_secret_key,
        session_cookie="gennai_session",
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(SecurityHeaders, headers=security_headers(settings))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (health, preferences, chat, openai_api, legal, auth, keys, admin, scim):
        app.include_router(module.router)
    _install_error_handlers(app)
    return app


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and request.method == "GET"


def _install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ScimError, scim_error_response)  # type: ignore[arg-type]

    @app.exception_handler(ApiScopeError)
    async def _api_scope(request: Request, error: ApiScopeError) -> Response:
        return openai_error(403, str(error), "permission_error", "scope_not_allowed")

    @app.exception_handler(ApiAuthError)
    async def _api_auth(request: Request, error: ApiAuthError) -> Response:
        return openai_error(401, str(error), "invalid_request_error", "invalid_api_key")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in error.errors())
        if request.url.path.startswith("/v1/"):
            return openai_error(400, problems, "invalid_request_error", "invalid_request")
        return JSONResponse({"error": {"code": "invalid_request", "message": problems}}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = error.detail if isinstance(error.detail, str) else "error"
        if code == "not_signed_in" and _wants_html(request):
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/auth/login?{urlencode({'next': here})}", status_code=303)
        if request.url.path.startswith("/v1/"):
            return openai_error(error.status_code, code, "invalid_request_error", code)
        if _wants_html(request) and hasattr(request.app.state, "services"):
            return render(request, "error.html", {"code": code}, status_code=error.status_code)
        return JSONResponse({"error": {"code": code, "message": code}}, status_code=error.status_code)
