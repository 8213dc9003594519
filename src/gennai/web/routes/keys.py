"""A user's own API keys: list (with last use), create (shown once), revoke.

Every query is scoped to the signed-in user, so a key id guessed from elsewhere changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gennai.audit.log import add_event
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.identity.apikeys import KeyScopes, create_key, revoke_key
from gennai.identity.directory import list_keys, user_teams
from gennai.web.deps import PortalUser, ServicesDep
from gennai.web.pages import render

router = APIRouter()


def names(text: str) -> list[str] | None:
    """A comma-separated scope field; empty means no restriction."""
    listed = [part.strip() for part in text.split(",") if part.strip()]
    return listed or None


async def _page(
    request: Request,
    user: PortalUser,
    services: ServicesDep,
    after: str | None = None,
    created: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    async with services.sessions() as session:
        page = await list_keys(session, owner_id=user.id, after=after)
        teams = await user_teams(session, user.id)
    return render(
        request,
        "keys.html",
        {"page": page, "teams": teams, "created": created, "error": error},
        status_code=status_code,
    )


@router.get("/keys", response_class=HTMLResponse)
async def keys_page(request: Request, user: PortalUser, services: ServicesDep, after: str | None = None) -> Response:
    return await _page(request, user, services, after=after)


@router.post("/keys", response_class=HTMLResponse)
async def create(
    request: Request,
    user: PortalUser,
    services: ServicesDep,
    name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form(ge=1, le=3650)] = 90,
    team_id: Annotated[str, Form()] = "",
    models: Annotated[str, Form(max_length=2000)] = "",
    apps: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    async with transaction(services.sessions) as session:
        team = None
        if team_id:
            mine = {str(t.id): t for t, _ in await user_teams(session, user.id)}
            if team_id not in mine:
                return await _page(request, user, services, error="not_member", status_code=403)
            team = mine[team_id].id
        key, plain = await create_key(
            session,
            user,
            name.strip(),
            expires_at=utcnow() + timedelta(days=days),
            team_id=team,
            scopes=KeyScopes(models=names(models), apps=names(apps)),
        )
        add_event(
            session,
            actor_id=user.id,
            action="identity.key.create",
            outcome="ok",
            target=str(key.id),
            detail={"team_id": team_id or None, "scopes": key.scopes},
        )
    return await _page(request, user, services, created=plain, status_code=201)


@router.post("/keys/{key_id}/revoke")
async def revoke(key_id: uuid.UUID, user: PortalUser, services: ServicesDep) -> Response:
    async with transaction(services.sessions) as session:
        done = await revoke_key(session, key_id, owner_id=user.id)
        add_event(
            session,
            actor_id=user.id,
            action="identity.key.revoke",
            outcome="ok" if done else "denied",
            target=str(key_id),
        )
    return RedirectResponse("/keys", status_code=303)
