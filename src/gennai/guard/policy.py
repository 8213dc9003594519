"""The policy every piece of user data passes before it reaches a model or an app.

gennai handles data up to Confidentiality Level 2 (機密性2). Detectors that recognise higher-level
data (個人番号, markings such as 機密性3) plug in here; until they do, every request is admitted and the
decision is still recorded, so that routes never need re-plumbing when the policy deepens.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_LEVEL = 2


@dataclass(frozen=True)
class Decision:
    allowed: bool
    level: int
    reasons: tuple[str, ...] = field(default=())


class GuardRefusal(Exception):
    """Data that may not be sent; the message says why, in words a user can act on."""

    def __init__(self, decision: Decision) -> None:
        super().__init__("; ".join(decision.reasons) or "this data may not be sent")
        self.decision = decision


class Guard:
    def assess(self, texts: Iterable[str], *, destination: str) -> Decision:
        """Classify the outgoing texts for ``destination`` (a model or app name).

        No detector is configured yet, so every text is admitted at Level 2.
        """
        return Decision(allowed=True, level=MAX_LEVEL)

    def admit(self, texts: Iterable[str], *, destination: str) -> Decision:
        decision = self.assess(texts, destination=destination)
        if not decision.allowed:
            raise GuardRefusal(decision)
        return decision
