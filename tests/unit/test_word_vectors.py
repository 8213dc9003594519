"""Word vectors: the shipped chiVe vectors and the meanings built from them."""

from __future__ import annotations

import numpy as np

from gennai.search.index import BM25Index
from gennai.search.word_vectors import WordVectors, word_vectors


def cosine(a: str, b: str) -> float:
    first, second = word_vectors().vector(a), word_vectors().vector(b)
    assert first is not None and second is not None
    return float(first @ second)


def test_everyday_words_lie_near_the_statute_words_for_the_same_thing() -> None:
    assert cosine("給料", "賃金") > 0.5 > cosine("給料", "枝")
    assert cosine("枝", "樹木") > cosine("枝", "建物")
    assert cosine("借金", "債務") > cosine("借金", "道路")
    assert word_vectors().vector("存在しない語ですよ") is None


def test_a_meaning_weighs_words_by_idf_and_counts_each_once() -> None:
    vectors = WordVectors(["a", "b"], [0, 1], np.array([[1.0, 0.0], [0.0, 2.0]], dtype=np.float32))
    rare = {"a": 1.0, "b": 3.0}.__getitem__
    assert np.allclose(vectors.meaning(["a", "b", "b", "unknown"], rare), np.array([1.0, 3.0]) / np.sqrt(10))
    assert not vectors.meaning(["unknown"], rare).any()  # no vector: no direction, not a division by zero


def test_documents_mean_what_their_words_mean_with_captions_counting_more() -> None:
    vectors = WordVectors(["a", "b"], [0, 1], np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32))
    body = BM25Index([["a", "a", "a", "b"], ["b"], ["c"]])
    captions = BM25Index([["b"], [], []])
    meanings = vectors.meanings([(body, 1.0), (captions, 2.0)], lambda term: 1.0)
    assert np.allclose(meanings[0], np.array([1.0, 3.0]) / np.sqrt(10))  # a once, b once in text and twice as caption
    assert np.allclose(meanings[1], [0.0, 1.0])
    assert not meanings[2].any()  # no word with a vector
