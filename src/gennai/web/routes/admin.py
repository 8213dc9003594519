"""Administration pages: users, teams and memberships, organisations, keys, and the audit view.

Who may do what is decided by one dependency per route: ``SystemAdmin`` for the installation,
``TeamManager`` (system admin or that team's admin) for one team, ``TeamsViewer`` for the team list,
``Auditor`` for audit data. Every change is audited in the transaction that makes it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from gennai.audit.log import add_event
from gennai.db.engine import transaction
from gennai.db.models import AuditEvent, User
from gennai.identity.apikeys import revoke_key
from gennai.identity.directory import (
    count_users,
    list_keys,
    list_organisations,
    list_teams,
    list_users,
    team_members,
)
from gennai.identity.tables import GLOBAL_ROLES, Organisation, Team
from gennai.identity.teams import (
    LastAdminError,
    TeamError,
    administered_team_ids,
    create_team,
    remove_member,
    set_member,
)
from gennai.web.deps import Auditor, PortalUser, ServicesDep, SystemAdmin
from gennai.web.pages import render

router = APIRouter(prefix="/admin")
Search = Annotated[str, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400)]


async def teams_viewer(user: PortalUser, services: ServicesDep) -> list[uuid.UUID] | None:
    """The teams this user may see in the team list: None for all (system admin), else the teams they run."""
    if user.role == "system_admin":
        return None
    async with services.sessions() as session:
        teams = await administered_team_ids(session, user.id)
    if not teams:
        raise HTTPException(403, detail="forbidden")
    return teams


TeamsViewer = Annotated[list[uuid.UUID] | None, Depends(teams_viewer)]


async def team_manager(team_id: uuid.UUID, user: PortalUser, services: ServicesDep) -> Team:
    """The team, when the user is a system admin or an admin of this very team."""
    async with services.sessions() as session:
        team = await session.get(Team, team_id)
        allowed = user.role == "system_admin" or (
            team is not None and team.id in await administered_team_ids(session, user.id)
        )
    if not allowed:
        raise HTTPException(403, detail="forbidden")
    if team is None:
        raise HTTPException(404, detail="not_found")
    return team


TeamManager = Annotated[Team, Depends(team_manager)]


@router.get("/users", response_class=HTMLResponse)
async def users_page(
    request: Request, admin: SystemAdmin, services: ServicesDep, q: Search = "", after: Cursor = None
) -> Response:
    async with services.sessions() as session:
        page = await list_users(session, q, after)
        total = await count_users(session, q)
    return render(
        request, "admin_users.html", {"page": page, "q": q, "total": total, "roles": GLOBAL_ROLES, "me": admin}
    )


def _back_to_admin(back: str) -> RedirectResponse:
    """Back to the admin page the form came from; any other target (another site) goes to the user list."""
    return RedirectResponse(back if back.startswith("/admin/") else "/admin/users", status_code=303)


@router.post("/users/{user_id}/active")
async def set_active(
    user_id: uuid.UUID,
    admin: SystemAdmin,
    services: ServicesDep,
    active: Annotated[bool, Form()],
    back: Annotated[str, Form()] = "/admin/users",
) -> Response:
    if user_id == admin.id:
        raise HTTPException(400, detail="cannot_change_self")
    assert services.identity is not None
    if await services.identity.set_active(services.sessions, user_id, active, admin.id, via="admin") is None:
        raise HTTPException(404, detail="not_found")
    return _back_to_admin(back)


@router.post("/users/{user_id}/role")
async def set_role(
    user_id: uuid.UUID,
    admin: SystemAdmin,
    services: ServicesDep,
    role: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/admin/users",
) -> Response:
    if role not in GLOBAL_ROLES:
        raise HTTPException(400, detail="invalid_role")
    if user_id == admin.id:
        raise HTTPException(400, detail="cannot_change_self")
    async with transaction(services.sessions) as session:
        user = await session.get(User, user_id)
        if user is None:
            raise HTTPException(404, detail="not_found")
        add_event(
            session,
            actor_id=admin.id,
            action="identity.user.role",
            outcome="ok",
            target=str(user.id),
            detail={"from": user.role, "to": role},
        )
        user.role, user.role_source = role, "admin"
    return _back_to_admin(back)


@router.get("/teams", response_class=HTMLResponse)
async def teams_page(
    request: Request,
    visible: TeamsViewer,
    user: PortalUser,
    services: ServicesDep,
    q: Search = "",
    after: Cursor = None,
    error: str | None = None,
) -> Response:
    async with services.sessions() as session:
        page = await list_teams(session, q, after, only=visible)
        organisations = await list_organisations(session) if visible is None else []
    return render(
        request,
        "admin_teams.html",
        {"page": page, "q": q, "organisations": organisations, "can_create": visible is None, "error": error},
    )


@router.post("/teams")
async def create_team_route(
    admin: SystemAdmin,
    services: ServicesDep,
    code: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(max_length=200)],
    admin_email: Annotated[str, Form(max_length=320)],
    organisation_id: Annotated[str, Form()] = "",
) -> Response:
    async with transaction(services.sessions) as session:
        first_admin = await session.scalar(select(User).where(User.email == admin_email.strip().lower()))
        if first_admin is None:
            raise HTTPException(400, detail="unknown_user")
        try:
            team = await create_team(
                session, code, name, first_admin.id, uuid.UUID(organisation_id) if organisation_id else None
            )
        except (TeamError, ValueError) as error:
            raise HTTPException(400, detail="invalid_team") from error
        add_event(
            session,
            actor_id=admin.id,
            action="identity.team.create",
            outcome="ok",
            target=str(team.id),
            detail={"code": team.code, "admin": first_admin.email},
        )
    return RedirectResponse(f"/admin/teams/{team.id}", status_code=303)


@router.get("/teams/{team_id}", response_class=HTMLResponse)
async def team_page(
    request: Request, team: TeamManager, services: ServicesDep, after: Cursor = None, error: str | None = None
) -> Response:
    async with services.sessions() as session:
        page = await team_members(session, team.id, after)
    return render(request, "admin_team.html", {"team": team, "page": page, "error": error})


async def _change_members(
    team: Team, actor: User, services: ServicesDep, action: str, target: uuid.UUID, role: str | None
) -> Response:
    """Add, re-role or remove a member; a change that would leave the team without an admin is refused."""
    try:
        async with transaction(services.sessions) as session:
            if role is None:
                await remove_member(session, team.id, target)
            else:
                await set_member(session, team.id, target, role)
            add_event(
                session,
                actor_id=actor.id,
                action=action,
                outcome="ok",
                target=str(team.id),
                detail={"user_id": str(target), "role": role},
            )
    except LastAdminError:
        return RedirectResponse(f"/admin/teams/{team.id}?error=last_admin", status_code=303)
    except TeamError:
        return RedirectResponse(f"/admin/teams/{team.id}?error=invalid_role", status_code=303)
    return RedirectResponse(f"/admin/teams/{team.id}", status_code=303)


@router.post("/teams/{team_id}/members")
async def add_member(
    team: TeamManager,
    user: PortalUser,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form()] = "member",
) -> Response:
    async with services.sessions() as session:
        member = await session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if member is None:
        return RedirectResponse(f"/admin/teams/{team.id}?error=unknown_user", status_code=303)
    return await _change_members(team, user, services, "identity.team.member_add", member, role)


@router.post("/teams/{team_id}/members/{user_id}/role")
async def member_role(
    team: TeamManager, user_id: uuid.UUID, user: PortalUser, services: ServicesDep, role: Annotated[str, Form()]
) -> Response:
    return await _change_members(team, user, services, "identity.team.member_role", user_id, role)


@router.post("/teams/{team_id}/members/{user_id}/remove")
async def member_remove(team: TeamManager, user_id: uuid.UUID, user: PortalUser, services: ServicesDep) -> Response:
    return await _change_members(team, user, services, "identity.team.member_remove", user_id, None)


@router.get("/organisations", response_class=HTMLResponse)
async def organisations_page(request: Request, admin: SystemAdmin, services: ServicesDep) -> Response:
    async with services.sessions() as session:
        organisations = await list_organisations(session)
    return render(request, "admin_organisations.html", {"organisations": organisations})


@router.post("/organisations")
async def create_organisation(
    admin: SystemAdmin,
    services: ServicesDep,
    code: Annotated[str, Form(min_length=1, max_length=100)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    async with transaction(services.sessions) as session:
        if await session.scalar(select(Organisation.id).where(Organisation.code == code.strip())):
            raise HTTPException(400, detail="duplicate_code")
        organisation = Organisation(code=code.strip(), name=name.strip())
        session.add(organisation)
        await session.flush()
        add_event(
            session,
            actor_id=admin.id,
            action="identity.organisation.create",
            outcome="ok",
            target=str(organisation.id),
            detail={"code": organisation.code},
        )
    return RedirectResponse("/admin/organisations", status_code=303)


@router.get("/keys", response_class=HTMLResponse)
async def keys_page(request: Request, admin: SystemAdmin, services: ServicesDep, after: Cursor = None) -> Response:
    async with services.sessions() as session:
        page = await list_keys(session, after=after)
    return render(request, "admin_keys.html", {"page": page})


@router.post("/keys/{key_id}/revoke")
async def revoke(key_id: uuid.UUID, admin: SystemAdmin, services: ServicesDep) -> Response:
    async with transaction(services.sessions) as session:
        done = await revoke_key(session, key_id, owner_id=None)
        add_event(
            session,
            actor_id=admin.id,
            action="identity.key.revoke",
            outcome="ok" if done else "error",
            target=str(key_id),
            detail={"by": "admin"},
        )
    return RedirectResponse("/admin/keys", status_code=303)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, reader: Auditor, services: ServicesDep, action: Annotated[str, Query(max_length=100)] = "auth."
) -> Response:
    """Recent events whose action starts with ``action`` (default: sign-in events); the read is recorded."""
    async with transaction(services.sessions) as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.startswith(action, autoescape=True))
                .order_by(AuditEvent.id.desc())
                .limit(100)
            )
        ).all()
        add_event(
            session,
            actor_id=reader.id,
            action="audit.read",
            outcome="ok",
            target="audit_events",
            detail={"action_prefix": action, "rows": len(events)},
        )
    return render(request, "admin_audit.html", {"events": events, "action": action})
