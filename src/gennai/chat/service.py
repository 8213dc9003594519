"""Conversations: storing turns, streaming answers into them, and keeping history tidy.

A turn is written in two steps so nothing is lost: the user's message (and a ``pending`` answer) is
committed before the model is called; the answer is written once the stream ends, as ``complete``,
``incomplete`` (the client or the model broke off; what arrived is kept) or ``error``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from gennai.audit.log import add_event
from gennai.config import CHARS_PER_TOKEN
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.db.models import Conversation, Message, ModelCall, User
from gennai.gateway.base import ChatMessage, ChatRequest, StreamEvent
from gennai.gateway.metering import Meter
from gennai.gateway.service import Gateway
from gennai.guard.policy import GuardRefusal

SYSTEM_PROMPT = (
    "あなたは日本の行政職員の業務を支援するアシスタントです。正確に、簡潔に、丁寧な日本語で答えてください。"
    "分からないことは分からないと答えてください。"
)
TITLE_CHARS = 40
MESSAGE_OVERHEAD_TOKENS = 8  # the role markers a chat template puts around each message
HISTORY_STATUSES = ("complete", "incomplete")  # answers a model is sent again as history; not pending or error
PENDING_GRACE_SECONDS = 60  # past its model's timeout, a pending answer was left by a stopped process


class ChatError(Exception):
    """A request the chat cannot carry out; ``code`` names the cause for APIs and translations."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Turn:
    conversation_id: uuid.UUID
    user_message_id: uuid.UUID | None
    answer_id: uuid.UUID
    model: str


class Chats:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: Gateway,
        *,
        max_message_chars: int,
        max_messages: int,
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._models = gateway.models
        self._max_chars = max_message_chars
        self._max_messages = max_messages

    async def recent(self, user: User, limit: int = 100) -> list[Conversation]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(Conversation)
                .where(Conversation.user_id == user.id)
                .order_by(Conversation.updated_at.desc())
                .limit(limit)
            )
            return list(rows)

    async def get(self, user: User, conversation_id: uuid.UUID) -> Conversation:
        async with self._sessions() as session:
            conversation = await session.scalar(
                select(Conversation)
                .where(Conversation.id == conversation_id, Conversation.user_id == user.id)
                .options(selectinload(Conversation.messages))
            )
        if conversation is None:
            raise ChatError("not_found", "conversation not found", 404)
        return conversation

    async def rename(self, user: User, conversation_id: uuid.UUID, title: str) -> None:
        cleaned = " ".join(title.split())
        if not cleaned or len(cleaned) > 200:
            raise ChatError("invalid_title", "a title needs 1 to 200 characters")
        async with transaction(self._sessions) as session:
            conversation = await self._owned(session, user, conversation_id)
            conversation.title = cleaned
            add_event(session, actor_id=user.id, action="chat.rename", outcome="ok", target=str(conversation_id))

    async def delete(self, user: User, conversation_id: uuid.UUID) -> None:
        async with transaction(self._sessions) as session:
            conversation = await self._owned(session, user, conversation_id)
            await session.delete(conversation)
            add_event(session, actor_id=user.id, action="chat.delete", outcome="ok", target=str(conversation_id))

    async def start_turn(self, user: User, conversation_id: uuid.UUID | None, content: str, model: str | None) -> Turn:
        """Store the user's message and a pending answer; the model is called by ``stream``."""
        text = content.strip()
        if not text:
            raise ChatError("empty_message", "the message is empty")
        if len(text) > self._max_chars:
            raise ChatError("message_too_long", f"the message is longer than {self._max_chars} characters")
        model_name = model or self._models.default
        earlier = [] if conversation_id is None else _history_texts(await self.get(user, conversation_id))
        await self._admit(user, [*earlier, text], model_name)
        async with self._one_writer(), transaction(self._sessions) as session:
            if conversation_id is None:
                conversation = Conversation(user_id=user.id, title=text[:TITLE_CHARS], model=model_name)
                session.add(conversation)
                await session.flush()
                seq = 0
            else:
                conversation = await self._owned(session, user, conversation_id)
                conversation.model = model_name
                seq = await self._next_seq(session, conversation.id)
                if seq + 2 > self._max_messages:
                    raise ChatError("conversation_full", "this conversation is full; start a new one")
            conversation.updated_at = utcnow()
            question = Message(conversation_id=conversation.id, seq=seq, role="user", content=text)
            answer = Message(
                conversation_id=conversation.id, seq=seq + 1, role="assistant", status="pending", model=model_name
            )
            session.add_all([question, answer])
            add_event(
                session,
                actor_id=user.id,
                action="chat.message",
                outcome="allowed",
                target=str(conversation.id),
                detail={"model": model_name, "chars": len(text)},
            )
        return Turn(conversation.id, question.id, answer.id, model_name)

    async def retry(self, user: User, conversation_id: uuid.UUID, model: str | None) -> Turn:
        """Replace the last answer with a new pending one, to be streamed again."""
        current = await self.get(user, conversation_id)
        model_name = model or current.model
        await self._admit(user, _history_texts(current), model_name)
        async with self._one_writer(), transaction(self._sessions) as session:
            conversation = await self._owned(session, user, conversation_id)
            last = await session.scalar(
                select(Message).where(Message.conversation_id == conversation.id).order_by(Message.seq.desc())
            )
            if last is None:
                raise ChatError("nothing_to_retry", "there is no message to answer again")
            seq = last.seq + 1
            if last.role == "assistant":
                if await self._being_written(session, last):
                    raise ChatError("answer_in_progress", "the last answer is still being written", 409)
                seq = last.seq
                await session.delete(last)
                await session.flush()
            conversation.model = model_name
            conversation.updated_at = utcnow()
            answer = Message(
                conversation_id=conversation.id, seq=seq, role="assistant", status="pending", model=model_name
            )
            session.add(answer)
            add_event(session, actor_id=user.id, action="chat.retry", outcome="ok", target=str(conversation.id))
        return Turn(conversation.id, None, answer.id, model_name)

    async def stream(self, user: User, turn: Turn) -> AsyncGenerator[StreamEvent, None]:
        """Call the model for a pending answer and write what arrives, however the stream ends."""
        history = await self._history(turn)
        request = ChatRequest(messages=history, max_tokens=self._gateway.models.spec(turn.model).max_output_tokens)

        async def save_answer(
            session: AsyncSession, call: ModelCall, meter: Meter, status: str, error: str | None
        ) -> None:
            await session.execute(
                update(Message)
                .where(Message.id == turn.answer_id)
                .values(content=meter.text, status=status, error=error, model_call_id=call.id)
            )

        events = self._gateway.stream(
            user.id, turn.model, request, source="portal", target=str(turn.conversation_id), on_finish=save_answer
        )
        async with aclosing(events):
            async for event in events:
                yield event

    async def _history(self, turn: Turn) -> list[ChatMessage]:
        """The messages before the pending answer that fit the model's context beside its answer, newest kept."""
        budget = self._models.spec(turn.model).prompt_chars(MESSAGE_OVERHEAD_TOKENS) - len(SYSTEM_PROMPT)
        async with self._sessions() as session:
            answer_seq = await session.scalar(select(Message.seq).where(Message.id == turn.answer_id))
            rows = await session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == turn.conversation_id,
                    Message.seq < answer_seq,
                    Message.status.in_(HISTORY_STATUSES),
                )
                .order_by(Message.seq.desc())
            )
            kept: list[ChatMessage] = []
            for row in rows:
                cost = len(row.content) + int(MESSAGE_OVERHEAD_TOKENS * CHARS_PER_TOKEN)
                if kept and budget - cost < 0:
                    break
                budget -= cost
                kept.append(ChatMessage("user" if row.role == "user" else "assistant", row.content))
        return [ChatMessage("system", SYSTEM_PROMPT), *reversed(kept)]

    @asynccontextmanager
    async def _one_writer(self) -> AsyncIterator[None]:
        """Two requests adding to one conversation at once (a second tab, a double click) both read the
        same next position; the database's unique (conversation, seq) refuses the second, which is told so.
        """
        try:
            yield
        except IntegrityError as clash:
            raise ChatError("conversation_busy", "another message was just added to this conversation", 409) from clash

    async def _being_written(self, session: AsyncSession, answer: Message) -> bool:
        """A pending answer younger than its model's timeout is still streaming: replacing it would lose it.

        An older one was left by a stopped process, and may be answered again.
        """
        if answer.status != "pending":
            return False
        try:
            timeout = self._models.spec(answer.model or "").timeout_seconds
        except KeyError:  # a model no longer configured
            timeout = 0.0
        since = utcnow() - timedelta(seconds=timeout + PENDING_GRACE_SECONDS)
        recent = select(Message.id).where(Message.id == answer.id, Message.created_at >= since)
        return await session.scalar(recent) is not None

    async def _admit(self, user: User, texts: list[str], model: str) -> None:
        try:
            await self._gateway.admit(user.id, texts, model)
        except GuardRefusal as refusal:
            raise ChatError("refused_by_guard", str(refusal), 403) from refusal

    async def _owned(self, session: AsyncSession, user: User, conversation_id: uuid.UUID) -> Conversation:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == conversation_id, Conversation.user_id == user.id)
        )
        if conversation is None:
            raise ChatError("not_found", "conversation not found", 404)
        return conversation

    @staticmethod
    async def _next_seq(session: AsyncSession, conversation_id: uuid.UUID) -> int:
        highest = await session.scalar(select(func.max(Message.seq)).where(Message.conversation_id == conversation_id))
        return 0 if highest is None else highest + 1


async def close_interrupted_answers(sessions: async_sessionmaker[AsyncSession], older_than: timedelta) -> int:
    """Mark answers left ``pending`` by a stopped process as incomplete, keeping their text."""
    async with transaction(sessions) as session:
        result = await session.execute(
            update(Message)
            .where(Message.status == "pending", Message.created_at < utcnow() - older_than)
            .values(status="incomplete", error="interrupted")
        )
    return int(getattr(result, "rowcount", 0) or 0)


def _history_texts(conversation: Conversation) -> list[str]:
    """The conversation's messages a model will receive again as history: the guard admits them for the
    model of each turn, since a retry or a switch of model sends them to a model that has not had them.
    """
    return [m.content for m in conversation.messages if m.status in HISTORY_STATUSES]
