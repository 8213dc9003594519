"""Gateway.embed on both databases: the vectors, and the usage row and audit event every call leaves."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tests.conftest import free_port

from gennai.config import ModelSpec, Settings
from gennai.db.engine import transaction
from gennai.db.models import AuditEvent, ModelCall
from gennai.gateway.base import ProviderError
from gennai.gateway.registry import ModelRegistry, UnknownModelError, WrongModelKindError
from gennai.gateway.service import MAX_EMBEDDING_CHARS, MAX_EMBEDDING_TEXTS, EmbeddingInputError, Gateway
from gennai.guard.policy import Decision, Guard, GuardRefusal
from gennai.identity.users import get_or_create_user


class MarkingGuard(Guard):
    """A policy with one detector: text marked 機密性3 may not leave."""

    def assess(self, texts: Iterable[str], *, destination: str) -> Decision:
        if any("機密性3" in text for text in texts):
            return Decision(allowed=False, level=3, reasons=("機密性3 data may not be sent",))
        return super().assess(texts, destination=destination)


def gateway(sessions: async_sessionmaker[AsyncSession]) -> Gateway:
    unreachable = f"http://127.0.0.1:{free_port()}/v1"
    settings = Settings(
        secret_key="x",
        models=[
            ModelSpec(name="chat", provider="test"),
            ModelSpec(name="vectors", provider="test", kind="embedding"),
            ModelSpec(
                name="down",
                provider="openai-compatible",
                kind="embedding",
                model="e",
                base_url=unreachable,
                timeout_seconds=3,
            ),
        ],
    )
    return Gateway(sessions, ModelRegistry(settings), MarkingGuard())


async def records(sessions: async_sessionmaker[AsyncSession]) -> tuple[list[ModelCall], list[AuditEvent]]:
    async with sessions() as session:
        return list(await session.scalars(select(ModelCall))), list(await session.scalars(select(AuditEvent)))


async def test_embedding_for_a_user_is_guarded_metered_and_audited(db_sessions):
    async with transaction(db_sessions) as session:
        user = await get_or_create_user(session, "reader@example.go.jp")
    vectors = await gateway(db_sessions).embed(user.id, "vectors", ["労働時間", "休日"], source="app", target="legal")
    assert len(vectors) == 2 and len(vectors[0]) == 256
    [call], [event] = await records(db_sessions)
    assert (call.user_id, call.model, call.source, call.status) == (user.id, "vectors", "app", "complete")
    assert call.prompt_tokens == 2 and call.completion_tokens == 0
    assert (event.actor_id, event.action, event.outcome, event.target) == (
        user.id,
        "app.model_call",
        "complete",
        "legal",
    )
    assert event.detail == {
        "model": "vectors",
        "model_call_id": call.id,
        "error": None,
        "kind": "embedding",
        "texts": 2,
    }
    with pytest.raises(GuardRefusal):
        await gateway(db_sessions).embed(user.id, "vectors", ["機密性3 の文書"], source="api")
    calls, events = await records(db_sessions)
    assert len(calls) == 1 and events[-1].action == "guard.refuse"


async def test_system_work_embeds_without_an_actor(db_sessions):
    # Indexing public statutes: no user, so no guard (the marking would refuse a user) and no actor.
    await gateway(db_sessions).embed(None, "vectors", ["機密性3 という語を含む条文"], source="app")
    [call], [event] = await records(db_sessions)
    assert call.user_id is None and call.status == "complete" and event.actor_id is None
    assert event.target == "vectors"


async def test_wrong_models_and_bad_input_are_refused_before_anything_is_sent(db_sessions):
    models = gateway(db_sessions)
    with pytest.raises(WrongModelKindError, match="chat is a chat model"):
        await models.embed(None, "chat", ["x"], source="app")
    with pytest.raises(UnknownModelError, match="unknown model: ghost"):
        await models.embed(None, "ghost", ["x"], source="app")
    bad_inputs = {
        "no texts to embed": [],
        f"{MAX_EMBEDDING_TEXTS + 1} texts in one call": ["x"] * (MAX_EMBEDDING_TEXTS + 1),
        "text 1 is empty": ["x", ""],
        f"text 0 has {MAX_EMBEDDING_CHARS + 1} characters": ["x" * (MAX_EMBEDDING_CHARS + 1)],
    }
    for message, texts in bad_inputs.items():
        with pytest.raises(EmbeddingInputError, match=message):
            await models.embed(None, "vectors", texts, source="app")
    assert await records(db_sessions) == ([], [])


async def test_a_failing_embedding_model_is_recorded_as_an_error(db_sessions):
    with pytest.raises(ProviderError, match="down is unreachable"):
        await gateway(db_sessions).embed(None, "down", ["x"], source="app")
    [call], [event] = await records(db_sessions)
    assert call.status == "error" and event.outcome == "error"
    assert event.detail["error"] == "model down is unreachable"
