"""The one path by which any part of gennai calls a model: guard, stream or embed, meter, record.

The portal chat, the OpenAI-compatible API and the apps all come through here, so the guard,
the usage rows behind quotas and cost, and the audit trail apply to every model call alike.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.audit.log import add_event, record_event
from gennai.db.engine import transaction
from gennai.db.models import ModelCall
from gennai.gateway.base import ChatRequest, EmbeddingResult, ProviderError, StreamEvent, TextDelta
from gennai.gateway.metering import Meter, estimated_tokens
from gennai.gateway.registry import ModelRegistry
from gennai.guard.policy import Decision, Guard, GuardRefusal

FinishHook = Callable[[AsyncSession, ModelCall, Meter, str, str | None], Awaitable[None]]

MAX_EMBEDDING_TEXTS = 256  # per call: a caller with more sends batches, each metered and retried on its own
MAX_EMBEDDING_CHARS = 8192  # per text: about the longest input embedding models take (OpenAI: 8191 tokens)


class EmbeddingInputError(ValueError):
    """Texts refused before any model saw them; the message says which and why, and nothing was cut."""


def check_embedding_input(texts: list[str]) -> None:
    if not texts:
        raise EmbeddingInputError("no texts to embed")
    if len(texts) > MAX_EMBEDDING_TEXTS:
        raise EmbeddingInputError(f"{len(texts)} texts in one call; at most {MAX_EMBEDDING_TEXTS}")
    for index, text in enumerate(texts):
        if not text:
            raise EmbeddingInputError(f"text {index} is empty")
        if len(text) > MAX_EMBEDDING_CHARS:
            raise EmbeddingInputError(f"text {index} has {len(text)} characters; at most {MAX_EMBEDDING_CHARS}")


class Gateway:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], models: ModelRegistry, guard: Guard) -> None:
        self.sessions = sessions
        self.models = models
        self.guard = guard

    async def admit(self, user_id: uuid.UUID, texts: list[str], model: str) -> Decision:
        """Ask the guard about texts for a chat model; a refusal is recorded before it is raised."""
        self.models.get(model)
        return await self._guard(user_id, texts, model)

    async def _guard(self, user_id: uuid.UUID, texts: list[str], model: str) -> Decision:
        try:
            return self.guard.admit(texts, destination=model)
        except GuardRefusal as refusal:
            await record_event(
                self.sessions,
                actor_id=user_id,
                action="guard.refuse",
                outcome="denied",
                target=model,
                detail={"reasons": list(refusal.decision.reasons)},
            )
            raise

    async def stream(
        self,
        user_id: uuid.UUID,
        model: str,
        request: ChatRequest,
        *,
        source: str,
        target: str = "",
        on_finish: FinishHook | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream an admitted request; however it ends, its usage and an audit event are written."""
        prompt = estimated_tokens(m.content for m in request.messages)
        meter = Meter(model=model, source=source, user_id=user_id, prompt_estimate=prompt)
        status, error = "incomplete", None
        try:
            async with aclosing(self.models.stream(model, request)) as events:
                async for event in events:
                    meter.observe(event)
                    yield event
            status = "complete"
        except ProviderError as failure:
            # An answer cut off by the model keeps what arrived, as one cut off by the client does.
            status, error = ("incomplete" if meter.pieces else "error"), str(failure)
            raise
        finally:
            await self._record(meter, status, error, target, on_finish)

    async def _record(
        self,
        meter: Meter,
        status: str,
        error: str | None,
        target: str,
        on_finish: FinishHook | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """The usage row and the audit event of a call, in one transaction, even when the caller was cancelled."""
        with anyio.CancelScope(shield=True):
            async with transaction(self.sessions) as session:
                call = meter.model_call(status)
                session.add(call)
                await session.flush()
                if on_finish is not None:
                    await on_finish(session, call, meter, status, error)
                add_event(
                    session,
                    actor_id=meter.user_id,
                    action=f"{meter.source}.model_call",
                    outcome=status,
                    target=target or meter.model,
                    detail={"model": meter.model, "model_call_id": call.id, "error": error, **(detail or {})},
                )

    async def complete(self, user_id: uuid.UUID, model: str, request: ChatRequest, *, source: str, target: str) -> str:
        """Admit and run a request whose caller needs the whole answer at once (apps, not chat)."""
        await self.admit(user_id, [m.content for m in request.messages], model)
        async with aclosing(self.stream(user_id, model, request, source=source, target=target)) as events:
            return "".join([event.text async for event in events if isinstance(event, TextDelta)])

    async def embed(
        self, user_id: uuid.UUID | None, model: str, texts: list[str], *, source: str, target: str = ""
    ) -> list[list[float]]:
        """One vector per text from an embedding model, guarded, metered and audited like a chat call.

        ``user_id`` is None for system work (indexing public statutes): no user's data, so no guard,
        and the usage row and audit event carry no actor.
        """
        return (await self.embed_with_usage(user_id, model, texts, source=source, target=target)).vectors

    async def embed_with_usage(
        self, user_id: uuid.UUID | None, model: str, texts: list[str], *, source: str, target: str = ""
    ) -> EmbeddingResult:
        """``embed``, also returning the token usage (the OpenAI-compatible API reports it)."""
        self.models.embedder(model)
        check_embedding_input(texts)
        if user_id is not None:
            await self._guard(user_id, texts, model)
        meter = Meter(model=model, source=source, user_id=user_id, prompt_estimate=estimated_tokens(texts))
        status, error = "incomplete", None
        try:
            result = await self.models.embed(model, texts)
            meter.usage, status = result.usage, "complete"
            return result
        except ProviderError as failure:
            status, error = "error", str(failure)
            raise
        finally:
            await self._record(meter, status, error, target, detail={"kind": "embedding", "texts": len(texts)})
