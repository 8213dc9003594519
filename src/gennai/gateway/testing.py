"""A deterministic in-process model for unit tests and demos: no weights, no network.

It answers ``Echo: <last user message>`` in small pieces. Markers in the user's message steer it:
``[[slow]]`` pauses between pieces (to test stop), ``[[error]]`` breaks off after the first piece.
It also embeds: character bigrams hashed into a fixed number of dimensions, so that texts sharing
words (in any script, Japanese included) point in similar directions, the same text always alike.
"""

from __future__ import annotations

import asyncio
import math
import unicodedata
import zlib
from collections.abc import AsyncGenerator

from gennai.gateway.base import ChatRequest, EmbeddingResult, Finished, ProviderError, StreamEvent, TextDelta, Usage

PIECE_CHARS = 4  # also the characters counted as one token
EMBEDDING_DIMENSIONS = 256


def _tokens(chars: int) -> int:
    return -(-chars // PIECE_CHARS)


def bigram_vector(text: str) -> list[float]:
    """Counts of the NFKC, case-folded text's character bigrams (edges marked) in hashed buckets, L2-normalised.

    crc32 rather than ``hash()``: Python salts string hashes per process, and tests need the same vector every run.
    """
    folded = f" {unicodedata.normalize('NFKC', text).casefold()} "
    counts = [0.0] * EMBEDDING_DIMENSIONS
    for start in range(len(folded) - 1):
        counts[zlib.crc32(folded[start : start + 2].encode("utf-8")) % EMBEDDING_DIMENSIONS] += 1.0
    norm = math.sqrt(sum(c * c for c in counts))
    return [c / norm for c in counts]


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
        yield Finished(Usage(prompt_tokens=_tokens(prompt_chars), completion_tokens=len(pieces)))

    async def embed(self, texts: list[str]) -> EmbeddingResult:
        return EmbeddingResult([bigram_vector(t) for t in texts], Usage(prompt_tokens=_tokens(sum(map(len, texts)))))

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None
