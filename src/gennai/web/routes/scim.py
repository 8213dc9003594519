"""SCIM 2.0 endpoints for directories: ``/scim/v2/Users`` and ``/scim/v2/Groups``.

Authorised by ``Authorization: Bearer <GENNAI_SCIM_TOKEN>`` only; every change is audited, every
refusal answers in the SCIM error schema and is recorded as a security event.
"""

from __future__ import annotations

import hmac
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.audit.log import add_event, record_event
from gennai.db.engine import transaction
from gennai.db.models import User
from gennai.identity.scim import (
    LIST_SCHEMA,
    ScimError,
    apply_user,
    create_group,
    create_user,
    find_users,
    group_resource,
    organisation_code,
    parse_query,
    patch_as_body,
    patch_group,
    user_resource,
)
from gennai.identity.tables import Team
from gennai.web.deps import ServicesDep
from gennai.web.services import Services

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
MEDIA_TYPE = "application/scim+json"
MAX_BODY = 1_000_000


async def scim_client(services: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> str:
    """The directory's bearer token must equal GENNAI_SCIM_TOKEN (compared in constant time)."""
    expected = services.settings.scim_token
    scheme, _, token = (authorization or "").partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        raise ScimError(401, "a valid SCIM bearer token is required")
    return "scim"


router = APIRouter(prefix="/scim/v2", dependencies=[Depends(scim_client)])


def scim_response(body: dict[str, Any], status_code: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=MEDIA_TYPE)


async def scim_error_response(request: Request, error: ScimError) -> Response:
    """The SCIM error body (RFC 7644 §3.12); the refusal is recorded as a security event."""
    services: Services = request.app.state.services
    await record_event(
        services.sessions,
        actor_id=None,
        action="scim.refused",
        outcome="denied" if error.status in (401, 403) else "error",
        target=request.url.path[:200],
        detail={"status": error.status, "scimType": error.scim_type, "detail": error.detail[:500]},
    )
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    return scim_response(body, error.status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ScimError(413, "request body too large", "tooMany")
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise ScimError(400, "the body is not valid JSON", "invalidSyntax") from error
    if not isinstance(body, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    return body


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise ScimError(404, "no such resource") from error


async def _user(session: AsyncSession, user_id: str) -> User:
    user = await session.get(User, _uuid(user_id))
    if user is None:
        raise ScimError(404, f"no user {user_id}")
    return user


async def _user_response(services: Services, user_id: uuid.UUID, status_code: int = 200) -> JSONResponse:
    async with services.sessions() as session:
        user = await _user(session, str(user_id))
        return scim_response(user_resource(user, await organisation_code(session, user)), status_code)


async def _write_user(services: Services, user_id: str | None, body: dict[str, Any], action: str) -> uuid.UUID:
    """Create or update a user in one transaction; (de)activation then goes through the identity service."""
    async with transaction(services.sessions) as session:
        if user_id is None:
            user, active = await create_user(session, body)
        else:
            user = await _user(session, user_id)
            active = await apply_user(session, user, body)
        add_event(
            session, actor_id=None, action=action, outcome="ok", target=str(user.id), detail={"userName": user.email}
        )
        changed = user.id
    if active is not None and services.identity is not None:
        await services.identity.set_active(services.sessions, changed, active, None, via="scim")
    return changed


@router.get("/Users")
async def list_users(
    services: ServicesDep, filter: str | None = None, startIndex: int | None = None, count: int | None = None
) -> Response:
    query = parse_query(filter, startIndex, count)
    async with services.sessions() as session:
        total, users = await find_users(session, query)
        resources = [user_resource(user, await organisation_code(session, user)) for user in users]
    return scim_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": query.start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@router.post("/Users")
async def create(request: Request, services: ServicesDep) -> Response:
    user_id = await _write_user(services, None, await _body(request), "scim.user.create")
    return await _user_response(services, user_id, 201)


@router.get("/Users/{user_id}")
async def get_user(user_id: str, services: ServicesDep) -> Response:
    return await _user_response(services, _uuid(user_id))


@router.put("/Users/{user_id}")
async def replace_user(user_id: str, request: Request, services: ServicesDep) -> Response:
    changed = await _write_user(services, user_id, await _body(request), "scim.user.replace")
    return await _user_response(services, changed)


@router.patch("/Users/{user_id}")
async def patch_user(user_id: str, request: Request, services: ServicesDep) -> Response:
    body = patch_as_body((await _body(request)).get("Operations"))
    changed = await _write_user(services, user_id, body, "scim.user.patch")
    return await _user_response(services, changed)


@router.delete("/Users/{user_id}")
async def delete_user(user_id: str, services: ServicesDep) -> Response:
    """Deactivates: the user and its history stay for the audit trail, its access ends at once."""
    await _write_user(services, user_id, {"active": False}, "scim.user.delete")
    return Response(status_code=204)


async def _team(session: AsyncSession, group_id: str) -> Team:
    team = await session.get(Team, _uuid(group_id))
    if team is None:
        raise ScimError(404, f"no group {group_id}")
    return team


@router.get("/Groups")
async def list_groups(
    services: ServicesDep,
    filter: str | None = None,
    startIndex: int | None = None,
    count: int | None = None,
    excludedAttributes: str = "",
) -> Response:
    query = parse_query(filter, startIndex, count)
    statement = select(Team)
    if query.attribute is not None:
        columns = {"displayname": Team.name, "externalid": Team.code}
        if query.attribute not in columns:
            raise ScimError(400, f"cannot filter on {query.attribute}", "invalidFilter")
        statement = statement.where(columns[query.attribute] == query.value)
    with_members = "members" not in excludedAttributes
    async with services.sessions() as session:
        total = int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
        teams = (
            await session.scalars(statement.order_by(Team.code).offset(query.start_index - 1).limit(query.count))
        ).all()
        resources = [await group_resource(session, team, with_members) for team in teams]
    return scim_response(
        {
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": query.start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


@router.post("/Groups")
async def create_group_route(request: Request, services: ServicesDep) -> Response:
    body = await _body(request)
    async with transaction(services.sessions) as session:
        team = await create_group(session, body)
        add_event(
            session,
            actor_id=None,
            action="scim.group.create",
            outcome="ok",
            target=str(team.id),
            detail={"code": team.code},
        )
        return scim_response(await group_resource(session, team), 201)


@router.get("/Groups/{group_id}")
async def get_group(group_id: str, services: ServicesDep) -> Response:
    async with services.sessions() as session:
        return scim_response(await group_resource(session, await _team(session, group_id)))


@router.patch("/Groups/{group_id}")
async def patch_group_route(group_id: str, request: Request, services: ServicesDep) -> Response:
    body = await _body(request)
    async with transaction(services.sessions) as session:
        team = await _team(session, group_id)
        await patch_group(session, team, body.get("Operations"))
        add_event(session, actor_id=None, action="scim.group.patch", outcome="ok", target=str(team.id))
    async with services.sessions() as session:
        return scim_response(await group_resource(session, await _team(session, group_id)))
