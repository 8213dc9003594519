from dataclasses import replace
from datetime import date

import pytest
from tests.unit.legal.statute_fakes import LAW_ID, sample_source

from gennai.apps.legal.citations import CitationContext, CitationParser, parse_citations
from gennai.apps.legal.provisions import LawRecord, ProvisionRef, ProvisionText
from gennai.apps.legal.resolve import resolve, resolve_text
from gennai.apps.legal.verify import (
    STATUSES,
    CitationCheck,
    find_quotes,
    mark_unverified,
    quote_matches,
    verify_and_mark,
    verify_text,
)

SOURCE = sample_source()


async def statuses(text: str, **kwargs: object) -> list[tuple[str, str]]:
    checks = await verify_text(text, SOURCE, **kwargs)  # type: ignore[arg-type]
    return [(c.text, c.status) for c in checks]


async def only(text: str, **kwargs: object) -> CitationCheck:
    checks = await verify_text(text, SOURCE, **kwargs)  # type: ignore[arg-type]
    assert len(checks) == 1, checks
    return checks[0]


# --- resolution ---------------------------------------------------------------------------


async def test_resolve_expands_a_range_in_statute_order() -> None:
    (citation,) = parse_citations("試験手続法第五条から第七条まで")
    resolution = await resolve(citation, SOURCE)
    assert [r.article for r in resolution.refs] == ["5", "6", "6_2", "7"]


async def test_resolve_previous_article_follows_branch_numbers() -> None:
    citations = parse_citations("試験手続法第七条。前条。")
    resolution = await resolve(citations[1], SOURCE)
    assert resolution.refs == (ProvisionRef(LAW_ID, "6_2"),)


async def test_resolve_item_without_paragraph_in_single_paragraph_article() -> None:
    (citation,) = parse_citations("試験手続法第二条第二号")
    resolution = await resolve(citation, SOURCE)
    assert resolution.refs == (ProvisionRef(LAW_ID, "2", 1, "2"),)


async def test_resolve_by_law_number_and_abbreviation_of_unique_law() -> None:
    for text in ("令和九年法律第九十九号第一条", "令和9年法律第99号第一条"):
        (citation,) = parse_citations(text)
        assert (await resolve(citation, SOURCE)).law is not None, text


async def test_resolve_reports_why() -> None:
    (citation,) = parse_citations("民法第七百九条")
    resolution = await resolve(citation, SOURCE)
    assert resolution.failure == "not_found"
    assert "民法" in resolution.reason


async def test_resolve_text_for_a_search_query() -> None:
    (resolution,) = await resolve_text("試験手続法第５条第２項", SOURCE)
    assert resolution.ok
    assert resolution.refs == (ProvisionRef(LAW_ID, "5", 2),)
    assert "許認可等の性質" in resolution.provisions[0].text


# --- statuses -------------------------------------------------------------------------------


async def test_status_names_are_the_external_interface() -> None:
    assert STATUSES == ("verified", "not_found", "not_in_force", "quote_mismatch", "ambiguous")


async def test_verified_forms() -> None:
    text = (
        "試験手続法第五条第一項、試験手続法第2条第3号イ、試験手続法第六条の二、試験手続法附則第二条、"
        "令和九年法律第九十九号第十条"
    )
    result = await statuses(text)
    assert [s for _, s in result] == ["verified"] * 5, result


async def test_nonexistent_article_paragraph_item_subitem() -> None:
    for text in ("試験手続法第十一条", "試験手続法第五条第四項", "試験手続法第二条第九号", "試験手続法第二条第三号ハ"):
        assert (await only(text)).status == "not_found", text


async def test_unknown_law() -> None:
    check = await only("民法第七百九条によれば")
    assert check.status == "not_found"
    assert check.law_id is None


async def test_deleted_range_is_not_in_force() -> None:
    for text in ("試験手続法第八条", "試験手続法第九条", "試験手続法第八条から第九条まで"):
        check = await only(text)
        assert check.status == "not_in_force", text
        assert "削除" in check.reason


async def test_range_over_a_deleted_part_is_not_in_force() -> None:
    assert (await only("試験手続法第七条から第十条まで")).status == "not_in_force"


async def test_as_of_before_the_article_existed() -> None:
    assert (await only("試験手続法第六条の二", as_of=date(2023, 1, 1))).status == "not_in_force"
    assert (await only("試験手続法第六条の二", as_of=date(2024, 4, 1))).status == "verified"
    assert (await only("試験手続法第五条", as_of=date(2023, 1, 1))).status == "verified"


async def test_as_of_before_the_law_existed() -> None:
    assert (await only("試験手続法第五条", as_of=date(2019, 1, 1))).status == "not_in_force"


async def test_ambiguous_abbreviation_and_missing_law() -> None:
    assert (await only("試手法第一条")).status == "ambiguous"
    assert (await only("第五条第一項")).status == "ambiguous"
    assert (await only("同法第五条")).status == "ambiguous"


async def test_context_supplies_the_law() -> None:
    check = await only("第五条第一項", context=CitationContext(law=LAW_ID))
    assert (check.status, check.law_id, check.article, check.paragraph) == ("verified", LAW_ID, "5", 1)


async def test_json_shape() -> None:
    check = await only("冒頭。試験手続法第二条第三号")
    assert check.to_json() | {"label": "", "reason": ""} == {
        "text": "試験手続法第二条第三号",
        "span": [3, 14],
        "law_id": LAW_ID,
        "article": "2",
        "paragraph": 1,
        "item": "3",
        "status": "verified",
        "label": "",
        "reason": "",
    }


# --- quotes ---------------------------------------------------------------------------------


def test_quote_matching_normalises_width_and_space() -> None:
    source = "行政庁は、審査基準を定めるものとする。"
    assert quote_matches("行政庁は、審査基準を 定めるものとする", source)
    assert quote_matches("行政庁は…定めるものとする", source)
    assert not quote_matches("行政庁は、審査基準を定めなければならない", source)
    assert quote_matches("ＡＢＣ１", "abcABC1")


def test_find_quotes_keeps_nested_brackets() -> None:
    (quote,) = find_quotes("x「申請者（以下「申請者」という。）」y")
    assert quote.text == "申請者（以下「申請者」という。）"


async def test_quote_next_to_citation() -> None:
    ok = "試験手続法第五条第一項は「行政庁は、審査基準を定めるものとする。」と定める。"
    assert (await only(ok)).status == "verified"
    bad = "試験手続法第五条第一項は「行政庁は、審査基準を定めなければならない。」と定める。"
    check = await only(bad)
    assert check.status == "quote_mismatch"
    assert check.quotes == ("行政庁は、審査基準を定めなければならない。",)


async def test_quote_tied_by_numbered_reference() -> None:
    answer = (
        "行政庁は「審査基準を定めるものとする」[1]。また「公聴会を開催しなければならない」[2]。\n\n"
        "[1] 試験手続法第五条第一項\n[2] 試験手続法第十条\n"
    )
    assert await statuses(answer) == [("試験手続法第五条第一項", "verified"), ("試験手続法第十条", "quote_mismatch")]


async def test_quote_tied_by_parenthesised_citation() -> None:
    text = "「審査基準を公にしておかなければならない」（試験手続法第五条第二項）"
    assert (await only(text)).status == "quote_mismatch"
    text = "「審査基準を公にしておかなければならない」（試験手続法第五条第三項）"
    assert (await only(text)).status == "verified"


async def test_short_term_quotes_are_not_claimed_as_text() -> None:
    assert (await only("試験手続法第五条にいう「申請」")).status == "verified"


async def test_citations_inside_a_quotation_belong_to_it() -> None:
    text = (
        "試験手続法第一条は「この法律は、行政運営における公正の確保と透明性の向上を図ることを目的とする。」と定める。"
    )
    assert await statuses(text) == [("試験手続法第一条", "verified")]
    quoted = "「第三条の規定により処分をする」との定めがある"
    assert await statuses(quoted) == []


async def test_law_mentions_are_skipped_unless_asked() -> None:
    assert await statuses("試験手続法は重要である。") == []
    parser = CitationParser(titles=["試験手続法"])
    found = await statuses("試験手続法は重要である。", include_law_mentions=True, parser=parser)
    assert found == [("試験手続法", "verified")]


# --- marking --------------------------------------------------------------------------------


async def test_marking_keeps_everything_and_flags_failures() -> None:
    answer = "試験手続法第五条第一項[1]及び試験手続法第十一条[2]を参照。\n[1] 試験手続法第五条第一項\n"
    result = await verify_and_mark(answer, SOURCE)
    assert [c.status for c in result.citations] == ["verified", "not_found", "verified"]
    assert not result.all_verified
    assert result.text.count("⚠") == 1
    assert "試験手続法第十一条 ⚠（条文が見つかりません" in result.text
    assert result.text.replace(result.text[result.text.index(" ⚠") : result.text.index("）[2]") + 1], "") == answer


def test_mark_unverified_inserts_from_the_end() -> None:
    text = "AB"
    checks = [
        CitationCheck("A", (0, 1), "ambiguous", reason="r1"),
        CitationCheck("B", (1, 2), "not_found", reason="r2"),
    ]
    assert mark_unverified(text, checks) == "A ⚠（引用先を特定できません：r1）B ⚠（条文が見つかりません：r2）"


@pytest.mark.parametrize("text", ["", "「", "」", "[1]", "第" * 5000, "試験手続法第" + "九" * 300 + "条"])
async def test_bad_input_does_not_crash(text: str) -> None:
    for check in await verify_text(text, SOURCE):
        assert check.status in STATUSES


async def test_quote_tied_by_marker_at_sentence_end() -> None:
    answer = "行政庁は「審査基準を定めなければならない」とされる。[1]\n\n[1] 試験手続法第五条第一項\n"
    assert await statuses(answer) == [("試験手続法第五条第一項", "quote_mismatch")]
    answer = "行政庁は「審査基準を定めるものとする」と定められています[1]。\n\n[1] 試験手続法第五条第一項\n"
    assert await statuses(answer) == [("試験手続法第五条第一項", "verified")]


class ArticleLevelOnly:
    """A source holding only article-level text, as the bulk (lossy) statutes are stored."""

    async def find_laws(self, name: str) -> list[LawRecord]:
        return await SOURCE.find_laws(name)

    async def get_law(self, law_id: str, as_of: date | None = None) -> LawRecord | None:
        return await SOURCE.get_law(law_id, as_of)

    async def get_provision(self, ref: ProvisionRef, as_of: date | None = None) -> ProvisionText | None:
        article = await SOURCE.get_provision(replace(ref, paragraph=None, item=None, subitems=()), as_of)
        if article is None or ref.paragraph is None:
            return article
        return replace(article, ref=ref, approximate=True)


async def test_article_level_data_cannot_verify_a_paragraph() -> None:
    source = ArticleLevelOnly()
    (check,) = await verify_text("試験手続法第五条第九項", source)
    assert check.status == "ambiguous"
    (check,) = await verify_text("試験手続法第五条", source)
    assert check.status == "verified"
    (check,) = await verify_text("試験手続法第五条第一項は「審査基準を定めなければならない」とする。", source)
    assert check.status == "quote_mismatch"
