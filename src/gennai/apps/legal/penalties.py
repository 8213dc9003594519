"""Penalty provisions linked to the duties they punish, so that 「…に違反したときの罰則」 finds them.

A statute states a duty in one article (労働基準法第三十二条: 労働時間) and its penalty far away in
the 罰則 chapter, by article number only (第百十九条: 「第三十二条…の規定に違反した者は、六箇月以下の
懲役…に処する」). The penalty article shares no words with a question about working hours, and the
duty article says nothing of punishment, so text ranking alone finds the duty and not its penalty.
Reading which articles each penalty provision cites bridges the two: when a question asks about a
penalty, the penalty articles citing the best-matching duties are placed just before them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from gennai.apps.legal.centrality import cited_own_articles
from gennai.search.index import BoolArray

# A penalty provision imposes one: 「…に処する」 (or 「…に処し、又はこれを併科する」) after 懲役, 禁錮,
# 拘禁刑, 罰金, 科料 or 過料.
PENALTY_CLAUSE = "に処"
_SANCTION = re.compile(r"(懲役|禁錮|拘禁刑|罰金|科料|過料)")
# Normalized query tokens that ask about punishment.
PENALTY_WORDS = frozenset(
    {"罰則", "罰金", "刑罰", "懲役", "拘禁", "拘禁刑", "禁錮", "処罰", "罰", "罰する", "過料", "科料"}
)
DUTIES_READ = 10  # the best candidates whose penalties are looked up
MARGIN = 1e-3  # a penalty article goes just above the duty it punishes


def is_penalty(text: str) -> bool:
    """Whether an article's text imposes a criminal or administrative penalty."""
    return PENALTY_CLAUSE in text and _SANCTION.search(text) is not None


def asks_about_penalty(tokens: Iterable[str]) -> bool:
    return any(token in PENALTY_WORDS for token in tokens)


class PenaltyLinks:
    """Per (statute, article number): the index positions of the penalty articles citing it."""

    def __init__(self) -> None:
        self._by_duty: dict[tuple[int, str], list[int]] = {}
        self._penalties: set[int] = set()

    def add(self, position: int, law: int, text: str) -> None:
        """Index one article; only penalty provisions are kept."""
        if not is_penalty(text):
            return
        self._penalties.add(position)
        for num in cited_own_articles(text):
            self._by_duty.setdefault((law, num), []).append(position)

    def penalties_for(self, law: int, article_num: str) -> list[int]:
        return self._by_duty.get((law, article_num), [])

    def promote(
        self, ranked: Sequence[tuple[int, float]], duty_of: Callable[[int], tuple[int, str]], allowed: BoolArray
    ) -> list[tuple[int, float]]:
        """``ranked`` with the penalties of its best duties placed just above each duty.

        Only duties are followed: a penalty article citing another (両罰規定: 「前三条の違反行為を
        したときは、…法人に対しても」) must not climb above the penalty the question is about.

        ``duty_of(position)`` is the (statute, article number) of an indexed article; ``allowed`` is the
        search's filter mask (as of a date, one law), so a penalty outside it is never shown.
        """
        scores = dict(ranked)
        for position, score in ranked[:DUTIES_READ]:
            if position in self._penalties:
                continue
            law, num = duty_of(position)
            for penalty in self.penalties_for(law, num):
                if allowed[penalty] and scores.get(penalty, 0.0) < score + MARGIN:
                    scores[penalty] = score + MARGIN
        return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
