"""Sign-in and sign-out: ``/auth/login`` lists the providers, ``/auth/login/{provider}`` starts the
Authorization Code + PKCE flow, ``/auth/callback/{provider}`` finishes it, ``/auth/logout`` ends the
session here and, where the provider offers it, there too (RP-initiated logout).

SAML providers: ``/auth/saml/{provider}/metadata`` is our SP metadata, ``/auth/saml/{provider}/login``
sends the AuthnRequest and ``/auth/saml/{provider}/acs`` receives the IdP's POST. The ACS is a
cross-site POST by design, so it carries no CSRF token: the signed assertion, bound to our audience,
our address, an outstanding request and a single use, is what protects it.

Every refused sign-in is shown with a clear message and recorded as a security event.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gennai.audit.log import add_event, record_event
from gennai.config import IdentityProvider
from gennai.db.engine import transaction
from gennai.identity.oidc import LoginError, OidcClient, PendingLogin
from gennai.identity.provisioning import map_claims, sign_in_user
from gennai.identity.saml import SamlServiceProvider, SamlSignIn, use_once
from gennai.identity.sessions import COOKIE
from gennai.web.deps import CSRF_SESSION_KEY, PortalUser, ServicesDep, signed_in_user
from gennai.web.pages import render
from gennai.web.services import Services

router = APIRouter(prefix="/auth")
PENDING_KEY = "oidc_pending"
PENDING_LIMIT = 5  # concurrent sign-ins per browser (several tabs); keeps the cookie small
PENDING_MAX_SECONDS = 600


def local_path(candidate: str | None) -> str:
    """Only paths on this site are followed after sign-in (no open redirect)."""
    if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
        return candidate
    return "/"


def _base_url(request: Request, services: Services) -> str:
    return (services.settings.public_url or str(request.base_url)).rstrip("/")


def _client(services: Services, provider: str) -> OidcClient:
    client = services.identity.oidc.get(provider) if services.identity else None
    if client is None:
        raise HTTPException(404, detail="not_found")
    return client


async def _refuse(request: Request, services: Services, provider: str, error: LoginError) -> Response:
    await record_event(
        services.sessions,
        actor_id=None,
        action="auth.login",
        outcome="error" if error.status >= 500 else "denied",
        target=provider,
        detail={
            "reason": error.code,
            "detail": error.detail[:500],
            "client": request.client.host if request.client else None,
        },
    )
    return render(request, "error.html", {"code": "auth." + error.code}, status_code=error.status)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, services: ServicesDep, next: str = "/") -> Response:
    if services.identity is None or not (services.identity.oidc.clients or services.identity.saml.providers):
        return RedirectResponse("/", status_code=303)
    providers = [client.provider for client in services.identity.oidc.clients.values()]
    saml_providers = [sp.provider for sp in services.identity.saml.providers.values()]
    return render(
        request, "login.html", {"providers": providers, "saml_providers": saml_providers, "next": local_path(next)}
    )


@router.get("/login/{provider}")
async def login(provider: str, request: Request, services: ServicesDep, next: str = "/") -> Response:
    client = _client(services, provider)
    assert services.identity is not None
    redirect_uri = f"{_base_url(request, services)}/auth/callback/{provider}"
    try:
        url, pending = await client.begin(redirect_uri, local_path(next), services.identity.reauthenticate_seconds)
    except LoginError as error:
        return await _refuse(request, services, provider, error)
    waiting = [p for p in request.session.get(PENDING_KEY, []) if time.time() - p["started_at"] < PENDING_MAX_SECONDS]
    request.session[PENDING_KEY] = [*waiting[-(PENDING_LIMIT - 1) :], pending.to_json()]
    return RedirectResponse(url, status_code=303)


def _take_pending(request: Request, provider: str, state: str | None) -> PendingLogin:
    """The sign-in this callback answers; each state is usable once, so a replayed callback fails here."""
    waiting = request.session.get(PENDING_KEY, [])
    match = next((p for p in waiting if state and p["state"] == state), None)
    request.session[PENDING_KEY] = [p for p in waiting if p is not match]
    if match is None or match["provider"] != provider:
        raise LoginError("state_mismatch", "the sign-in state is unknown, used already, or for another provider")
    pending = PendingLogin.from_json(match)
    if time.time() - pending.started_at > PENDING_MAX_SECONDS:
        raise LoginError("login_expired", "the sign-in took too long")
    return pending


@router.get("/callback/{provider}")
async def callback(
    provider: str,
    request: Request,
    services: ServicesDep,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=200)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
    error_description: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    client = _client(services, provider)
    assert services.identity is not None
    try:
        pending = _take_pending(request, provider, state)
        if error or not code:
            raise LoginError("idp_error", f"{error or 'no code'}: {error_description or ''}")
        redirect_uri = f"{_base_url(request, services)}/auth/callback/{provider}"
        sign_in = await client.finish(code, pending, redirect_uri)
        return await _signed_in(request, services, client.provider, sign_in.claims, sign_in.id_token, pending.next_path)
    except LoginError as refusal:
        return await _refuse(request, services, provider, refusal)


async def _signed_in(
    request: Request,
    services: Services,
    provider: IdentityProvider,
    claims: dict[str, Any],
    id_token: str | None,
    next_path: str,
    saml_assertion: SamlSignIn | None = None,
) -> Response:
    """The one ending of every sign-in, OIDC or SAML: map the claims, provision the user, start a session."""
    assert services.identity is not None
    identity = map_claims(provider, claims)
    async with transaction(services.sessions) as session:
        if saml_assertion is not None:
            await use_once(session, provider.name, saml_assertion)
        user = await sign_in_user(session, provider, identity)
        add_event(
            session,
            actor_id=user.id,
            action="auth.login",
            outcome="ok",
            target=provider.name,
            detail={"subject": identity.subject, "groups": identity.groups[:50]},
        )
    token = await services.identity.store.create(user.id, provider.name, id_token)
    request.session.pop(CSRF_SESSION_KEY, None)  # a fresh CSRF token for the fresh session
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https" or _base_url(request, services).startswith("https://"),
    )
    return response


def _saml_provider(services: Services, provider: str) -> SamlServiceProvider:
    sp = services.identity.saml.get(provider) if services.identity else None
    if sp is None:
        raise HTTPException(404, detail="not_found")
    return sp


@router.get("/saml/{provider}/metadata")
async def saml_metadata(provider: str, services: ServicesDep) -> Response:
    """Our SP metadata: entity id, ACS address and certificate, for the IdP to register gennai."""
    return Response(_saml_provider(services, provider).metadata_xml(), media_type="application/samlmetadata+xml")


@router.get("/saml/{provider}/login")
async def saml_login(provider: str, request: Request, services: ServicesDep, next: str = "/") -> Response:
    sp = _saml_provider(services, provider)
    assert services.identity is not None
    url = await services.identity.saml.begin(sp, local_path(next))
    return RedirectResponse(url, status_code=303)


@router.post("/saml/{provider}/acs")
async def saml_acs(
    provider: str,
    request: Request,
    services: ServicesDep,
    saml_response: Annotated[str, Form(alias="SAMLResponse")] = "",
) -> Response:
    """The IdP's HTTP-POST: verified, used once, then the same session as any sign-in."""
    sp = _saml_provider(services, provider)
    assert services.identity is not None
    try:
        if not saml_response:
            raise LoginError("assertion_invalid", "no SAMLResponse was posted")
        assertion, next_path = await services.identity.saml.verify(sp, saml_response)
        return await _signed_in(
            request, services, sp.provider, assertion.claims, None, local_path(next_path), assertion
        )
    except LoginError as refusal:
        return await _refuse(request, services, provider, refusal)


@router.post("/logout")
async def logout(request: Request, user: PortalUser, services: ServicesDep) -> Response:
    """End this session; then, when the provider supports it, sign out there as well."""
    target = f"{_base_url(request, services)}/auth/logged-out"
    token = request.cookies.get(COOKIE)
    info = await services.identity.store.end(token) if services.identity and token else None
    await record_event(
        services.sessions, actor_id=user.id, action="auth.logout", outcome="ok", target=info.provider if info else ""
    )
    destination = target
    client = services.identity.oidc.get(info.provider) if services.identity and info else None
    if client is not None and info is not None:
        destination = await client.end_session_url(info.id_token, target) or target
    request.session.clear()
    response = RedirectResponse(destination, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/logged-out", response_class=HTMLResponse)
async def logged_out(request: Request, services: ServicesDep) -> Response:
    if await signed_in_user(request, services) is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "signed_out.html", {})
