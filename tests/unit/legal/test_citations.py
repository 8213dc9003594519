import time

import pytest

from gennai.apps.legal.aliases import alias_index, load_aliases
from gennai.apps.legal.citations import (
    Citation,
    CitationContext,
    CitationParser,
    parse_citations,
)
from gennai.apps.legal.provisions import LawRecord

TETSUZUKI = CitationContext(law="行政手続法", article="5", paragraph=2)


def one(text: str, context: CitationContext | None = None) -> Citation:
    found = parse_citations(text, context)
    assert len(found) == 1, found
    return found[0]


def where(citation: Citation) -> tuple[str | None, str | None, int | None, str | None]:
    return citation.law, citation.article, citation.paragraph, citation.item


def test_span_is_exact_inside_running_text() -> None:
    text = "損害賠償については、民法第七百九条により請求できる。"
    c = one(text)
    assert c.text == "民法第七百九条"
    assert text[c.span[0] : c.span[1]] == c.text
    assert where(c) == ("民法", "709", None, None)
    assert c.ambiguous is None


def test_article_paragraph_item() -> None:
    c = one("行政手続法第五条第六項第二号")
    assert where(c) == ("行政手続法", "5", 6, "2")


def test_branch_numbers() -> None:
    assert one("労働基準法第三十二条の二").article == "32_2"
    assert one("会社法第十条の二の三").article == "10_2_3"
    assert one("銀行法第五十二条の六十一の二").article == "52_61_2"


def test_branch_never_one() -> None:
    c = one("行政手続法第五条の一部を")
    assert c.text == "行政手続法第五条"
    assert c.article == "5"


def test_arabic_and_fullwidth_digits() -> None:
    assert where(one("行政手続法第5条第1項")) == ("行政手続法", "5", 1, None)
    assert where(one("行政手続法第５条第２項第３号")) == ("行政手続法", "5", 2, "3")
    assert one("労働基準法第32条の2").article == "32_2"


def test_subitem() -> None:
    c = one("資金決済に関する法律第二条第一項第三号イ")
    assert c.law == "資金決済に関する法律"
    assert (c.item, c.subitems) == ("3", ("1",))
    assert c.label() == "資金決済に関する法律第二条第一項第三号イ"


def test_unknown_long_title_is_guessed_whole() -> None:
    c = one("人工知能関連技術の研究開発及び活用の推進に関する法律第三条")
    assert c.law == "人工知能関連技術の研究開発及び活用の推進に関する法律"
    assert c.span == (0, len(c.text))


def test_name_is_not_swallowed_across_particles() -> None:
    c = one("会社法の規定により民法第七百九条を適用する")
    assert c.text == "民法第七百九条"


def test_known_name_inside_a_longer_name() -> None:
    c = one("地方税法施行令第二条")
    assert c.law == "地方税法施行令"


def test_abbreviation() -> None:
    c = one("労基法第三十二条")
    assert c.law == "労基法"
    assert load_aliases()["労基法"] == "労働基準法"
    assert load_aliases()["地自法"] == "地方自治法"  # gennai's own list, beside jlawcite's
    assert {"安衛法", "労安衛法"} <= set(alias_index()["労働安全衛生法"])


def test_abbreviation_that_is_a_word_alone_is_no_citation() -> None:
    assert parse_citations("消費税の税率は上がった") == []
    assert [c.law for c in parse_citations("消費税法の改正")] == ["消費税法"]


def test_law_only_mentions() -> None:
    c = one("個人情報の保護に関する法律が定める")
    assert c.is_law_only
    assert c.law == "個人情報の保護に関する法律"


def test_law_number() -> None:
    c = one("平成十五年法律第五十七号")
    assert c.is_law_only
    assert c.law == "平成十五年法律第五十七号"


def test_law_number_in_digits_is_normalised() -> None:
    c = one("平成15年法律第57号第二条")
    assert where(c) == ("平成十五年法律第五十七号", "2", None, None)


def test_law_number_after_known_title() -> None:
    c = one("個人情報の保護に関する法律（平成十五年法律第五十七号）第二条")
    assert c.law == "個人情報の保護に関する法律"
    assert c.span == (0, 30)


def test_law_number_after_unknown_title_identifies_the_law() -> None:
    c = one("某手続法（平成五年法律第八十八号）第二条")
    assert c.law == "平成五年法律第八十八号"
    assert c.text == "某手続法（平成五年法律第八十八号）第二条"


def test_range() -> None:
    c = one("行政手続法第二十九条から第三十一条まで")
    assert c.article == "29:31"
    assert c.text.endswith("まで")


def test_paragraph_range() -> None:
    c = one("行政手続法第五条第一項から第三項まで")
    assert (c.paragraph, c.paragraph_to) == (1, 3)


def test_list_members_get_their_own_spans() -> None:
    text = "行政手続法第一条及び第三条"
    first, second = parse_citations(text)
    assert (first.text, first.span) == ("行政手続法第一条", (0, 8))
    assert (second.text, second.span) == ("第三条", (10, 13))
    assert where(second) == ("行政手続法", "3", None, None)


def test_list_inherits_upper_levels() -> None:
    found = parse_citations("行政手続法第三条第一項及び第二項並びに第四条、第五条第二号")
    assert [where(c) for c in found] == [
        ("行政手続法", "3", 1, None),
        ("行政手続法", "3", 2, None),
        ("行政手続法", "4", None, None),
        ("行政手続法", "5", None, "2"),
    ]


def test_same_law() -> None:
    found = parse_citations("行政手続法第五条に定める。同法第七条も参照。")
    assert [where(c) for c in found] == [("行政手続法", "5", None, None), ("行政手続法", "7", None, None)]
    assert found[1].text == "同法第七条"


def test_same_law_without_antecedent_is_ambiguous() -> None:
    c = one("同法第七条")
    assert c.ambiguous
    assert c.law is None


def test_same_article_and_paragraph() -> None:
    found = parse_citations("労働基準法第三十二条第一項。同条第二項。同項第一号。")
    assert [where(c) for c in found] == [
        ("労働基準法", "32", 1, None),
        ("労働基準法", "32", 2, None),
        ("労働基準法", "32", 2, "1"),
    ]


def test_previous_and_next_article_are_shifts() -> None:
    found = parse_citations("行政手続法第七条。前条。次条。")
    assert [(c.article, c.article_shift) for c in found] == [("7", 0), ("7", -1), ("7", 0)]


def test_relative_to_context() -> None:
    assert where(one("前項第一号", TETSUZUKI)) == ("行政手続法", "5", 1, "1")
    assert where(one("次項", TETSUZUKI)) == ("行政手続法", "5", 3, None)
    c = one("前条", TETSUZUKI)
    assert (c.law, c.article, c.article_shift) == ("行政手続法", "5", -1)
    c = one("前各項", TETSUZUKI)
    assert (c.paragraph, c.paragraph_to) == (1, 1)


def test_previous_paragraph_of_first_is_ambiguous() -> None:
    c = one("前項", CitationContext(law="行政手続法", article="5", paragraph=1))
    assert c.ambiguous


def test_relative_without_anything_is_ambiguous() -> None:
    for text in ("前条", "次項", "前項第一号", "同条第二項"):
        assert one(text).ambiguous, text


def test_bare_article_takes_the_context_law_or_is_ambiguous() -> None:
    assert one("第三十二条の二", TETSUZUKI).law == "行政手続法"
    c = one("第三十二条の二")
    assert c.law is None
    assert c.ambiguous


def test_bare_paragraph_follows_the_previous_citation() -> None:
    found = parse_citations("行政手続法第五条第一項。第二項。")
    assert where(found[1]) == ("行政手続法", "5", 2, None)


def test_this_law() -> None:
    c = one("この法律第三条", TETSUZUKI)
    assert c.law == "行政手続法"
    assert one("この法律第三条").ambiguous
    assert parse_citations("この法律は公布の日から施行する") == []


def test_supplementary() -> None:
    c = one("行政手続法附則第二条")
    assert c.supplementary
    assert c.article == "2"
    c = one("附則第三項", TETSUZUKI)
    assert (c.supplementary, c.article, c.paragraph) == (True, None, 3)
    found = parse_citations("行政手続法附則第二条及び第三条")
    assert [c.supplementary for c in found] == [True, True]


def test_terms_that_look_like_items_are_not_citations() -> None:
    assert parse_citations("第一号被保険者の保険料") == []
    assert parse_citations("第三者に対して") == []


def test_several_citations_in_order() -> None:
    text = "[1] 行政手続法第五条第一項\n[2] 労働基準法第三十二条の二\n[3] 民法第七百九条"
    found = parse_citations(text)
    assert [c.text for c in found] == ["行政手続法第五条第一項", "労働基準法第三十二条の二", "民法第七百九条"]
    for c in found:
        assert text[c.span[0] : c.span[1]] == c.text


def test_parser_with_store_titles() -> None:
    parser = CitationParser(titles=["特定非営利活動促進法"], aliases={})
    c = parser.parse("日本の特定非営利活動促進法第二条")[0]
    assert c.law == "特定非営利活動促進法"


def test_label() -> None:
    assert one("行政手続法第5条第1項第2号").label() == "行政手続法第五条第一項第二号"
    assert one("行政手続法附則第二条").label() == "行政手続法附則第二条"


@pytest.mark.parametrize("text", ["", "第", "第条", "前", "同", "附則", "第十項目", "x" * 10000])
def test_no_citation_no_crash(text: str) -> None:
    assert all(c.span[0] < c.span[1] for c in parse_citations(text))


def test_parser_for_stored_laws_knows_abbreviations() -> None:
    law = LawRecord(
        "507AC0000000053",
        "人工知能関連技術の研究開発及び活用の推進に関する法律",
        "令和七年法律第五十三号",
        "Act",
        ("ＡＩ法",),
    )
    parser = CitationParser.for_laws([law])
    assert [c.law for c in parser.parse("ＡＩ法第三条とAI法第四条")] == ["ＡＩ法", "AI法"]


def test_range_with_a_dash() -> None:
    c = one("行政手続法第5条〜第7条")
    assert (c.article, c.text) == ("5:7", "行政手続法第5条〜第7条")
    assert one("行政手続法第五条第一項～第三項").paragraph_to == 3


def test_adversarial_names_stay_fast() -> None:
    start = time.perf_counter()
    for text in ("等の法" * 4000 + "第一条", "及び法" * 4000 + "第一条", "第" * 10000, "の" * 10000 + "法第一条"):
        parse_citations(text)
    assert time.perf_counter() - start < 2


def test_absurdly_long_numbers_are_not_citations() -> None:
    assert parse_citations("第" + "九" * 5000 + "条") == []
    assert parse_citations("行政手続法第" + "1" * 13 + "条") == []
