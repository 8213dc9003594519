"""API keys for programs: random, shown once, stored as a SHA-256 digest.

The keys carry 256 bits of randomness, so a fast digest is as safe as a slow password hash and
lets every API request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.db.base import utcnow
from gennai.db.models import ApiKey, User

KEY_PREFIX = "gn-"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_key(
    session: AsyncSession, user: User, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key for ``user``; the plain key is returned here and never again."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(user_id=user.id, name=name, prefix=plain[:10], key_hash=digest(plain), expires_at=expires_at)
    session.add(key)
    await session.flush()
    return key, plain


async def authenticate(session: AsyncSession, plain: str) -> User | None:
    """The active user owning this unrevoked, unexpired key, or None; marks the key as used."""
    if not plain.startswith(KEY_PREFIX):
        return None
    row = (
        await session.execute(
            select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.key_hash == digest(plain))
        )
    ).first()
    if row is None:
        return None
    key, user = row
    now = utcnow()
    expires_at = key.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=now.tzinfo)
    if key.revoked_at is not None or (expires_at is not None and expires_at <= now) or not user.is_active:
        return None
    key.last_used_at = now
    return user
