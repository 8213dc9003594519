"""Everyday words expanded into the words statutes use."""

from __future__ import annotations

from gennai.apps.legal.vocabulary import EXPANSION_WEIGHT, everyday_terms, expand_query


def _expansions(query: str) -> set[str]:
    terms, weights = expand_query(query)
    return {t for t, w in zip(terms, weights, strict=True) if w == EXPANSION_WEIGHT}


def test_everyday_words_bring_statute_words_at_a_lower_weight() -> None:
    terms, weights = expand_query("仕事中にけがをしたときの治療費")
    assert {"業務上", "負傷", "療養"} <= _expansions("仕事中にけがをしたときの治療費")
    assert weights[terms.index("負傷")] < weights[0] == 1.0
    assert "転貸" in _expansions("借りた部屋を又貸しできるか")


def test_inflected_words_match_by_their_normalized_form() -> None:
    assert "支給" in _expansions("年金はいくらもらえるのか")


def test_a_longer_word_covers_the_shorter_one_inside_it() -> None:
    deadline = _expansions("審査請求はいつまでにできるか")
    assert "期間" in deadline and "時期" not in deadline
    assert "時期" in _expansions("資格を失うのはいつか")


def test_a_one_character_word_is_never_found_inside_another() -> None:
    assert "医薬品" in _expansions("薬を売るには")
    assert "医薬品" not in _expansions("薬剤師の免許")


def test_a_katakana_word_is_never_found_inside_a_longer_one() -> None:
    assert "争議" in _expansions("公務員がストをしてよいか")
    assert "争議" not in _expansions("システムのテスト費用とコスト")


def test_a_phrase_is_found_with_words_between_its_halves() -> None:
    sick_leave = _expansions("病気で会社を長く休むことになった")
    assert "傷病" in sick_leave and "休職" in sick_leave  # 病気で休 and 会社を休 both describe it
    assert "傷病" not in _expansions("病気の家族がいる。来週は会社を休む")  # halves too far apart
    assert "傷病" not in _expansions("休んだ後で病気になった")  # halves in the wrong order


def test_a_negation_is_not_read_as_its_verb() -> None:
    assert "非課税" in _expansions("消費税がかからない取引")
    assert "非課税" not in _expansions("消費税がかかる取引")


def test_the_resource_maps_words_to_statute_words() -> None:
    terms = everyday_terms()
    assert len(terms) > 50
    assert all(word.strip() and expansion.strip() for word, expansion in terms.items())
