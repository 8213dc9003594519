"""Looking up and creating users by e-mail, the identity every sign-in path agrees on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gennai.db.models import User

LOCAL_USER_EMAIL = "local@localhost"


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    local, _, domain = cleaned.partition("@")
    if not local or not domain or " " in cleaned or len(cleaned) > 320:
        raise ValueError(f"not an e-mail address: {email!r}")
    return cleaned


async def get_or_create_user(session: AsyncSession, email: str, display_name: str = "") -> User:
    address = normalise_email(email)
    user = await session.scalar(select(User).where(User.email == address))
    if user is None:
        user = User(email=address, display_name=display_name or address.split("@")[0])
        session.add(user)
        await session.flush()
    return user
