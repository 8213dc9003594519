"""The gateway core: the echo model, the registry's timeout, metering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from gennai.config import ModelSpec, Settings
from gennai.gateway.base import ChatMessage, ChatRequest, Finished, ProviderError, StreamEvent, TextDelta, complete
from gennai.gateway.metering import Meter
from gennai.gateway.registry import ModelRegistry, UnknownModelError
from gennai.gateway.testing import EchoProvider


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
