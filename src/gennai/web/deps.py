"""The shared dependencies of the request path: identity, then CSRF for forms; guard and audit
live in the services the routes call, so no route can skip them.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from gennai.db.engine import transaction
from gennai.db.models import User
from gennai.identity.apikeys import allows, authenticate_key
from gennai.identity.sessions import COOKIE as SESSION_COOKIE
from gennai.web.services import Services

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_SESSION_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_UNKNOWN = object()


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def csrf_token(request: Request) -> str:
    """The per-session token that forms and scripts send back with every change."""
    token = request.session.get(CSRF_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return str(token)


async def _check_csrf(request: Request) -> None:
    expected = request.session.get(CSRF_SESSION_KEY)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get(CSRF_FIELD) or "")
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise HTTPException(403, detail="csrf")


async def signed_in_user(request: Request, services: Services) -> User | None:
    """The user of this browser: the local user in local mode, else the one its session cookie names."""
    cached: User | object | None = getattr(request.state, "user", _UNKNOWN)
    if cached is not _UNKNOWN:
        return cached  # type: ignore[return-value]
    user: User | None = None
    if services.local_mode:
        async with services.sessions() as session:
            user = await session.get(User, services.local_user_id)
    elif services.identity is not None and (token := request.cookies.get(SESSION_COOKIE)):
        found = await services.identity.session_user(services.sessions, token)
        user = found[0] if found else None
    user = user if user is not None and user.is_active else None
    request.state.user = user
    return user


async def _session_user(request: Request, services: Services) -> User:
    user = await signed_in_user(request, services)
    if user is None:
        raise HTTPException(401, detail="not_signed_in")
    return user


async def portal_user(request: Request, services: ServicesDep) -> User:
    """Identity for portal pages and their scripts; changes must also carry the CSRF token."""
    user = await _session_user(request, services)
    if request.method not in SAFE_METHODS:
        await _check_csrf(request)
    return user


PortalUser = Annotated[User, Depends(portal_user)]


class ApiScopeError(Exception):
    """A valid key used beyond its scopes; answered with 403."""


class ApiAuthError(Exception):
    """A program's request without a usable key; answered in the OpenAI error shape."""


async def api_user(
    request: Request, services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> User:
    """Identity for programs: ``Authorization: Bearer <key>``; the key is kept for scope checks."""
    scheme, _, key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiAuthError("missing or malformed Authorization header; send 'Bearer <api key>'")
    async with transaction(services.sessions) as session:
        found = await authenticate_key(session, key.strip())
    if found is None:
        raise ApiAuthError("invalid, expired or revoked API key")
    request.state.api_key = found[0]
    return found[1]


ApiUser = Annotated[User, Depends(api_user)]


def key_allows(request: Request, kind: str, name: str) -> bool:
    """Whether the request's API key (if it came with one) is scoped to this model or app."""
    key = getattr(request.state, "api_key", None)
    return key is None or allows(key, kind, name)


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


async def app_api_user(
    request: Request, services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> User:
    """Identity for the apps' JSON APIs: an API key (programs) or the portal session (portal scripts).

    A session-authenticated change must be JSON: a browser cannot send a cross-site JSON request
    without a CORS preflight, which gennai never grants, so the content type is the CSRF defence here.
    """
    if authorization:
        return await api_user(request, services, authorization)
    user = await _session_user(request, services)
    if request.method not in SAFE_METHODS and not _is_json(request):
        await _check_csrf(request)
    return user


AppApiUser = Annotated[User, Depends(app_api_user)]


def app_caller(app: str) -> Callable[..., Awaitable[User]]:
    """``app_api_user`` for one app: a key not scoped to ``app`` is refused."""

    async def caller(request: Request, user: AppApiUser) -> User:
        if not key_allows(request, "apps", app):
            raise ApiScopeError(f"this API key is not allowed to use the app {app!r}")
        return user

    return caller


async def system_admin(user: PortalUser) -> User:
    """Pages that change the whole installation: teams, users, roles."""
    if user.role != "system_admin":
        raise HTTPException(403, detail="forbidden")
    return user


SystemAdmin = Annotated[User, Depends(system_admin)]


async def auditor(user: PortalUser) -> User:
    """Pages that read audit data (each read is itself recorded by the page)."""
    if user.role not in ("auditor", "system_admin"):
        raise HTTPException(403, detail="forbidden")
    return user


Auditor = Annotated[User, Depends(auditor)]
