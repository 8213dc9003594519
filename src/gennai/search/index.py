"""An in-memory BM25 index over pre-analysed documents, held in numpy arrays.

Postings are stored column-wise (CSR: per term a slice of document ids and term counts), so a query
costs a few vectorised adds over the postings of its terms, and a hundred thousand documents score
in a few milliseconds with filters applied as boolean masks. Documents are term strings produced by
``gennai.search.analysis``; the index never analyses text itself. An index built with ``positions``
also keeps every document's term ids in order (a forward index: 4 bytes a token, about 50 MB for the
12 million tokens of all statutes), so that the best passage of any document is found in memory.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]
BoolArray = npt.NDArray[np.bool_]


class BM25Index:
    """Immutable once built; ``scores`` gives every document's BM25 score for a query."""

    def __init__(
        self, documents: Iterable[Sequence[str]], *, k1: float = 1.2, b: float = 0.75, positions: bool = False
    ) -> None:
        self.k1, self.b = k1, b
        vocabulary: dict[str, int] = {}
        term_ids, doc_ids, counts, lengths = array("i"), array("i"), array("i"), array("i")
        distinct, tokens = array("i"), array("i")
        for doc, terms in enumerate(documents):
            lengths.append(len(terms))
            distinct.append(len(set(terms)))
            for term, count in Counter(terms).items():
                term_ids.append(vocabulary.setdefault(term, len(vocabulary)))
                doc_ids.append(doc)
                counts.append(count)
            if positions:
                tokens.extend(map(vocabulary.__getitem__, terms))
        self.vocabulary = vocabulary
        self.size = len(lengths)
        order = np.argsort(np.frombuffer(term_ids, dtype=np.int32), kind="stable")
        self._docs = np.frombuffer(doc_ids, dtype=np.int32)[order]
        self._counts = np.frombuffer(counts, dtype=np.int32)[order].astype(np.float32)
        self._offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(
            np.bincount(np.frombuffer(term_ids, dtype=np.int32), minlength=len(vocabulary)), out=self._offsets[1:]
        )
        self._distinct = np.maximum(np.frombuffer(distinct, dtype=np.int32), 1).astype(np.float32)
        doc_lengths = np.frombuffer(lengths, dtype=np.int32).astype(np.float32)
        self.lengths = np.frombuffer(lengths, dtype=np.int32).copy()
        self._tokens = np.frombuffer(tokens, dtype=np.int32).copy() if positions else None
        self._token_starts = np.zeros(self.size + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self._token_starts[1:])
        average = float(doc_lengths.mean()) if self.size and doc_lengths.mean() > 0 else 1.0
        self.average_length = average
        self._norm = (k1 * (1 - b + b * doc_lengths / average)).astype(np.float32)

    def document_frequency(self, term: str) -> int:
        term_id = self.vocabulary.get(term)
        return 0 if term_id is None else int(self._offsets[term_id + 1] - self._offsets[term_id])

    def idf(self, term: str) -> float:
        frequency = self.document_frequency(term)
        return float(np.log1p((self.size - frequency + 0.5) / (frequency + 0.5)))

    def scores(self, terms: Sequence[str], weights: Sequence[float] | None = None) -> FloatArray:
        """BM25 of every document for ``terms`` (each optionally weighted), as a dense array."""
        total = np.zeros(self.size, dtype=np.float32)
        for position, term in enumerate(terms):
            term_id = self.vocabulary.get(term)
            if term_id is None:
                continue
            start, end = self._offsets[term_id], self._offsets[term_id + 1]
            docs, counts = self._docs[start:end], self._counts[start:end]
            weight = self.idf(term) * (weights[position] if weights else 1.0)
            total[docs] += weight * counts * (self.k1 + 1) / (counts + self._norm[docs])
        return total

    def documents_with(self, term: str) -> IntArray:
        """The documents that contain ``term`` (ascending ids)."""
        term_id = self.vocabulary.get(term)
        if term_id is None:
            return np.zeros(0, dtype=np.int32)
        return self._docs[self._offsets[term_id] : self._offsets[term_id + 1]]

    def coverage(self, terms: Sequence[str]) -> FloatArray:
        """Per document, the share of its distinct terms that ``terms`` contains (1.0: all of them).

        For short fields (an article caption) this says how fully a query states what the field says.
        """
        matched = np.zeros(self.size, dtype=np.float32)
        for term in dict.fromkeys(terms):
            matched[self.documents_with(term)] += 1.0
        return matched / self._distinct

    def best_passages(
        self, docs: Sequence[int], terms: Sequence[str], weights: Sequence[float] | None = None, *, window: int = 50
    ) -> list[float]:
        """Per document of ``docs``, BM25 of its best ``window``-token stretch (an index built with ``positions``).

        A long article (a list of items, a definition article) mentions a question's words close
        together in one paragraph, yet its BM25 is diluted by its length; its best passage is not.
        Windows step by half their width, the last one ending at the document's end; a document no
        longer than a window is one passage, whose score is its own BM25 (as ``scores`` gives it).
        """
        if self._tokens is None:
            raise ValueError("best_passages needs an index built with positions=True")
        wanted = {term: i for i, term in enumerate(terms) if term in self.vocabulary}  # a repeat counts once
        column = np.full(len(self.vocabulary), -1, dtype=np.int32)  # term id -> its column in the counts
        column[[self.vocabulary[term] for term in wanted]] = np.arange(len(wanted), dtype=np.int32)
        term_weights = np.array(
            [self.idf(term) * (weights[i] if weights else 1.0) for term, i in wanted.items()], dtype=np.float32
        )
        tokens, starts = self._tokens, self._token_starts
        return [self._best_passage(column[tokens[starts[doc] : starts[doc + 1]]], term_weights, window) for doc in docs]

    def _best_passage(self, columns: IntArray, term_weights: FloatArray, window: int) -> float:
        """One document's best passage, from its tokens' query-term columns (-1: not a query term).

        Per window and query term, counts come from cumulative match counts.
        """
        found = np.flatnonzero(columns >= 0)
        if not len(found):
            return 0.0
        length = len(columns)
        width = min(window, length)
        starts = np.arange(0, length - width + 1, max(1, width // 2))
        if starts[-1] != length - width:
            starts = np.append(starts, length - width)  # and one ending at the last token
        seen = np.zeros((len(found) + 1, len(term_weights)), dtype=np.float32)  # row k: matches before the k-th
        np.cumsum(columns[found][:, None] == np.arange(len(term_weights)), axis=0, out=seen[1:])
        counts = seen[np.searchsorted(found, starts + width)] - seen[np.searchsorted(found, starts)]
        norm = self.k1 * (1 - self.b + self.b * width / self.average_length)
        return float((counts * (self.k1 + 1) / (counts + norm) @ term_weights).max())


def top_k(scores: FloatArray, k: int, mask: BoolArray | None = None) -> list[tuple[int, float]]:
    """The ``k`` best documents with a positive score, best first, among those ``mask`` allows."""
    if mask is not None:
        scores = np.where(mask, scores, 0.0).astype(np.float32)
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        best = np.argpartition(scores[candidates], -k)[-k:]
        candidates = candidates[best]
    ranked = sorted(candidates.tolist(), key=lambda doc: (-float(scores[doc]), doc))
    return [(doc, float(scores[doc])) for doc in ranked]
