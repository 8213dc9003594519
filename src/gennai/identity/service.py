"""The identity service the portal holds: session store, OIDC clients, SAML providers, user (de)activation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.audit.log import add_event
from gennai.config import Settings
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.db.models import User
from gennai.identity.oidc import OidcClients
from gennai.identity.saml import SamlProviders
from gennai.identity.sessions import RedisSessionStore, SessionInfo, SessionStore, SqlSessionStore, Timeouts
from gennai.identity.tables import COMMON_TEAM_ID, Team


@dataclass
class Identity:
    """Who is signed in, and the levers that end access at once."""

    store: SessionStore
    oidc: OidcClients
    saml: SamlProviders
    reauthenticate_seconds: int
    redis: Any = None

    async def session_user(
        self, sessions: async_sessionmaker[AsyncSession], token: str
    ) -> tuple[User, SessionInfo] | None:
        """The active user behind a session token; a deactivated user's session is ended on sight."""
        info = await self.store.get(token)
        if info is None:
            return None
        async with sessions() as session:
            user = await session.get(User, info.user_id)
        if user is None or not user.is_active:
            await self.store.end(token)
            return None
        return user, info

    async def set_active(
        self,
        sessions: async_sessionmaker[AsyncSession],
        user_id: uuid.UUID,
        active: bool,
        actor_id: uuid.UUID | None,
        via: str,
    ) -> User | None:
        """Activate or deactivate; deactivation ends every session (keys stop: they check the user)."""
        async with transaction(sessions) as session:
            user = await session.get(User, user_id)
            if user is None:
                return None
            if user.is_active != active:
                user.is_active = active
                user.deactivated_at = None if active else utcnow()
                action = "identity.user." + ("activate" if active else "deactivate")
                add_event(
                    session,
                    actor_id=actor_id,
                    action=action,
                    outcome="ok",
                    target=str(user.id),
                    detail={"via": via, "email": user.email},
                )
        if not active:
            await self.store.end_all(user_id)
        return user

    async def close(self) -> None:
        await self.oidc.close()
        if self.redis is not None:
            await self.redis.aclose()


def build_identity(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Identity:
    timeouts = Timeouts(
        idle=timedelta(minutes=settings.session_idle_minutes), absolute=timedelta(hours=settings.session_absolute_hours)
    )
    redis = None
    store: SessionStore
    if settings.redis_url:
        from redis.asyncio import from_url

        redis = from_url(settings.redis_url)
        store = RedisSessionStore(redis, timeouts)
    else:
        store = SqlSessionStore(sessions, timeouts)
    base_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    saml = SamlProviders(settings.saml_providers, base_url, settings.data_dir, sessions)
    return Identity(
        store=store,
        oidc=OidcClients(settings.oidc_providers),
        saml=saml,
        reauthenticate_seconds=settings.reauthenticate_days * 86400,
        redis=redis,
    )


async def ensure_common_team(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The common team exists whatever happened to the rows the migration wrote."""
    async with transaction(sessions) as session:
        if await session.scalar(select(Team.id).where(Team.id == COMMON_TEAM_ID)) is None:
            session.add(Team(id=COMMON_TEAM_ID, code="common", name="共通"))
