"""The configured models, built once from settings and looked up by name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from gennai.config import ModelSpec, Settings
from gennai.gateway.base import ChatRequest, Provider, ProviderError, StreamEvent
from gennai.gateway.local import LocalProvider
from gennai.gateway.openai_compat import OpenAICompatibleProvider
from gennai.gateway.testing import EchoProvider


class UnknownModelError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown model: {name}")
        self.name = name


def build_provider(spec: ModelSpec) -> Provider:
    if spec.provider == "local":
        return LocalProvider(spec.name, spec.model, spec.context_window, spec.max_output_tokens)
    if spec.provider == "test":
        return EchoProvider(spec.name)
    return OpenAICompatibleProvider(spec)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    label: str
    provider: str
    max_output_tokens: int


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self._specs = {spec.name: spec for spec in settings.models}
        self._providers = {spec.name: build_provider(spec) for spec in settings.models}
        self.default = settings.effective_default_model

    def get(self, name: str | None) -> Provider:
        key = name or self.default
        try:
            return self._providers[key]
        except KeyError:
            raise UnknownModelError(key) from None

    def spec(self, name: str) -> ModelSpec:
        return self._specs[name]

    def catalogue(self) -> list[ModelInfo]:
        return [
            ModelInfo(spec.name, spec.label or spec.name, spec.provider, spec.max_output_tokens)
            for spec in self._specs.values()
        ]

    async def stream(self, name: str, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Stream from the named model; a model silent for longer than its timeout is a failure."""
        provider = self.get(name)
        timeout = self._specs[name].timeout_seconds
        events = provider.stream(request)
        try:
            while True:
                try:
                    async with asyncio.timeout(timeout):
                        event = await anext(events)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise ProviderError(f"model {name} did not answer within {timeout:g} s", retryable=True) from None
                yield event
        finally:
            await events.aclose()

    async def load(self) -> None:
        """Load every embedded model now, so the first user does not wait for it."""
        await asyncio.gather(
            *(p.load() for p in self._providers.values() if isinstance(p, LocalProvider))
        )

    async def ready(self) -> dict[str, bool]:
        return {name: await provider.ready() for name, provider in self._providers.items()}

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.close()
