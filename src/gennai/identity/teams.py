"""Teams and memberships, with the one rule that must always hold: a team that has an admin keeps one.

Every change of a membership goes through here, whoever asks (admin page, identity provider, SCIM),
so the rule cannot be bypassed. The team row is locked first (PostgreSQL) so that two admins
demoting each other at the same moment cannot both succeed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.identity.tables import TEAM_ROLES, Membership, Team


class LastAdminError(Exception):
    """The change would leave a team without an admin."""


class TeamError(ValueError):
    """A team change that cannot be made as asked (unknown role, duplicate code, …)."""


async def _lock_team(session: AsyncSession, team_id: uuid.UUID) -> Team:
    team = await session.scalar(select(Team).where(Team.id == team_id).with_for_update())
    if team is None:
        raise TeamError("no such team")
    return team


async def _other_admins(session: AsyncSession, team_id: uuid.UUID, user_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.team_id == team_id, Membership.role == "admin", Membership.user_id != user_id)
        )
        or 0
    )


async def set_member(
    session: AsyncSession, team_id: uuid.UUID, user_id: uuid.UUID, role: str, source: str = "admin"
) -> Membership:
    """Add the user to the team or change their team role (``source`` is recorded for new memberships)."""
    if role not in TEAM_ROLES:
        raise TeamError(f"unknown team role: {role}")
    await _lock_team(session, team_id)
    membership = await session.get(Membership, (team_id, user_id))
    if membership is None:
        membership = Membership(team_id=team_id, user_id=user_id, role=role, source=source)
        session.add(membership)
    elif membership.role != role:
        if membership.role == "admin" and not await _other_admins(session, team_id, user_id):
            raise LastAdminError("the team's last admin cannot be demoted")
        membership.role = role
    await session.flush()
    return membership


async def remove_member(session: AsyncSession, team_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Remove the membership; False when there was none."""
    await _lock_team(session, team_id)
    membership = await session.get(Membership, (team_id, user_id))
    if membership is None:
        return False
    if membership.role == "admin" and not await _other_admins(session, team_id, user_id):
        raise LastAdminError("the team's last admin cannot be removed")
    await session.delete(membership)
    await session.flush()
    return True


async def create_team(
    session: AsyncSession,
    code: str,
    name: str,
    admin_id: uuid.UUID | None,
    organisation_id: uuid.UUID | None = None,
    source: str = "admin",
) -> Team:
    """A new team, with its first admin when one is named (directories may add members later)."""
    code, name = code.strip(), name.strip()
    if not code or not name or len(code) > 100 or len(name) > 200:
        raise TeamError("code (1–100) and name (1–200 characters) are required")
    if await session.scalar(select(Team.id).where(Team.code == code)) is not None:
        raise TeamError(f"a team with code {code!r} exists")
    team = Team(code=code, name=name, organisation_id=organisation_id)
    session.add(team)
    await session.flush()
    if admin_id is not None:
        session.add(Membership(team_id=team.id, user_id=admin_id, role="admin", source=source))
        await session.flush()
    return team


async def team_role(session: AsyncSession, team_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """The user's role in the team, or None when not a member."""
    return await session.scalar(
        select(Membership.role).where(Membership.team_id == team_id, Membership.user_id == user_id)
    )


async def administered_team_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(Membership.team_id).where(Membership.user_id == user_id, Membership.role == "admin")
    )
    return list(rows.all())
