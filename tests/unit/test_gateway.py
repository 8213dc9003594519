"""The gateway core: the echo model (chat and embeddings), the registry's kinds and timeout, metering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from gennai.config import ModelSpec, Settings
from gennai.gateway.base import (
    ChatMessage,
    ChatRequest,
    EmbeddingResult,
    Finished,
    ProviderError,
    StreamEvent,
    TextDelta,
    complete,
)
from gennai.gateway.local import LocalProvider
from gennai.gateway.metering import Meter
from gennai.gateway.registry import ALL_KINDS, ModelRegistry, UnknownModelError, WrongModelKindError
from gennai.gateway.testing import EMBEDDING_DIMENSIONS, EchoProvider


def request(text: str) -> ChatRequest:
    return ChatRequest([ChatMessage("system", "s"), ChatMessage("user", text)])


async def test_echo_streams_in_pieces_then_finishes() -> None:
    events = [e async for e in EchoProvider("echo").stream(request("こんにちは世界"))]
    assert all(isinstance(e, TextDelta) for e in events[:-1]) and len(events) > 2
    assert isinstance(events[-1], Finished)
    assert "".join(e.text for e in events[:-1] if isinstance(e, TextDelta)) == "Echo: こんにちは世界"


async def test_echo_fails_mid_stream_when_asked() -> None:
    received: list[StreamEvent] = []
    with pytest.raises(ProviderError):
        async for event in EchoProvider("echo").stream(request("[[error]]")):
            received.append(event)
    assert len(received) == 1


def registry(*specs: ModelSpec) -> ModelRegistry:
    return ModelRegistry(Settings(models=list(specs), secret_key="x"))


async def test_registry_lists_and_rejects_unknown_models() -> None:
    models = registry(ModelSpec(name="a", provider="test", label="A"), ModelSpec(name="b", provider="test"))
    assert [(m.name, m.label) for m in models.catalogue()] == [("a", "A"), ("b", "b")]
    assert models.default == "a"
    with pytest.raises(UnknownModelError, match="unknown model: zzz"):
        models.get("zzz")


class StallingProvider:
    """A model that sends one piece and then goes silent."""

    name = "stall"
    closed = False

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        try:
            yield TextDelta("partial")
            await asyncio.sleep(3600)
        finally:
            StallingProvider.closed = True

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


async def test_silent_model_times_out_and_is_closed() -> None:
    models = registry(ModelSpec(name="stall", provider="test", timeout_seconds=0.2))
    models._providers["stall"] = StallingProvider()
    received: list[StreamEvent] = []
    with pytest.raises(ProviderError, match=r"did not answer within 0\.2 s"):
        async for event in models.stream("stall", request("x")):
            received.append(event)
    assert received == [TextDelta("partial")]
    assert StallingProvider.closed


async def test_complete_collects_the_stream() -> None:
    result = await complete(EchoProvider("echo"), request("abc"))
    assert result.text == "Echo: abc" and result.finish_reason == "stop" and result.usage.completion_tokens == 3


def test_meter_records_first_token_and_usage() -> None:
    meter = Meter(model="m", source="api", user_id=None)
    meter.observe(TextDelta("a"))
    meter.observe(TextDelta("b"))
    call = meter.model_call("incomplete")
    assert meter.text == "ab"
    assert call.first_token_ms is not None and call.completion_tokens == 2 and call.status == "incomplete"


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_echo_embedding_is_deterministic_normalised_and_meaningful() -> None:
    texts = ["労働時間の上限規制", "労働時間の上限", "天気予報は雨", "ＡＢＣ", "abc"]
    result = await EchoProvider("echo").embed(texts)
    again = await EchoProvider("other").embed(texts)
    assert result == again  # no randomness, not even Python's per-process string hashing
    assert all(len(v) == EMBEDDING_DIMENSIONS for v in result.vectors)
    assert all(abs(cosine(v, v) - 1) < 1e-9 for v in result.vectors)
    labour, labour_short, weather, wide, narrow = result.vectors
    assert cosine(labour, labour_short) > 0.5 > cosine(labour, weather)
    assert wide == narrow  # NFKC and case folding: full-width ＡＢＣ is abc
    assert result.usage.prompt_tokens == 7  # 28 characters, 4 a token as for chat


def embedding_registry() -> ModelRegistry:
    return registry(ModelSpec(name="chat", provider="test"), ModelSpec(name="vec", provider="test", kind="embedding"))


async def test_registry_keeps_chat_and_embedding_models_apart() -> None:
    models = embedding_registry()
    assert [m.name for m in models.catalogue()] == ["chat"]  # the chat picker's list
    assert [(m.name, m.kind) for m in models.catalogue(ALL_KINDS)] == [("chat", "chat"), ("vec", "embedding")]
    with pytest.raises(WrongModelKindError, match="vec is an embedding model; it cannot chat"):
        models.get("vec")
    with pytest.raises(WrongModelKindError, match="chat is a chat model; it cannot embed"):
        models.embedder("chat")
    with pytest.raises(UnknownModelError, match="unknown model: zzz"):
        models.embedder("zzz")
    assert len((await models.embed("vec", ["a", "b"])).vectors) == 2


class MiscountingProvider(EchoProvider):
    """An embedding server that answers one vector short."""

    async def embed(self, texts: list[str]) -> EmbeddingResult:
        result = await super().embed(texts)
        return EmbeddingResult(result.vectors[1:], result.usage)


async def test_registry_refuses_a_wrong_number_of_vectors() -> None:
    models = embedding_registry()
    models._providers["vec"] = MiscountingProvider("vec")
    with pytest.raises(ProviderError, match="returned 1 vectors for 2 texts"):
        await models.embed("vec", ["a", "b"])


async def test_local_provider_refuses_the_use_its_kind_does_not_serve() -> None:
    with pytest.raises(ProviderError, match="m is a chat model; it cannot be used for embedding"):
        await LocalProvider("m").embed(["x"])  # refused before any weights are loaded
