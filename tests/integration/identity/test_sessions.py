"""Server-side sessions behave alike in the database and in Redis: timeouts, sign-out, deactivation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from tests.conftest import REDIS_URL, unavailable

from gennai.db.engine import transaction
from gennai.db.models import User
from gennai.identity.sessions import RedisSessionStore, SessionStore, SqlSessionStore, Timeouts

TIMEOUTS = Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=8))


@pytest.fixture(params=["sql", "redis"])
async def store(request, db_sessions) -> AsyncIterator[SessionStore]:
    if request.param == "sql":
        yield SqlSessionStore(db_sessions, TIMEOUTS)
        return
    from redis.asyncio import from_url

    redis = from_url(REDIS_URL)
    try:
        await redis.ping()
    except Exception as error:
        await redis.aclose()
        unavailable(f"Redis not reachable at {REDIS_URL}: {error}")
    yield RedisSessionStore(redis, TIMEOUTS)
    await redis.aclose()


async def a_user(db_sessions) -> uuid.UUID:
    async with transaction(db_sessions) as session:
        user = User(email=f"{uuid.uuid4().hex[:8]}@example.go.jp")
        session.add(user)
    return user.id


async def test_sessions_end_on_timeouts_sign_out_and_deactivation(store: SessionStore, db_sessions, monkeypatch):
    user_id = await a_user(db_sessions)
    first = await store.create(user_id, "mof", "id-token")
    second = await store.create(user_id, "mof", "id-token")
    info = await store.get(first)
    assert info is not None and info.user_id == user_id and info.id_token == "id-token"
    assert await store.get("not-a-token") is None

    ended = await store.end(first)
    assert ended is not None and await store.get(first) is None

    later = info.last_seen_at + TIMEOUTS.idle + timedelta(seconds=1)
    monkeypatch.setattr("gennai.identity.sessions.utcnow", lambda: later)
    assert await store.get(second) is None  # idle too long
    monkeypatch.undo()

    third = await store.create(user_id, "mof", None)
    fourth = await store.create(user_id, "mof", None)
    assert await store.end_all(user_id) == 2
    assert await store.get(third) is None and await store.get(fourth) is None


async def test_absolute_timeout_ends_even_an_active_session(store: SessionStore, db_sessions, monkeypatch):
    user_id = await a_user(db_sessions)
    token = await store.create(user_id, "mof", None)
    info = await store.get(token)
    assert info is not None
    # Active every 20 minutes (never idle) until past the absolute limit.
    moment = info.created_at
    while moment < info.created_at + TIMEOUTS.absolute - timedelta(minutes=20):
        moment += timedelta(minutes=20)
        monkeypatch.setattr("gennai.identity.sessions.utcnow", lambda at=moment: at)
        assert await store.get(token) is not None
    monkeypatch.setattr("gennai.identity.sessions.utcnow", lambda: info.created_at + TIMEOUTS.absolute)
    assert await store.get(token) is None
