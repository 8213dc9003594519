"""The one path by which any part of gennai calls a model: guard, stream, meter, record.

The portal chat, the OpenAI-compatible API and the apps all come through here, so the guard,
the usage rows behind quotas and cost, and the audit trail apply to every model call alike.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.audit.log import add_event, record_event
from gennai.db.engine import transaction
from gennai.db.models import ModelCall
from gennai.gateway.base import ChatRequest, ProviderError, StreamEvent, TextDelta
from gennai.gateway.metering import Meter
from gennai.gateway.registry import ModelRegistry
from gennai.guard.policy import Decision, Guard, GuardRefusal

FinishHook = Callable[[AsyncSession, ModelCall, Meter, str, str | None], Awaitable[None]]


class Gateway:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], models: ModelRegistry, guard: Guard) -> None:
        self.sessions = sessions
        self.models = models
        self.guard = guard

    async def admit(self, user_id: uuid.UUID, texts: list[str], model: str) -> Decision:
        """Ask the guard; a refusal is recorded before it is raised."""
        self.models.get(model)
        try:
            return self.guard.admit(texts, destination=model)
        except GuardRefusal as refusal:
            await record_event(
                self.sessions, actor_id=user_id, action="guard.refuse", outcome="denied",
                target=model, detail={"reasons": list(refusal.decision.reasons)},
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
        meter = Meter(model=model, source=source, user_id=user_id)
        status, error = "incomplete", None
        try:
            async for event in self.models.stream(model, request):
                meter.observe(event)
                yield event
            status = "complete"
        except ProviderError as failure:
            # An answer cut off by the model keeps what arrived, as one cut off by the client does.
            status, error = ("incomplete" if meter.pieces else "error"), str(failure)
            raise
        finally:
            with anyio.CancelScope(shield=True):
                async with transaction(self.sessions) as session:
                    call = meter.model_call(status)
                    session.add(call)
                    await session.flush()
                    if on_finish is not None:
                        await on_finish(session, call, meter, status, error)
                    add_event(
                        session, actor_id=user_id, action=f"{source}.model_call", outcome=status,
                        target=target or model, detail={"model": model, "model_call_id": call.id, "error": error},
                    )

    async def complete(self, user_id: uuid.UUID, model: str, request: ChatRequest, *, source: str, target: str) -> str:
        """Admit and run a request whose caller needs the whole answer at once (apps, not chat)."""
        await self.admit(user_id, [m.content for m in request.messages], model)
        parts = [
            event.text
            async for event in self.stream(user_id, model, request, source=source, target=target)
            if isinstance(event, TextDelta)
        ]
        return "".join(parts)
