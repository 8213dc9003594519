"""Listing and searching users, teams and keys at the scale of a whole government (180,000 users).

Paging is by keyset (``after`` the last e-mail or code shown), never by OFFSET, so page 3,000 costs
what page 1 costs. Search is by prefix over an indexed column: e-mail for Latin text (addresses are
stored lower-case), display name otherwise (Japanese names), each a range scan of one index.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from gennai.db.models import ApiKey, User
from gennai.identity.tables import Membership, Organisation, Team

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last)."""

    rows: list[T]
    next_after: str | None


def _prefix(column: InstrumentedAttribute[str], prefix: str) -> Any:
    """``column`` starts with ``prefix``, as a range an index can answer (LIKE often cannot)."""
    return (column >= prefix) & (column < prefix + "\U0010ffff")


def _page(rows: list[Any], key: Any) -> Page[Any]:
    if len(rows) > PAGE_SIZE:
        return Page(rows[:PAGE_SIZE], key(rows[PAGE_SIZE - 1]))
    return Page(rows, None)


def _user_search(statement: Select[Any], query: str) -> Select[Any]:
    query = query.strip()
    if not query:
        return statement
    if query.isascii():
        return statement.where(_prefix(User.email, query.lower()))
    return statement.where(_prefix(User.display_name, query))


async def list_users(session: AsyncSession, query: str = "", after: str | None = None) -> Page[User]:
    statement = _user_search(select(User), query)
    if after:
        statement = statement.where(User.email > after)
    rows = (await session.scalars(statement.order_by(User.email).limit(PAGE_SIZE + 1))).all()
    return _page(list(rows), lambda user: user.email)


async def list_teams(
    session: AsyncSession, query: str = "", after: str | None = None, only: list[uuid.UUID] | None = None
) -> Page[Team]:
    statement = select(Team)
    if query.strip():
        statement = statement.where(_prefix(Team.code, query.strip()) | _prefix(Team.name, query.strip()))
    if only is not None:
        statement = statement.where(Team.id.in_(only))
    if after:
        statement = statement.where(Team.code > after)
    rows = (await session.scalars(statement.order_by(Team.code).limit(PAGE_SIZE + 1))).all()
    return _page(list(rows), lambda team: team.code)


async def team_members(
    session: AsyncSession, team_id: uuid.UUID, after: str | None = None
) -> Page[tuple[User, Membership]]:
    # The team's memberships first (a materialised CTE): planners otherwise walk all users in e-mail
    # order looking for the few in this team, which costs a full scan for small teams.
    members = select(Membership).where(Membership.team_id == team_id).cte("members").prefix_with("MATERIALIZED")
    statement = select(User, aliased(Membership, members)).join(members, members.c.user_id == User.id)
    if after:
        statement = statement.where(User.email > after)
    rows = (await session.execute(statement.order_by(User.email).limit(PAGE_SIZE + 1))).all()
    return _page([(user, membership) for user, membership in rows], lambda row: row[0].email)


async def user_teams(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Team, Membership]]:
    rows = await session.execute(
        select(Team, Membership)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user_id)
        .order_by(Team.code)
    )
    return [(team, membership) for team, membership in rows.all()]


async def list_keys(
    session: AsyncSession, owner_id: uuid.UUID | None = None, after: str | None = None
) -> Page[tuple[ApiKey, User]]:
    """Keys newest first; ``after`` is the id of the last key shown (ids are random, so keyset on created+id)."""
    statement = select(ApiKey, User).join(User, User.id == ApiKey.user_id)
    if owner_id is not None:
        statement = statement.where(ApiKey.user_id == owner_id)
    if after:
        last = await session.get(ApiKey, uuid.UUID(after))
        if last is not None:
            statement = statement.where(
                (ApiKey.created_at < last.created_at) | ((ApiKey.created_at == last.created_at) & (ApiKey.id < last.id))
            )
    rows = (
        await session.execute(statement.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(PAGE_SIZE + 1))
    ).all()
    return _page([(key, user) for key, user in rows], lambda row: str(row[0].id))


async def list_organisations(session: AsyncSession) -> list[Organisation]:
    return list((await session.scalars(select(Organisation).order_by(Organisation.code))).all())


async def count_users(session: AsyncSession, query: str = "") -> int:
    return int(await session.scalar(_user_search(select(func.count()).select_from(User), query)) or 0)
