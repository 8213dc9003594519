"""Topic words that point a question to a statute it does not name."""

from __future__ import annotations

from gennai.apps.legal.topics import topic_words, topical_titles


def test_topic_words_point_to_the_statute() -> None:
    assert topical_titles("市営住宅に申し込める人の条件") == ["公営住宅法"]
    assert "航空法" in topical_titles("住宅街でドローンを飛ばすには")
    assert topical_titles("何分必要か") == []


def test_a_longer_word_covers_the_shorter_one_inside_it() -> None:
    lengths = [len(word) for word, _ in topic_words()]
    assert lengths == sorted(lengths, reverse=True)
    assert topical_titles("市営住宅") == ["公営住宅法"]


def test_every_topic_points_to_few_statutes_with_official_titles() -> None:
    assert all(1 <= len(points) <= 3 for _, points in topic_words())
    assert all(len(word) >= 2 for word, _ in topic_words())
    assert "公営住宅法" in {title for _, points in topic_words() for title in points}
