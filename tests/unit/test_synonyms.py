"""Query expansion by Sudachi's synonym groups, limited to the words an index holds."""

from __future__ import annotations

from gennai.search.analysis import synonym_groups
from gennai.search.synonyms import SYNONYM_WEIGHT, Synonyms


def test_sudachi_groups_everyday_and_statute_words() -> None:
    assert synonym_groups("残業") & synonym_groups("時間外労働")
    assert synonym_groups("医者") & synonym_groups("医師")
    assert not synonym_groups("医者") & synonym_groups("残業")
    assert synonym_groups("存在しない語ですよ") == frozenset()


def test_only_held_words_are_offered_and_never_the_word_itself() -> None:
    held = Synonyms(["時間外労働", "医師", "賃金", "残業"])
    assert held.of("残業") == ["時間外労働"]
    assert held.of("医者") == ["医師"]  # the query's word need not be held itself
    assert Synonyms(["賃金"]).of("残業") == []


def test_synonyms_come_after_the_query_terms_at_a_share_of_their_weight() -> None:
    held = Synonyms(["時間外労働", "医師"])
    terms, weights = held.expand(["残業", "医者", "医師"], [1.0, 0.5, 1.0])
    assert terms == ["残業", "医者", "医師", "時間外労働"]  # 医師 is said already: not added twice
    assert weights == [1.0, 0.5, 1.0, SYNONYM_WEIGHT]
    terms, weights = held.expand(["医者"], [0.5])
    assert (terms, weights) == (["医者", "医師"], [0.5, SYNONYM_WEIGHT * 0.5])
