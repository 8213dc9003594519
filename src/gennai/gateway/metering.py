"""Measuring a model call as it streams: first-token latency, duration and tokens, for every caller."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from gennai.config import CHARS_PER_TOKEN
from gennai.db.models import ModelCall
from gennai.gateway.base import Finished, StreamEvent, TextDelta, Usage


def estimated_tokens(texts: Iterable[str]) -> int:
    """Tokens of ``texts`` as input budgets count them (``CHARS_PER_TOKEN``), for calls the model never counted."""
    return math.ceil(sum(len(text) for text in texts) / CHARS_PER_TOKEN)


@dataclass
class Meter:
    model: str
    source: str
    user_id: uuid.UUID | None
    prompt_estimate: int = 0  # recorded when the call ends before the model reports its usage
    started: float = field(default_factory=time.monotonic)
    first_token_ms: int | None = None
    usage: Usage = field(default_factory=Usage)
    pieces: list[str] = field(default_factory=list)
    finish_reason: str | None = None

    def observe(self, event: StreamEvent) -> None:
        if isinstance(event, TextDelta):
            if self.first_token_ms is None:
                self.first_token_ms = self._elapsed_ms()
            self.pieces.append(event.text)
        elif isinstance(event, Finished):
            self.usage = event.usage
            self.finish_reason = event.finish_reason

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)

    def model_call(self, status: str) -> ModelCall:
        """The usage row for this call; ``status`` is complete, incomplete or error."""
        completion_tokens = self.usage.completion_tokens or len(self.pieces)
        return ModelCall(
            user_id=self.user_id,
            model=self.model,
            source=self.source,
            status=status,
            prompt_tokens=self.usage.prompt_tokens or self.prompt_estimate,
            completion_tokens=completion_tokens,
            first_token_ms=self.first_token_ms,
            total_ms=self._elapsed_ms(),
        )
