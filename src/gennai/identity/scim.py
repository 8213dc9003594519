"""SCIM 2.0 (RFC 7643/7644) provisioning: Users are gennai users (``userName`` is the e-mail), Groups
are teams. Directories such as Entra ID create, update and deactivate users through it.

Deleting a user deactivates it (the audit trail must keep who did what); deactivation ends its
sessions and stops its keys at once. Every refusal raises ``ScimError`` with the SCIM error fields.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.db.models import User
from gennai.identity.tables import Membership, Organisation, Team
from gennai.identity.teams import LastAdminError, create_team, remove_member, set_member
from gennai.identity.users import normalise_email

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_COUNT = 200
FILTER = re.compile(r'^\s*(\w+(?:\.\w+)?)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)
MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.IGNORECASE)


class ScimError(Exception):
    """A refused SCIM request: HTTP status, SCIM ``scimType`` and a readable detail."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


@dataclass
class Query:
    """A list request: one ``attribute eq "value"`` filter at most, and 1-based paging."""

    attribute: str | None
    value: str | None
    start_index: int
    count: int


def parse_query(filter_text: str | None, start_index: int | None, count: int | None) -> Query:
    attribute = value = None
    if filter_text:
        match = FILTER.match(filter_text)
        if match is None:
            raise ScimError(
                400, f"unsupported filter: {filter_text!r} (only 'attribute eq \"value\"')", "invalidFilter"
            )
        attribute, value = match.group(1).lower(), match.group(2).replace('\\"', '"')
    return Query(attribute, value, max(1, start_index or 1), min(MAX_COUNT, max(0, 100 if count is None else count)))


def _bool(value: Any, name: str) -> bool:
    """SCIM booleans; Entra ID sends them as the strings "True"/"False"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ScimError(400, f"{name} must be a boolean", "invalidValue")


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ScimError(400, f"{name} must be a string of at most {limit} characters", "invalidValue")
    return value.strip()


def user_resource(user: User, organisation: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [USER_SCHEMA],
        "id": str(user.id),
        "userName": user.email,
        "displayName": user.display_name,
        "name": {"formatted": user.display_name},
        "active": user.is_active,
        "emails": [{"value": user.email, "primary": True, "type": "work"}],
        "meta": {
            "resourceType": "User",
            "created": user.created_at.isoformat(),
            "location": f"/scim/v2/Users/{user.id}",
        },
    }
    if user.external_id:
        resource["externalId"] = user.external_id
    if organisation:
        resource["schemas"].append(ENTERPRISE_SCHEMA)
        resource[ENTERPRISE_SCHEMA] = {"organization": organisation}
    return resource


async def organisation_code(session: AsyncSession, user: User) -> str | None:
    if user.organisation_id is None:
        return None
    return await session.scalar(select(Organisation.code).where(Organisation.id == user.organisation_id))


def _display_name(body: dict[str, Any]) -> str | None:
    if "displayName" in body:
        return _text(body["displayName"], "displayName", 200)
    name = body.get("name")
    if isinstance(name, dict):
        if name.get("formatted"):
            return _text(name["formatted"], "name.formatted", 200)
        parts = [name.get("familyName"), name.get("givenName")]
        joined = " ".join(str(p) for p in parts if p)
        return joined[:200] if joined else None
    return None


async def _set_user_name(session: AsyncSession, user: User, value: Any) -> None:
    try:
        email = normalise_email(_text(value, "userName", 320))
    except ValueError as error:
        raise ScimError(400, "userName must be an e-mail address", "invalidValue") from error
    if email != user.email:
        taken = await session.scalar(select(User.id).where(User.email == email))
        if taken is not None:
            raise ScimError(409, f"userName {email} is taken", "uniqueness")
        user.email = email


async def _set_organisation(session: AsyncSession, user: User, code: Any) -> None:
    code = _text(code, "organization", 100)
    organisation = await session.scalar(select(Organisation).where(Organisation.code == code))
    if organisation is None:
        organisation = Organisation(code=code, name=code)
        session.add(organisation)
        await session.flush()
    user.organisation_id = organisation.id


async def apply_user(session: AsyncSession, user: User, body: dict[str, Any]) -> bool | None:
    """Write a full or partial user representation; returns the wanted ``active`` when one was given."""
    if "userName" in body:
        await _set_user_name(session, user, body["userName"])
    display = _display_name(body)
    if display:
        user.display_name = display
    if "externalId" in body:
        user.external_id = _text(body["externalId"], "externalId", 200) if body["externalId"] else None
    extension = body.get(ENTERPRISE_SCHEMA)
    if isinstance(extension, dict) and extension.get("organization"):
        await _set_organisation(session, user, extension["organization"])
    return _bool(body["active"], "active") if "active" in body else None


async def create_user(session: AsyncSession, body: dict[str, Any]) -> tuple[User, bool | None]:
    if "userName" not in body:
        raise ScimError(400, "userName is required", "invalidValue")
    user = User(email="", display_name="")
    await _set_user_name(session, user, body["userName"])
    active = await apply_user(session, user, body)
    user.display_name = user.display_name or user.email.split("@")[0]
    session.add(user)
    await session.flush()
    return user, active


def patch_as_body(operations: Any) -> dict[str, Any]:
    """A user PatchOp as the partial representation it amounts to (paths: simple attributes)."""
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list", "invalidSyntax")
    body: dict[str, Any] = {}
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() not in ("add", "replace"):
            raise ScimError(400, "only add and replace operations are supported on users", "invalidSyntax")
        path, value = operation.get("path"), operation.get("value")
        if path is None:
            if not isinstance(value, dict):
                raise ScimError(400, "an operation without path needs an object value", "invalidValue")
            body.update(value)
        elif path == "name.formatted":
            body["displayName"] = value
        elif path in ("active", "displayName", "userName", "externalId"):
            body[path] = value
        elif path.startswith(ENTERPRISE_SCHEMA + ":"):
            body[ENTERPRISE_SCHEMA] = {path.rsplit(":", 1)[1]: value}
        else:
            raise ScimError(400, f"unsupported path: {path}", "invalidPath")
    return body


async def find_users(session: AsyncSession, query: Query) -> tuple[int, list[User]]:
    statement = select(User)
    if query.attribute is not None:
        columns = {"username": User.email, "externalid": User.external_id, "id": User.id}
        if query.attribute not in columns:
            raise ScimError(400, f"cannot filter on {query.attribute}", "invalidFilter")
        value: Any = query.value.lower() if query.attribute == "username" and query.value else query.value
        if query.attribute == "id":
            try:
                value = uuid.UUID(str(value))
            except ValueError:
                return 0, []
        statement = statement.where(columns[query.attribute] == value)
    total = int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
    rows = await session.scalars(statement.order_by(User.email).offset(query.start_index - 1).limit(query.count))
    return total, list(rows.all())


async def group_resource(session: AsyncSession, team: Team, with_members: bool = True) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": str(team.id),
        "displayName": team.name,
        "externalId": team.code,
        "meta": {
            "resourceType": "Group",
            "created": team.created_at.isoformat(),
            "location": f"/scim/v2/Groups/{team.id}",
        },
    }
    if with_members:
        rows = await session.execute(
            select(User.id, User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.team_id == team.id)
            .order_by(User.email)
            .limit(10_000)
        )
        resource["members"] = [{"value": str(user_id), "display": email} for user_id, email in rows.all()]
    return resource


def _member_ids(value: Any) -> list[uuid.UUID]:
    items = value if isinstance(value, list) else [value]
    try:
        return [uuid.UUID(str(item["value"])) for item in items]
    except (TypeError, KeyError, ValueError) as error:
        raise ScimError(400, 'members must be a list of {"value": <user id>}', "invalidValue") from error


async def _add_members(session: AsyncSession, team: Team, ids: list[uuid.UUID]) -> None:
    found = set((await session.scalars(select(User.id).where(User.id.in_(ids)))).all())
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ScimError(400, f"no such users: {', '.join(missing[:5])}", "invalidValue")
    for user_id in ids:
        if await session.get(Membership, (team.id, user_id)) is None:
            await set_member(session, team.id, user_id, "member", source="scim")


async def _remove_members(session: AsyncSession, team: Team, ids: list[uuid.UUID]) -> None:
    for user_id in ids:
        try:
            await remove_member(session, team.id, user_id)
        except LastAdminError as error:
            raise ScimError(409, f"user {user_id} is the team's last admin", "mutability") from error


async def create_group(session: AsyncSession, body: dict[str, Any]) -> Team:
    name = _text(body.get("displayName"), "displayName", 200)
    code = _text(body.get("externalId") or name, "externalId", 100)
    if not name:
        raise ScimError(400, "displayName is required", "invalidValue")
    if await session.scalar(select(Team.id).where(Team.code == code)) is not None:
        raise ScimError(409, f"a group with externalId {code!r} exists", "uniqueness")
    team = await create_team(session, code, name, admin_id=None, source="scim")
    if body.get("members"):
        await _add_members(session, team, _member_ids(body["members"]))
    return team


async def patch_group(session: AsyncSession, team: Team, operations: Any) -> None:
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "Operations must be a non-empty list", "invalidSyntax")
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "each operation must be an object", "invalidSyntax")
        op, path, value = str(operation.get("op", "")).lower(), operation.get("path") or "", operation.get("value")
        member = MEMBER_PATH.match(path)
        if op == "add" and path.lower() == "members":
            await _add_members(session, team, _member_ids(value))
        elif op == "remove" and member:
            await _remove_members(session, team, _member_ids({"value": member.group(1)}))
        elif op == "remove" and path.lower() == "members":
            await _remove_members(session, team, _member_ids(value))
        elif op in ("add", "replace") and path == "displayName":
            team.name = _text(value, "displayName", 200)
        elif op in ("add", "replace") and not path and isinstance(value, dict):
            team.name = _text(value.get("displayName", team.name), "displayName", 200)
        else:
            raise ScimError(400, f"unsupported group operation: {op} {path}", "invalidPath")
