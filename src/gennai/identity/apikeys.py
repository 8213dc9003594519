"""API keys for programs: random, shown once, stored as a SHA-256 digest.

The keys carry 256 bits of randomness, so a fast digest is as safe as a slow password hash and
lets every API request be checked with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.db.base import utcnow
from gennai.db.models import ApiKey, User

KEY_PREFIX = "gn-"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyScopes:
    """What a key may reach; None means no restriction on that kind."""

    models: list[str] | None = None
    apps: list[str] | None = None

    def to_json(self) -> dict[str, list[str]] | None:
        scopes = {kind: names for kind, names in (("models", self.models), ("apps", self.apps)) if names is not None}
        return scopes or None


def allows(key: ApiKey, kind: str, name: str) -> bool:
    """Whether ``key`` may use the model or app ``name`` (kind: "models" or "apps")."""
    allowed = (key.scopes or {}).get(kind)
    return allowed is None or name in allowed


async def create_key(
    session: AsyncSession,
    user: User,
    name: str = "",
    expires_at: datetime | None = None,
    team_id: uuid.UUID | None = None,
    scopes: KeyScopes | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``user`` (acting for ``team_id`` when given); the plain key is returned here and never again."""
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        user_id=user.id,
        team_id=team_id,
        name=name,
        prefix=plain[:10],
        key_hash=digest(plain),
        expires_at=expires_at,
        scopes=scopes.to_json() if scopes else None,
    )
    session.add(key)
    await session.flush()
    return key, plain


async def revoke_key(session: AsyncSession, key_id: uuid.UUID, owner_id: uuid.UUID | None) -> bool:
    """Revoke a key; with ``owner_id`` only that user's key (so an id guessed by another user does nothing)."""
    statement = update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
    if owner_id is not None:
        statement = statement.where(ApiKey.user_id == owner_id)
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def authenticate_key(session: AsyncSession, plain: str) -> tuple[ApiKey, User] | None:
    """The usable key and its active owner, or None; marks the key as used."""
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
    return key, user
