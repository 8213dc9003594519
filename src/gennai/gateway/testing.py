"""A deterministic in-process model for unit tests and demos: no weights, no network.

It answers ``Echo: <last user message>`` in small pieces. Markers in the user's message steer it:
``[[slow]]`` pauses between pieces (to test stop), ``[[error]]`` breaks off after the first piece.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from gennai.gateway.base import ChatRequest, Finished, ProviderError, StreamEvent, TextDelta, Usage

PIECE_CHARS = 4


class EchoProvider:
    def __init__(self, name: str, delay_seconds: float = 0.0) -> None:
        self.name = name
        self.delay_seconds = delay_seconds

    async def stream(self, request: ChatRequest) -> AsyncGenerator[StreamEvent, None]:
        last_user = next((m.content for m in reversed(request.messages) if m.role == "user"), "")
        answer = f"Echo: {last_user}"
        if request.max_tokens is not None:
            answer = answer[: request.max_tokens * PIECE_CHARS]
        delay = 0.2 if "[[slow]]" in last_user else self.delay_seconds
        pieces = [answer[i : i + PIECE_CHARS] for i in range(0, len(answer), PIECE_CHARS)]
        for index, piece in enumerate(pieces):
            if index == 1 and "[[error]]" in last_user:
                raise ProviderError("the test model failed mid-stream as asked")
            if delay:
                await asyncio.sleep(delay)
            yield TextDelta(piece)
        prompt_chars = sum(len(m.content) for m in request.messages)
        yield Finished(Usage(prompt_tokens=-(-prompt_chars // PIECE_CHARS), completion_tokens=len(pieces)))

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None
