"""Query expansion by Sudachi's synonym dictionary, limited to the words an index holds.

Why: a question says 残業 where a statute says 時間外労働, 医者 where it says 医師, 住む所 where it
says 住居. SudachiDict already groups such words, and the analyser already has the dictionary loaded,
so no hand-written list is needed for this part of the vocabulary gap (``apps.legal.vocabulary``
keeps the everyday phrasings that are not synonyms of a single word).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from gennai.search.analysis import synonym_groups

SYNONYM_WEIGHT = 0.4  # a synonym's share of the weight of the word it stands for (bench/legal_retrieval.py)


class Synonyms:
    """For each term of a vocabulary, the other terms of that vocabulary in a synonym group with it."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        members: defaultdict[int, list[str]] = defaultdict(list)
        for term in vocabulary:
            for group in synonym_groups(term):
                members[group].append(term)
        self._members = dict(members)

    def of(self, term: str) -> list[str]:
        """The held synonyms of ``term`` (which itself need not be held), without ``term``."""
        found = (other for group in synonym_groups(term) for other in self._members.get(group, ()))
        return [other for other in dict.fromkeys(found) if other != term]

    def expand(self, terms: Sequence[str], weights: Sequence[float]) -> tuple[list[str], list[float]]:
        """``terms`` with their weights, then each one's synonyms not already there, at a share of its weight."""
        expanded, expanded_weights = list(terms), list(weights)
        seen = set(terms)
        for term, weight in zip(terms, weights, strict=True):
            for other in self.of(term):
                if other not in seen:
                    seen.add(other)
                    expanded.append(other)
                    expanded_weights.append(SYNONYM_WEIGHT * weight)
        return expanded, expanded_weights
