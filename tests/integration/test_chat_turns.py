"""Chat turns at the service: the guard admits what each model receives (history included), and a retry
never replaces an answer still being written; on both databases."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.chat.service import ChatError, Chats
from gennai.config import ModelSpec, Settings
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.db.models import Message
from gennai.gateway.registry import ModelRegistry
from gennai.gateway.service import Gateway
from gennai.guard.policy import Decision, Guard
from gennai.identity.users import get_or_create_user


class OnPremisesOnlyGuard(Guard):
    """A policy whose answer depends on the destination: text marked 社外秘 may go to "onprem" only."""

    def assess(self, texts: Iterable[str], *, destination: str) -> Decision:
        if destination != "onprem" and any("社外秘" in text for text in texts):
            return Decision(allowed=False, level=2, reasons=("社外秘 data stays on premises",))
        return super().assess(texts, destination=destination)


def chats(sessions: async_sessionmaker[AsyncSession]) -> Chats:
    settings = Settings(
        secret_key="x",
        models=[ModelSpec(name="onprem", provider="test"), ModelSpec(name="cloud", provider="test")],
    )
    gateway = Gateway(sessions, ModelRegistry(settings), OnPremisesOnlyGuard())
    return Chats(sessions, gateway, max_message_chars=1000, max_messages=50)


async def test_history_is_admitted_for_the_model_that_will_receive_it(db_sessions):
    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "drafter@example.go.jp")
    service = chats(db_sessions)
    turn = await service.start_turn(user, None, "社外秘の資料を要約して", "onprem")
    [event async for event in service.stream(user, turn)]
    # The marked question is in the history now: neither a retry nor a next turn may send it to "cloud".
    for attempt in (
        service.retry(user, turn.conversation_id, "cloud"),
        service.start_turn(user, turn.conversation_id, "続きをお願いします", "cloud"),
    ):
        with pytest.raises(ChatError) as refused:
            await attempt
        assert refused.value.code == "refused_by_guard" and refused.value.status == 403
    follow = await service.start_turn(user, turn.conversation_id, "続きをお願いします", "onprem")
    assert follow.model == "onprem"
    with pytest.raises(ChatError) as direct:
        await service.start_turn(user, None, "社外秘の資料", "cloud")
    assert direct.value.code == "refused_by_guard"


async def test_an_answer_still_being_written_is_not_replaced_by_a_retry(db_sessions):
    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "drafter@example.go.jp")
    service = chats(db_sessions)
    turn = await service.start_turn(user, None, "質問", "onprem")  # its answer is pending: not streamed yet
    with pytest.raises(ChatError) as busy:
        await service.retry(user, turn.conversation_id, None)
    assert (busy.value.code, busy.value.status) == ("answer_in_progress", 409)
    async with transaction(db_sessions) as session:  # as if a stopped process had left it long ago
        await session.execute(
            update(Message).where(Message.id == turn.answer_id).values(created_at=utcnow() - timedelta(hours=1))
        )
    again = await service.retry(user, turn.conversation_id, None)
    assert [event async for event in service.stream(user, again)]
