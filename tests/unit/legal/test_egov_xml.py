"""Parsing e-Gov law XML: both wrappers, structure, metadata, and hostile or foreign input."""

from __future__ import annotations

import zipfile
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from gennai.apps.legal.egov_xml import MAX_LAW_XML_BYTES, LawParseError, parse_file_name, parse_law_xml

SAMPLE = Path(str(resources.files("gennai.apps.legal").joinpath("sample")))
AI_ACT = SAMPLE / "full" / "507AC0000000053_20250901_000000000000000.xml"
LABOR_STANDARDS = SAMPLE / "full" / "322AC0000000049.xml"  # an 法令API v2 law_data response
PROCEDURE_ACT = SAMPLE / "full" / "405AC0000000088_20240401_504AC0100000052.xml"


def parse(path: Path):  # type: ignore[no-untyped-def]
    return parse_law_xml(path.read_bytes(), file_name=path.name)


def test_bare_law_takes_its_revision_from_the_file_name() -> None:
    law = parse(AI_ACT)
    assert law.law_id == "507AC0000000053"
    assert law.title == "人工知能関連技術の研究開発及び活用の推進に関する法律"
    assert law.law_num == "令和七年法律第五十三号"
    assert (law.era, law.year, law.number, law.law_type) == ("Reiwa", 7, 53, "Act")
    assert law.promulgated == date(2025, 6, 4)
    assert law.revision_id == "507AC0000000053_20250901_000000000000000"
    assert law.in_force_from == date(2025, 9, 1)
    assert law.amend_law_id is None
    assert "ＡＩ法" in law.abbreviations
    assert [h.title for h in law.headings][:2] == ["第一章　総則", "第二章　基本的施策"]
    definition = law.article("2")
    assert definition is not None and definition.caption == "（定義）"
    assert definition.path[0].kind == "Chapter"


def test_law_data_response_wrapper_gives_metadata_and_structure() -> None:
    law = parse(LABOR_STANDARDS)
    assert law.law_id == "322AC0000000049"
    assert law.revision_id == "322AC0000000049_20250601_504AC0000000068"
    assert law.in_force_from == date(2025, 6, 1)
    assert law.amend_law_id == "504AC0000000068"
    assert law.promulgated == date(1947, 4, 7)
    assert "労基法" in law.abbreviations


def test_deleted_range_and_branch_numbers() -> None:
    law = parse(LABOR_STANDARDS)
    deleted = law.article("30")
    assert deleted is not None and deleted.num == "29:31" and deleted.deleted and deleted.is_range
    assert deleted.title == "第二十九条から第三十一条まで"
    branch = law.article("32_2")
    assert branch is not None and branch.title == "第三十二条の二" and not branch.deleted


def test_paragraphs_items_and_subitems() -> None:
    law = parse(PROCEDURE_ACT)
    article = law.article("2")
    assert article is not None
    first = article.paragraphs[0]
    assert first.num == 1 and first.label == ""
    item = next(i for i in first.items if i.num == "2")
    assert item.title == "二" and item.text.startswith("処分")
    with_subitems = next(i for i in first.items if i.subitems)
    assert with_subitems.subitems[0].title == "イ" and with_subitems.subitems[0].level == 1
    second = law.article("1")
    assert second is not None and second.paragraphs[1].label == "２"


def test_supplementary_provisions_keep_their_amending_law() -> None:
    law = parse(PROCEDURE_ACT)
    original = law.original_suppl
    assert original is not None and original.amend_law_num is None
    assert original.paragraphs and original.paragraphs[0].caption == "（施行期日）"
    amending = [s for s in law.suppl_provisions if s.amend_law_num]
    assert amending and amending[0].extract in (True, False)
    assert any(s.articles for s in amending)


def test_article_level_bulk_file_is_marked_lossy() -> None:
    with zipfile.ZipFile(SAMPLE / "articles.zip") as archive:
        data = archive.read("articles/321CONSTITUTION.xml")
    law = parse_law_xml(data, file_name="articles/321CONSTITUTION.xml")
    assert law.law_id == "321CONSTITUTION" and law.lossy
    assert law.article("9") is not None


def test_law_id_is_derived_from_the_law_number_without_a_file_name() -> None:
    law = parse_law_xml(AI_ACT.read_bytes())
    assert law.law_id == "507AC0000000053" and law.revision_id is None


@pytest.mark.parametrize(
    ("name", "law_id", "day", "amend"),
    [
        ("405AC0000000088_20240401_504AC0100000052.xml", "405AC0000000088", date(2024, 4, 1), "504AC0100000052"),
        ("bulk/321CONSTITUTION.xml", "321CONSTITUTION", None, None),
        ("507AC0000000053_20250901_000000000000000", "507AC0000000053", date(2025, 9, 1), None),
    ],
)
def test_file_names(name: str, law_id: str, day: date | None, amend: str | None) -> None:
    info = parse_file_name(name)
    assert info is not None and (info.law_id, info.in_force_from, info.amend_law_id) == (law_id, day, amend)


def test_unknown_tags_are_tolerated_and_their_text_kept() -> None:
    xml = (
        '<Law Era="Reiwa" Year="07" Num="001" LawType="Act"><LawNum>令和七年法律第一号</LawNum><LawBody>'
        '<LawTitle>試験法</LawTitle><MainProvision><Wrapper><Article Num="1"><ArticleTitle>第一条</ArticleTitle>'
        '<Paragraph Num="1"><ParagraphNum/><ParagraphSentence><Sentence>本文。</Sentence></ParagraphSentence>'
        "<FutureTag>新しい要素の文。</FutureTag></Paragraph></Article></Wrapper></MainProvision></LawBody></Law>"
    ).encode()
    law = parse_law_xml(xml)
    assert law.law_id == "507AC0000000001"
    article = law.article("1")
    assert article is not None and "新しい要素の文。" in article.text and "本文。" in article.text


def test_ruby_readings_are_not_part_of_the_text() -> None:
    xml = (
        '<Law Era="Reiwa" Year="07" Num="2" LawType="Act"><LawNum>x</LawNum><LawBody><LawTitle>試験法</LawTitle>'
        '<MainProvision><Article Num="1"><ArticleTitle>第一条</ArticleTitle><Paragraph Num="1"><ParagraphNum/>'
        "<ParagraphSentence><Sentence><Ruby>錯<Rt>そ</Rt></Ruby>誤</Sentence></ParagraphSentence></Paragraph>"
        "</Article></MainProvision></LawBody></Law>"
    ).encode()
    article = parse_law_xml(xml).article("1")
    assert article is not None and article.text == "錯誤"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<Law><LawBody>", "malformed"),
        (b"not xml at all", "malformed"),
        (b"<html><body>404</body></html>", "not e-Gov law XML"),
        (b"<law_data_response><law_info/></law_data_response>", "without law_full_text"),
        (b"<Law><LawNum>x</LawNum></Law>", "without LawBody"),
        (
            b'<?xml version="1.0"?><!DOCTYPE Law [<!ENTITY a "aaaa">]><Law>&a;</Law>',
            "unsafe",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE Law SYSTEM "file:///etc/passwd"><Law/>',
            "unsafe",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(LawParseError, match=message):
        parse_law_xml(data)


def test_huge_input_is_refused_before_parsing() -> None:
    with pytest.raises(LawParseError, match="too large"):
        parse_law_xml(b" " * (MAX_LAW_XML_BYTES + 1))
