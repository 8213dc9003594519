"""The configured models, built once from settings and looked up by name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Collection
from dataclasses import dataclass
from typing import get_args

from gennai.config import ModelKind, ModelSpec, Settings
from gennai.gateway.base import ChatRequest, EmbeddingResult, Provider, ProviderError, StreamEvent
from gennai.gateway.local import LocalProvider
from gennai.gateway.openai_compat import OpenAICompatibleProvider
from gennai.gateway.testing import EchoProvider

CHAT: tuple[ModelKind, ...] = ("chat",)
ALL_KINDS: tuple[ModelKind, ...] = get_args(ModelKind)


class UnknownModelError(LookupError):
    def __init__(self, name: str, message: str = "") -> None:
        super().__init__(message or f"unknown model: {name}")
        self.name = name


_MISUSE: dict[ModelKind, str] = {
    "embedding": "is an embedding model; it cannot chat",
    "chat": "is a chat model; it cannot embed texts",
}


class WrongModelKindError(UnknownModelError):
    """A configured model asked to do what its kind does not: for that use, it is as good as unknown."""

    def __init__(self, name: str, kind: ModelKind) -> None:
        super().__init__(name, f"model {name} {_MISUSE[kind]}")
        self.kind = kind


def build_provider(spec: ModelSpec) -> Provider:
    if spec.provider == "local":
        return LocalProvider(spec.name, spec.model, spec.context_window, spec.max_output_tokens, kind=spec.kind)
    if spec.provider == "test":
        return EchoProvider(spec.name)
    return OpenAICompatibleProvider(spec)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    label: str
    provider: str
    max_output_tokens: int
    kind: ModelKind


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        self._specs = {spec.name: spec for spec in settings.models}
        self._providers = {spec.name: build_provider(spec) for spec in settings.models}
        self.default = settings.effective_default_model

    def get(self, name: str | None) -> Provider:
        """The named chat model (default: the default model); an embedding model is refused."""
        return self._of_kind(name or self.default, "chat")

    def embedder(self, name: str) -> Provider:
        """The named embedding model; a chat model is refused."""
        return self._of_kind(name, "embedding")

    def _of_kind(self, name: str, kind: ModelKind) -> Provider:
        spec = self._specs.get(name)
        if spec is None:
            raise UnknownModelError(name)
        if spec.kind != kind:
            raise WrongModelKindError(name, spec.kind)
        return self._providers[name]

    def spec(self, name: str) -> ModelSpec:
        return self._specs[name]

    def catalogue(self, kinds: Collection[ModelKind] = CHAT) -> list[ModelInfo]:
        """The models of these kinds, in configured order; by default those a user can chat with."""
        return [
            ModelInfo(spec.name, spec.label or spec.name, spec.provider, spec.max_output_tokens, spec.kind)
            for spec in self._specs.values()
            if spec.kind in kinds
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

    async def embed(self, name: str, texts: list[str]) -> EmbeddingResult:
        """Embed with the named embedding model within its timeout; an unusable answer is a failure."""
        provider = self.embedder(name)
        timeout = self._specs[name].timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                result = await provider.embed(texts)
        except TimeoutError:
            raise ProviderError(f"model {name} did not answer within {timeout:g} s", retryable=True) from None
        if len(result.vectors) != len(texts):
            raise ProviderError(f"model {name} returned {len(result.vectors)} vectors for {len(texts)} texts")
        if not all(vector and isinstance(vector[0], int | float) for vector in result.vectors):
            raise ProviderError(f"model {name} did not return one flat vector per text (is it pooled?)")
        return result

    async def load(self) -> None:
        """Load every embedded model now, so the first user does not wait for it."""
        await asyncio.gather(*(p.load() for p in self._providers.values() if isinstance(p, LocalProvider)))

    async def ready(self) -> dict[str, bool]:
        return {name: await provider.ready() for name, provider in self._providers.items()}

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.close()
