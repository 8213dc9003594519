"""Typed messages, stream events, embedding results and the Provider protocol every vendor module implements."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class ChatRequest:
    messages: list[ChatMessage]
    max_tokens: int | None = None
    temperature: float | None = None
    stop: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer, in the order the model produced it."""

    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Finished:
    """The last event of a successful stream."""

    usage: Usage
    finish_reason: str = "stop"


StreamEvent = TextDelta | Finished


@dataclass(frozen=True)
class EmbeddingResult:
    """One vector per input text, in input order; usage counts the input tokens."""

    vectors: list[list[float]]
    usage: Usage


class ProviderError(Exception):
    """A model failed: unreachable, refused, timed out or broke off. The message is safe to show."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class Provider(Protocol):
    """A configured model: a chat model streams answers, an embedding model embeds texts."""

    name: str

    def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yield TextDelta events, then exactly one Finished; raise ProviderError on failure."""
        ...

    async def embed(self, texts: list[str]) -> EmbeddingResult:
        """One vector per text; raise ProviderError on failure or when the model cannot embed."""
        ...

    async def ready(self) -> bool:
        """Whether the model can answer now (loaded, or its endpoint configured)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    finish_reason: str


async def complete(provider: Provider, request: ChatRequest) -> Completion:
    """A whole answer from a streaming provider, for callers that do not stream."""
    parts: list[str] = []
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        else:
            return Completion("".join(parts), event.usage, event.finish_reason)
    raise ProviderError("the model ended its answer without finishing")
