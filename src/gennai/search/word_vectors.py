"""Word vectors: a sense of which words mean nearly the same, for questions told in everyday words.

A civil servant asks about 給料 and クビ; the statute says 賃金 and 解雇. Glossaries and synonym
dictionaries bridge the pairs someone wrote down; word vectors bridge the rest by how words are used.
The vectors are chiVe's (Works Applications, Apache-2.0, trained on the NWJC web corpus with Sudachi),
as pruned for GiNZA (ja_ginza 5.3.0, MIT: 20,000 distinct vectors for 480,000 words) and reduced
by ``scripts/derive_word_vectors.py`` to the 108,792 content words SudachiDict core yields as one
token, in 100 dimensions, int8: a 2.4 MB resource read with numpy alone (``resources/NOTICE``).

A document's meaning is the normalised, idf-weighted sum of the vectors of the words it contains (the
classic averaged word embedding: weak alone, since it blurs every word of a long text together, but
an honest second opinion beside BM25 on which text is about what a question is about).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from importlib.resources import files

import numpy as np

from gennai.search.index import BM25Index, FloatArray


class WordVectors:
    """Unit vectors for words (normalized forms, as ``gennai.search.analysis`` yields them)."""

    def __init__(self, words: Iterable[str], rows: Sequence[int], vectors: FloatArray) -> None:
        self._row = {word: int(row) for word, row in zip(words, rows, strict=True)}
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.matrix: FloatArray = (vectors / np.maximum(norms, 1e-6)).astype(np.float32)

    @property
    def dimensions(self) -> int:
        return int(self.matrix.shape[1])

    def vector(self, word: str) -> FloatArray | None:
        row = self._row.get(word)
        return None if row is None else self.matrix[row]

    def meaning(self, terms: Iterable[str], idf: Callable[[str], float]) -> FloatArray:
        """The unit idf-weighted sum of the vectors of ``terms`` (zeros where none has a vector)."""
        total = np.zeros(self.dimensions, dtype=np.float32)
        for term in dict.fromkeys(terms):
            vector = self.vector(term)
            if vector is not None:
                total += idf(term) * vector
        norm = float(np.linalg.norm(total))
        return total / norm if norm else total

    def meanings(self, fields: Sequence[tuple[BM25Index, float]], idf: Callable[[str], float]) -> FloatArray:
        """Per document of the (aligned) indexes, the unit sum of the vectors of the words it contains,
        each weighted by idf × its field's share (a caption says more of what an article is about).

        A word counts once however often it is repeated, as in ``meaning``: an article saying one word
        of a question four times is no nearer to it than one saying it once (measured alike).
        """
        size = fields[0][0].size if fields else 0
        total = np.zeros((size, self.dimensions), dtype=np.float32)
        for index, share in fields:
            for term in index.vocabulary:
                vector = self.vector(term)
                if vector is not None:
                    total[index.documents_with(term)] += (share * idf(term)) * vector
        total /= np.maximum(np.linalg.norm(total, axis=1, keepdims=True), 1e-6)
        return total


@lru_cache(maxsize=1)
def word_vectors() -> WordVectors:
    """The shipped vectors, read once per process (about 0.3 s)."""
    with files("gennai.search").joinpath("resources/word_vectors.npz").open("rb") as stream, np.load(stream) as data:
        vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
        return WordVectors(data["words"].tolist(), data["rows"].tolist(), vectors)
