"""Writing audit events. The application only ever inserts; nothing updates or deletes a row."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.db.engine import transaction
from gennai.db.models import AuditEvent


def add_event(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    outcome: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an event to the caller's transaction, so it commits together with the work it records."""
    event = AuditEvent(actor_id=actor_id, action=action, target=target, outcome=outcome, detail=detail or {})
    session.add(event)
    return event


async def record_event(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor_id: uuid.UUID | None,
    action: str,
    outcome: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Record an event in a transaction of its own (refusals, failures: nothing else to commit)."""
    async with transaction(sessions) as session:
        add_event(session, actor_id=actor_id, action=action, outcome=outcome, target=target, detail=detail)
