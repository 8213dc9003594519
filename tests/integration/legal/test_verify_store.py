"""Citation verification against the real statute store, on the sample the project ships."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal.answers import answer_question
from gennai.apps.legal.citations import CitationParser
from gennai.apps.legal.ingest import ingest_path
from gennai.apps.legal.provisions import ProvisionRef
from gennai.apps.legal.store import LawStore
from gennai.apps.legal.verify import verify_and_mark, verify_text

SAMPLE = Path(__file__).resolve().parents[3] / "src" / "gennai" / "apps" / "legal" / "sample" / "full"
TETSUZUKI = "405AC0000000088"


@pytest.fixture
async def store(db_sessions: async_sessionmaker[AsyncSession]) -> LawStore:
    report = await ingest_path(db_sessions, SAMPLE)
    assert not report.failed
    return LawStore(db_sessions)


async def statuses(store: LawStore, text: str, **kwargs: object) -> list[tuple[str, str]]:
    parser = CitationParser.for_laws(await store.list_laws())
    checks = await verify_text(text, store, parser=parser, **kwargs)  # type: ignore[arg-type]
    return [(c.text, c.status) for c in checks]


async def test_real_citations_verify(store: LawStore) -> None:
    text = (
        "行政手続法第五条第一項は「行政庁は、審査基準を定めるものとする。」と定める。"
        "労働基準法第三十二条の二、労基法第三十二条第一項、行政手続法第２条第４号イ、"
        "令和七年法律第五十三号第一条、ＡＩ法第三条、AI法第三条"
    )
    assert {status for _, status in await statuses(store, text)} == {"verified"}


async def test_real_failures(store: LawStore) -> None:
    text = (
        "行政手続法第五条第四項。労働基準法第三十条。"
        "行政手続法第五条第一項は「行政庁は、審査基準を定めなければならない。」と定める。民法第七百九条。"
    )
    assert await statuses(store, text) == [
        ("行政手続法第五条第四項", "not_found"),
        ("労働基準法第三十条", "not_in_force"),
        ("行政手続法第五条第一項", "quote_mismatch"),
        ("民法第七百九条", "not_found"),
    ]


async def test_as_of_before_enactment(store: LawStore) -> None:
    found = await statuses(store, "人工知能関連技術の研究開発及び活用の推進に関する法律第一条", as_of=date(2024, 1, 1))
    assert found == [("人工知能関連技術の研究開発及び活用の推進に関する法律第一条", "not_in_force")]


async def test_relative_references_follow_the_store(store: LawStore) -> None:
    result = await verify_and_mark("労働基準法第三十二条の三。前条。同条第二項。", store)
    assert [(c.article, c.paragraph, c.status) for c in result.citations] == [
        ("32_3", None, "verified"),
        ("32_2", None, "verified"),
        ("32_2", 2, "verified"),
    ]


async def test_grounded_answer_end_to_end(store: LawStore) -> None:
    provision = await store.get_provision(ProvisionRef(TETSUZUKI, "5", 1))
    assert provision is not None

    async def model(messages: list[dict[str, str]]) -> str:
        assert "[1] 行政手続法第五条第一項" in messages[-1]["content"]
        return "行政庁は「審査基準を定めるものとする」とされています[1]。行政手続法第九十九条も参照。"

    answer = await answer_question("審査基準を定める義務はあるか", [provision], model, store, form="interpretation")
    assert [(c.text, c.status) for c in answer.citations] == [
        ("行政手続法第九十九条", "not_found"),
        ("行政手続法第五条第一項", "verified"),
    ]
    assert "行政手続法第九十九条 ⚠" in answer.text


def _revision_xml(articles: list[tuple[str, str, int]]) -> str:
    """架空試験法 with (Num, ArticleTitle, paragraph count) articles; paragraph 1 has a 第二号."""

    def paragraph(n: int) -> str:
        item = '<Item Num="2"><ItemTitle>二</ItemTitle><ItemSentence><Sentence>号。</Sentence></ItemSentence></Item>'
        return (
            f'<Paragraph Num="{n}"><ParagraphNum>{"" if n == 1 else n}</ParagraphNum>'
            f"<ParagraphSentence><Sentence>第{n}項の文。</Sentence></ParagraphSentence>{item if n == 1 else ''}"
            "</Paragraph>"
        )

    body = "".join(
        f'<Article Num="{num}"><ArticleTitle>{title}</ArticleTitle>{"".join(paragraph(p + 1) for p in range(count))}'
        "</Article>"
        for num, title, count in articles
    )
    return (
        '<Law Era="Heisei" Year="5" Num="77" LawType="Act"><LawNum>平成五年法律第七十七号</LawNum>'
        f"<LawBody><LawTitle>架空試験法</LawTitle><MainProvision>{body}</MainProvision></LawBody></Law>"
    )


async def test_relative_references_and_ranges_follow_the_structure_as_of_the_date(
    db_sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # The 2024 revision inserts 第一条の二 and gives 第五条 a second paragraph; as of 2021 neither exists.
    old = [("1", "第一条", 1), ("2", "第二条", 1), ("3", "第三条", 1), ("5", "第五条", 1)]
    new = [("1", "第一条", 1), ("1_2", "第一条の二", 1), ("2", "第二条", 1), ("3", "第三条", 1), ("5", "第五条", 2)]
    (tmp_path / "405AC0000000077_20200101_000000000000000.xml").write_text(_revision_xml(old), "utf-8")
    (tmp_path / "405AC0000000077_20240101_405AC0000000099.xml").write_text(_revision_xml(new), "utf-8")
    assert not (await ingest_path(db_sessions, tmp_path)).failed
    store = LawStore(db_sessions)
    text = "架空試験法第一条の規定。次条の規定。架空試験法第一条から第三条まで。架空試験法第五条第二号"
    checks = await verify_text(text, store, as_of=date(2021, 1, 1))
    assert [(c.text, c.status, c.article) for c in checks] == [
        ("架空試験法第一条", "verified", "1"),
        ("次条", "verified", "2"),
        ("架空試験法第一条から第三条まで", "verified", "1:3"),
        ("架空試験法第五条第二号", "verified", "5"),
    ]
    now = await verify_text(text, store)
    assert [(c.article, c.status) for c in now][1] == ("1_2", "verified")
    assert now[-1].status == "not_found"  # 第五条 now has two paragraphs: which one's 第二号?
