"""Identity tables: organisations, teams, memberships, sign-in identities and server-side sessions.

Users and API keys live in ``gennai.db.models`` with the other core tables; these tables add the
organisation around them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gennai.db.base import Base, CreatedAt, new_id, utcnow

# The team every user may use; the AI-app contract names it.
COMMON_TEAM_ID = uuid.UUID("00000000-0000-0000-0000-000000000000")

GLOBAL_ROLES = ("user", "auditor", "system_admin")
TEAM_ROLES = ("member", "admin")


class Organisation(CreatedAt, Base):
    """A ministry or agency."""

    __tablename__ = "organisations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Team(CreatedAt, Base):
    """A working group inside an organisation; ``code`` is what group rules and directories refer to."""

    __tablename__ = "teams"
    __table_args__ = (Index("ix_teams_name", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), default=None, index=True
    )
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Membership(CreatedAt, Base):
    """A user in a team with a team role; ``source`` tells which sign-in or directory granted it."""

    __tablename__ = "memberships"
    __table_args__ = (Index("ix_memberships_user_id", "user_id"),)

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    source: Mapped[str] = mapped_column(String(40), default="admin")  # admin | scim | idp:<provider>


class UserIdentity(CreatedAt, Base):
    """The subject a user has at one identity provider (subjects are unique per provider only)."""

    __tablename__ = "user_identities"
    __table_args__ = (Index("ix_user_identities_user_id", "user_id"),)

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class AuthSession(CreatedAt, Base):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256 digest."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    id_token: Mapped[str | None] = mapped_column(Text, default=None)  # the hint for RP-initiated logout


class SamlRequest(Base):
    """An AuthnRequest sent to a SAML provider; a response must name one (InResponseTo) that has not expired.

    Kept server-side: the IdP's cross-site POST carries no SameSite cookie, so the browser session cannot hold it.
    """

    __tablename__ = "saml_requests"
    __table_args__ = (Index("ix_saml_requests_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    next_path: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()


class SamlAssertion(Base):
    """An assertion already used to sign in, kept until it expires so it can never be used again (replay)."""

    __tablename__ = "saml_assertions"
    __table_args__ = (Index("ix_saml_assertions_expires_at", "expires_at"),)

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column()
