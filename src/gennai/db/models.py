"""Core tables: users, API keys, conversations, messages, model calls and audit events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gennai.db.base import Base, CreatedAt, new_id, utcnow

# Users and keys refer to organisations and teams: their tables must be in the same metadata.
from gennai.identity import tables as _identity_tables  # noqa: F401

# BigInteger autoincrement keys are INTEGER on SQLite so that it stays a rowid alias.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class User(CreatedAt, Base):
    """A person. ``role`` is global (user, auditor, system_admin); team roles live in memberships."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_display_name", "display_name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    role: Mapped[str] = mapped_column(String(16), default="user")
    role_source: Mapped[str | None] = mapped_column(String(40), default=None)  # who granted role: idp name, admin
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), default=None, index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)  # the directory's id (SCIM)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    deactivated_at: Mapped[datetime | None] = mapped_column(default=None)


class ApiKey(CreatedAt, Base):
    """A key for programs; only its SHA-256 digest is stored, the key is shown once."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_created_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # {"models": [...], "apps": [...]}; a missing list means every model or app.
    scopes: Mapped[dict[str, list[str]] | None] = mapped_column(JSON, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class Conversation(CreatedAt, Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_user_updated", "user_id", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.seq", cascade="all, delete-orphan"
    )


class Message(CreatedAt, Base):
    """One turn. Assistant turns are ``pending`` while streaming, then complete/incomplete/error."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_seq", "conversation_id", "seq", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="complete")
    model: Mapped[str | None] = mapped_column(String(100), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    model_call_id: Mapped[int | None] = mapped_column(ForeignKey("model_calls.id"), default=None)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    model_call: Mapped[ModelCall | None] = relationship(lazy="joined")


class ModelCall(CreatedAt, Base):
    """Usage of one model call, from the portal or the API: the basis of quotas and cost."""

    __tablename__ = "model_calls"
    __table_args__ = (Index("ix_model_calls_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    model: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))  # portal | api | app
    status: Mapped[str] = mapped_column(String(16))  # complete | incomplete | error
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    first_token_ms: Mapped[int | None] = mapped_column(default=None)
    total_ms: Mapped[int] = mapped_column(default=0)


class AuditEvent(Base):
    """Append-only record of who did what; rows are never updated or deleted by the application."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | denied | error | ok
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
