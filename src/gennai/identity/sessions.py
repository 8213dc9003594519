"""Server-side sign-in sessions: in the database, or in Redis when one is configured.

The browser holds only a random token; the store keys sessions by its SHA-256 digest, so a leaked
store cannot be replayed as cookies. A session ends at the first of: sign-out, idle timeout,
absolute timeout, or the user's deactivation (every session of the user is ended at once).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.identity.tables import AuthSession

COOKIE = "gennai_sid"
# Writing last-seen on every request would turn each page view into a write; a minute is precise enough.
TOUCH_EVERY = timedelta(seconds=60)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class SessionInfo:
    """What a request learns from its session cookie."""

    id: str
    user_id: uuid.UUID
    provider: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    id_token: str | None = None


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def _is_live(info: SessionInfo, timeouts: Timeouts, now: datetime) -> bool:
    return _aware(info.expires_at) > now and _aware(info.last_seen_at) + timeouts.idle > now


def _new_session(
    user_id: uuid.UUID, provider: str, id_token: str | None, timeouts: Timeouts
) -> tuple[str, SessionInfo]:
    """A fresh cookie token and the session it opens, keyed by the token's digest (both stores)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    info = SessionInfo(
        id=token_digest(token),
        user_id=user_id,
        provider=provider,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timeouts.absolute,
        id_token=id_token,
    )
    return token, info


class SessionStore(Protocol):
    """Where sessions live; both stores behave the same, so tests run against either."""

    timeouts: Timeouts

    async def create(self, user_id: uuid.UUID, provider: str, id_token: str | None) -> str: ...

    async def get(self, token: str) -> SessionInfo | None: ...

    async def end(self, token: str) -> SessionInfo | None: ...

    async def end_all(self, user_id: uuid.UUID) -> int: ...


class SqlSessionStore:
    """Sessions in the ``auth_sessions`` table (SQLite or PostgreSQL)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], timeouts: Timeouts) -> None:
        self.sessions = sessions
        self.timeouts = timeouts

    async def create(self, user_id: uuid.UUID, provider: str, id_token: str | None) -> str:
        token, info = _new_session(user_id, provider, id_token, self.timeouts)
        async with transaction(self.sessions) as session:
            session.add(AuthSession(**asdict(info)))
        return token

    async def get(self, token: str) -> SessionInfo | None:
        key = token_digest(token)
        now = utcnow()
        async with transaction(self.sessions) as session:
            row = await session.get(AuthSession, key)
            if row is None:
                return None
            info = _info(row)
            if not _is_live(info, self.timeouts, now):
                await session.delete(row)
                return None
            if _aware(row.last_seen_at) + TOUCH_EVERY < now:
                await session.execute(update(AuthSession).where(AuthSession.id == key).values(last_seen_at=now))
            return info

    async def end(self, token: str) -> SessionInfo | None:
        async with transaction(self.sessions) as session:
            row = await session.get(AuthSession, token_digest(token))
            if row is None:
                return None
            await session.delete(row)
            return _info(row)

    async def end_all(self, user_id: uuid.UUID) -> int:
        async with transaction(self.sessions) as session:
            ids = (await session.scalars(select(AuthSession.id).where(AuthSession.user_id == user_id))).all()
            await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
        return len(ids)


def _info(row: AuthSession) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        user_id=row.user_id,
        provider=row.provider,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        id_token=row.id_token,
    )


class RedisSessionStore:
    """Sessions in Redis, shared by every node; each key expires by itself at the idle or absolute limit."""

    PREFIX = "gennai:session:"
    USER_PREFIX = "gennai:user-sessions:"

    def __init__(self, redis: Any, timeouts: Timeouts) -> None:
        self.redis = redis
        self.timeouts = timeouts

    def _ttl(self, info: SessionInfo, now: datetime) -> int:
        remaining = min(info.expires_at - now, self.timeouts.idle)
        return max(1, int(remaining.total_seconds()))

    async def _save(self, info: SessionInfo, now: datetime) -> None:
        body = json.dumps(
            {
                "user_id": str(info.user_id),
                "provider": info.provider,
                "created_at": info.created_at.isoformat(),
                "last_seen_at": info.last_seen_at.isoformat(),
                "expires_at": info.expires_at.isoformat(),
                "id_token": info.id_token,
            }
        )
        user_key = self.USER_PREFIX + str(info.user_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.PREFIX + info.id, body, ex=self._ttl(info, now))
            pipe.sadd(user_key, info.id)
            pipe.expire(user_key, int(self.timeouts.absolute.total_seconds()))
            await pipe.execute()

    async def create(self, user_id: uuid.UUID, provider: str, id_token: str | None) -> str:
        token, info = _new_session(user_id, provider, id_token, self.timeouts)
        await self._save(info, info.created_at)
        return token

    async def _load(self, key: str) -> SessionInfo | None:
        raw = await self.redis.get(self.PREFIX + key)
        if raw is None:
            return None
        data = json.loads(raw)
        return SessionInfo(
            id=key,
            user_id=uuid.UUID(data["user_id"]),
            provider=data["provider"],
            created_at=datetime.fromisoformat(data["created_at"]),
            last_seen_at=datetime.fromisoformat(data["last_seen_at"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            id_token=data["id_token"],
        )

    async def get(self, token: str) -> SessionInfo | None:
        now = utcnow()
        info = await self._load(token_digest(token))
        if info is None:
            return None
        if not _is_live(info, self.timeouts, now):
            await self.redis.delete(self.PREFIX + info.id)
            await self.redis.srem(self.USER_PREFIX + str(info.user_id), info.id)
            return None
        if info.last_seen_at + TOUCH_EVERY < now:
            info.last_seen_at = now
            await self._save(info, now)
        return info

    async def end(self, token: str) -> SessionInfo | None:
        info = await self._load(token_digest(token))
        if info is not None:
            await self.redis.delete(self.PREFIX + info.id)
            await self.redis.srem(self.USER_PREFIX + str(info.user_id), info.id)
        return info

    async def end_all(self, user_id: uuid.UUID) -> int:
        user_key = self.USER_PREFIX + str(user_id)
        ids = [i.decode() if isinstance(i, bytes) else i for i in await self.redis.smembers(user_key)]
        ended = int(await self.redis.delete(*[self.PREFIX + i for i in ids])) if ids else 0
        await self.redis.delete(user_key)
        return ended
