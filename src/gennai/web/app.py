"""The application factory: builds the services at start-up and mounts every route."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gennai import __version__
from gennai.apps.legal.ingest import ensure_sample_ingested
from gennai.apps.legal.service import LegalResearch
from gennai.chat.service import Chats, close_interrupted_answers
from gennai.config import Settings
from gennai.db.engine import create_engine, session_factory, transaction
from gennai.db.migrate import upgrade
from gennai.gateway.registry import ModelRegistry
from gennai.gateway.service import Gateway
from gennai.guard.policy import Guard
from gennai.identity.users import LOCAL_USER_EMAIL, get_or_create_user
from gennai.web.deps import ApiAuthError
from gennai.web.pages import create_templates, render
from gennai.web.routes import chat, health, legal, openai_api, preferences
from gennai.web.routes.openai_api import openai_error
from gennai.web.services import Services

STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds the same protective headers to every response (pure ASGI, so streams stay streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.effective_database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    models = ModelRegistry(settings)
    guard = Guard()
    gateway = Gateway(sessions, models, guard)
    chats = Chats(sessions, gateway, max_message_chars=settings.max_message_chars,
                  max_messages=settings.max_conversation_messages)
    async with transaction(sessions) as session:
        local_user = await get_or_create_user(session, LOCAL_USER_EMAIL, "ローカル利用者")
    if settings.legal_sample:
        await ensure_sample_ingested(sessions)
    services = Services(settings=settings, engine=engine, sessions=sessions, models=models, gateway=gateway,
                        guard=guard, chats=chats, templates=create_templates(settings.data_dir / "templates"),
                        legal=await LegalResearch.open(sessions), local_user_id=local_user.id)
    longest_timeout = max(spec.timeout_seconds for spec in settings.models)
    await close_interrupted_answers(sessions, older_than=timedelta(seconds=longest_timeout + 60))
    await models.load()
    return services


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        try:
            yield
        finally:
            await services.models.close()
            await services.engine.dispose()

    app = FastAPI(title="gennai", version=__version__, lifespan=lifespan, docs_url="/api/docs", redoc_url=None)
    secure_cookies = bool(settings.public_url and settings.public_url.startswith("https://"))
    app.add_middleware(SessionMiddleware, secret_key=settings.effective_secret_key, session_cookie="gennai_session",
                       same_site="lax", https_only=secure_cookies)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (health, preferences, chat, openai_api, legal):
        app.include_router(module.router)
    _install_error_handlers(app)
    return app


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and request.method == "GET"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiAuthError)
    async def _api_auth(request: Request, error: ApiAuthError) -> Response:
        return openai_error(401, str(error), "invalid_request_error", "invalid_api_key")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in error.errors()
        )
        if request.url.path.startswith("/v1/"):
            return openai_error(400, problems, "invalid_request_error", "invalid_request")
        return JSONResponse({"error": {"code": "invalid_request", "message": problems}}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = error.detail if isinstance(error.detail, str) else "error"
        if request.url.path.startswith("/v1/"):
            return openai_error(error.status_code, code, "invalid_request_error", code)
        if _wants_html(request) and hasattr(request.app.state, "services"):
            return render(request, "error.html", {"code": code}, status_code=error.status_code)
        return JSONResponse({"error": {"code": code, "message": code}}, status_code=error.status_code)
