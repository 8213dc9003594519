"""Statute store, ingest, as-of and search on SQLite and PostgreSQL (``db_sessions`` runs both)."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal import store as store_module
from gennai.apps.legal.articles import article_view
from gennai.apps.legal.ingest import ensure_sample_ingested, ingest_path
from gennai.apps.legal.provisions import ProvisionRef
from gennai.apps.legal.search import LegalSearch, SearchHit
from gennai.apps.legal.store import LawStore
from gennai.apps.legal.tables import LawRow, ProvisionRow, RevisionRow
from gennai.apps.legal.vocabulary import expand_query

Sessions = async_sessionmaker[AsyncSession]
FULL = Path(str(resources.files("gennai.apps.legal").joinpath("sample/full")))
PROCEDURE = FULL / "405AC0000000088_20240401_504AC0100000052.xml"
AI_ACT = FULL / "507AC0000000053_20250901_000000000000000.xml"
PROCEDURE_ID = "405AC0000000088"


async def count(sessions: Sessions, table: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def later_revision(tmp_path: Path) -> Path:
    """行政手続法 as if amended from 2030-04-01: article 5's caption and first sentence changed."""
    text = PROCEDURE.read_text("utf-8")
    text = text.replace(
        "<ArticleCaption>（審査基準）</ArticleCaption>", "<ArticleCaption>（審査基準の改正）</ArticleCaption>"
    )
    text = text.replace("行政庁は、審査基準を定めるものとする。", "行政庁は、審査基準を定め、公表するものとする。")
    path = tmp_path / "405AC0000000088_20300401_512AC0000000001.xml"
    path.write_text(text, "utf-8")
    return path


async def test_ingest_is_incremental_and_keeps_history(db_sessions: Sessions, tmp_path: Path) -> None:
    report = await ingest_path(db_sessions, PROCEDURE)
    assert report.added == [PROCEDURE_ID] and not report.failed
    again = await ingest_path(db_sessions, PROCEDURE)
    assert again.unchanged == [PROCEDURE_ID]
    newer = await ingest_path(db_sessions, later_revision(tmp_path))
    assert newer.updated == [PROCEDURE_ID]
    assert await count(db_sessions, RevisionRow) == 2

    store = LawStore(db_sessions)
    ref = ProvisionRef(PROCEDURE_ID, "5", 1)
    old = await store.get_provision(ref, as_of=date(2025, 1, 1))
    new = await store.get_provision(ref, as_of=date(2030, 4, 1))
    latest = await store.get_provision(ref)
    assert old is not None and old.text.startswith("行政庁は、審査基準を定めるものとする。")
    assert old.in_force_from == date(2024, 4, 1) and old.in_force_until == date(2030, 4, 1)
    assert new is not None and "公表する" in new.text and new.in_force_until is None
    assert latest == new
    assert await store.get_provision(ref, as_of=date(2000, 1, 1)) is None  # before any revision we hold
    law = await store.get_law(PROCEDURE_ID, as_of=date(2025, 1, 1))
    assert law is not None and law.revision_id == "405AC0000000088_20240401_504AC0100000052"


async def test_provisions_at_every_depth(db_sessions: Sessions) -> None:
    await ingest_path(db_sessions, FULL)
    store = LawStore(db_sessions)
    item = await store.get_provision(ProvisionRef(PROCEDURE_ID, "2", 1, "4", ("2",)))
    assert item is not None and item.text.startswith("ロ") and item.path_label.endswith("第四号 ロ")
    deleted = await store.get_provision(ProvisionRef("322AC0000000049", "30"))
    assert deleted is not None and deleted.deleted and deleted.text == "削除"
    branch = await store.get_provision(ProvisionRef("322AC0000000049", "32_2", 2))
    assert branch is not None and branch.path_label == "第四章 第三十二条の二 第二項"
    suppl = await store.get_provision(ProvisionRef(PROCEDURE_ID, paragraph=1, supplementary=True))
    assert suppl is not None and "施行する" in suppl.text
    assert await store.get_provision(ProvisionRef(PROCEDURE_ID, "5", 9)) is None
    assert await store.get_provision(ProvisionRef(PROCEDURE_ID, "999")) is None
    assert await store.get_provision(ProvisionRef("999AC0000000999", "1")) is None
    whole = await store.get_provision(ProvisionRef(PROCEDURE_ID))
    assert whole is not None and "36_2" in whole.children
    found = await store.find_laws("行手法")
    assert [law.law_id for law in found] == [PROCEDURE_ID]
    assert [law.law_id for law in await store.find_laws("平成五年法律第八十八号")] == [PROCEDURE_ID]
    assert await store.find_laws("手続") == []


async def test_a_failing_law_leaves_nothing_behind(
    db_sessions: Sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken.xml").write_bytes(b"<Law><LawBody>")
    (tmp_path / "foreign.xml").write_bytes(b"<html/>")
    nested = bare_law("31", "深入試験法", ["深い。"]).replace("深入試験法", "深" + "<x>" * 3000 + "</x>" * 3000)
    (tmp_path / "deep.xml").write_text(nested, "utf-8")  # deeper than Python's recursion limit
    odd_number = bare_law("32", "番号試験法", ["番号。"]).replace('<Paragraph Num="1">', '<Paragraph Num="²">')
    (tmp_path / "odd_number.xml").write_text(odd_number, "utf-8")
    (tmp_path / AI_ACT.name).write_bytes(AI_ACT.read_bytes())
    report = await ingest_path(db_sessions, tmp_path)
    assert {name for name, _ in report.failed} == {"broken.xml", "foreign.xml", "deep.xml", "odd_number.xml"}
    assert report.added == ["507AC0000000053"]

    def explode(*_args: object) -> list[dict[str, object]]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_module, "_provision_rows", explode)
    failed = await ingest_path(db_sessions, PROCEDURE)
    assert failed.failed and "disk full" in failed.failed[0][1]
    async with db_sessions() as session:
        assert await session.get(LawRow, PROCEDURE_ID) is None
    assert await count(db_sessions, LawRow) == 1


async def test_zip_ingest_and_sample_on_first_start(db_sessions: Sessions, tmp_path: Path) -> None:
    archive = tmp_path / "laws.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.write(AI_ACT, f"laws/{AI_ACT.name}")
        out.writestr("laws/bad.xml", b"<oops")
        out.writestr("laws/locked.xml", b"<Law/>")
    locked = bytearray(archive.read_bytes())  # mark laws/locked.xml encrypted, as a password-protected zip does
    for header in (b"PK\x03\x04", b"PK\x01\x02"):
        at = locked.rfind(header)
        flags = at + (6 if header == b"PK\x03\x04" else 8)
        locked[flags] |= 0x01
    archive.write_bytes(bytes(locked))
    report = await asyncio.wait_for(ingest_path(db_sessions, archive), 60)
    assert report.added == ["507AC0000000053"] and len(report.failed) == 2
    assert "encrypted" in dict(report.failed)["laws/locked.xml"]
    assert await ensure_sample_ingested(db_sessions) is None  # a law is stored: leave the store alone


async def test_search_on_the_sample(db_sessions: Sessions) -> None:
    report = await ensure_sample_ingested(db_sessions)
    assert report is not None and len(report.added) >= 40 and not report.failed
    search = await LegalSearch.load(db_sessions)

    direct = await search.search("行政手続法第五条")
    assert (direct[0].law_id, direct[0].article) == (PROCEDURE_ID, "5")
    ai = await search.search("AI法第3条")
    assert (ai[0].law_id, ai[0].article) == ("507AC0000000053", "3")

    hearing = await search.search("不利益処分をする前の聴聞の手続", limit=10)
    assert any(h.law_id == PROCEDURE_ID and h.article == "13" for h in hearing)
    rest = await search.search("休憩時間は何分必要か")
    assert (rest[0].law_id, rest[0].article) == ("322AC0000000049", "34")
    assert rest[0].paragraph == 1 and rest[0].path_label == "第四章 第三十四条 第一項"
    secret = await search.search("国家公務員の守秘義務")
    assert any(h.law_id == "322AC0000000120" and h.article == "100" for h in secret)
    assert all(h.paragraph is None for h in secret if h.law_id == "322AC0000000120")  # article-level data

    meaning = await search.search("人工知能関連技術とは何を指すか")  # the article defining the term ranks high
    assert ("507AC0000000053", "2") in [(h.law_id, h.article) for h in meaning]
    caption = await search.search("行政指導のやり方、書面の交付を求められたとき")
    assert (caption[0].law_id, caption[0].article) == (PROCEDURE_ID, "35")  # （行政指導の方式）

    for said, law_id in [("労基", "322AC0000000049"), ("労契", "419AC0000000128")]:  # 労基(法), 労契(法) without 法
        hits = await search.search(f"{said}の就業規則の変更")
        assert hits[0].law_id == law_id, said

    only = await search.search("審査基準", law="行手法")
    assert only and {h.law_id for h in only} == {PROCEDURE_ID}
    assert await search.search("審査基準", law="存在しない法") == []
    assert await search.search("審査基準", law_type="CabinetOrder") == []
    assert await search.search("審査基準", law=PROCEDURE_ID, as_of=date(1990, 1, 1)) == []
    assert await search.search("") == [] and await search.search("あ" * 10_000) == []
    assert len(await search.search("者", limit=1000)) <= 100

    view = await article_view(search, PROCEDURE_ID, "5")
    assert view is not None and view.previous is not None and view.next is not None
    assert (view.previous.num, view.next.num) == ("4", "6")
    first = await article_view(search, PROCEDURE_ID, "1")
    assert first is not None and first.previous is None
    refs = await article_view(search, PROCEDURE_ID, "3")  # cites 国家公務員法第二条 and statutes we lack
    assert refs is not None
    assert any(r.law_id == "322AC0000000120" and r.article == "2" for r in refs.references)
    assert any(r.law_id is None for r in refs.references)
    assert await article_view(search, PROCEDURE_ID, "999") is None


async def test_search_refreshes_after_an_ingest(db_sessions: Sessions, tmp_path: Path) -> None:
    search = await LegalSearch.load(db_sessions)
    assert await search.search("審査基準") == []
    await ingest_path(db_sessions, PROCEDURE)
    assert await search.refresh() is True
    assert (await search.search("審査基準"))[0].law_id == PROCEDURE_ID
    await ingest_path(db_sessions, later_revision(tmp_path))
    await search.refresh()
    current = await search.search("審査基準の改正")
    assert current[0].caption == "（審査基準の改正）"
    past = await search.search("審査基準", as_of=date(2025, 1, 1), law=PROCEDURE_ID)
    assert past and all(h.caption != "（審査基準の改正）" for h in past)
    assert await search.refresh() is False
    assert await count(db_sessions, ProvisionRow) > 0


async def test_a_rebuilt_index_is_built_beside_the_one_in_use(db_sessions: Sessions) -> None:
    in_use = await LegalSearch.load(db_sessions)
    assert await in_use.rebuilt() is None  # nothing changed
    await ingest_path(db_sessions, PROCEDURE)
    rebuilt = await in_use.rebuilt()
    assert rebuilt is not None and rebuilt is not in_use
    assert (await rebuilt.search("審査基準"))[0].law_id == PROCEDURE_ID
    assert await in_use.search("審査基準") == []  # untouched until the caller swaps the new one in
    assert await rebuilt.rebuilt() is None


async def test_a_synonym_from_the_dictionary_finds_the_statute_word(db_sessions: Sessions) -> None:
    await ensure_sample_ingested(db_sessions)
    search = await LegalSearch.load(db_sessions)
    # 転居 is in no sample statute and in no glossary entry; Sudachi groups it with 移住 (憲法第二十二条).
    assert expand_query("外国に転居する自由") == (["外国", "転居", "自由"], [1.0, 1.0, 1.0])
    hits = await search.search("外国に転居する自由", limit=3)
    assert (hits[0].law_title, hits[0].article) == ("日本国憲法", "22")


def bare_law(law_num: str, title: str, articles: list[str]) -> str:
    """A statute as the bulk download has it: articles without captions or chapters."""
    body = "".join(
        f'<Article Num="{n}"><ArticleTitle>第{"一二"[n - 1]}条</ArticleTitle><Paragraph Num="1"><ParagraphNum/>'
        f'<ParagraphSentence><Sentence Num="1">{text}</Sentence></ParagraphSentence></Paragraph></Article>'
        for n, text in enumerate(articles, 1)
    )
    return (
        f'<Law Era="Reiwa" Year="9" Num="{law_num}" LawType="Act" Lang="ja"><LawNum>令和九年法律第{law_num}号</LawNum>'
        f"<LawBody><LawTitle>{title}</LawTitle><MainProvision>{body}</MainProvision></LawBody></Law>"
    )


async def ranked_after_ingesting(
    sessions: Sessions, folder: Path, statutes: dict[str, tuple[str, list[str]]], query: str, limit: int
) -> list[tuple[str, str]]:
    """Ingest bare statutes (two-digit law number -> title and articles, in ingest order), then search."""
    for number, (title, articles) in statutes.items():
        (folder / f"509AC00000000{number}.xml").write_text(bare_law(number, title, articles), "utf-8")
    report = await ingest_path(sessions, folder)
    assert len(report.added) == len(statutes) and not report.failed
    search = await LegalSearch.load(sessions)
    return [(h.law_title, h.article) for h in await search.search(query, limit=limit)]


async def test_the_purpose_article_says_which_statute_an_article_belongs_to(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    # Article 2 of each reads the same, and the forest statute's comes first, winning a tie; only 第一条
    # says 温泉 or 森林.
    digging = "土地を掘削しようとする者は、許可を受けなければならない。"
    forests = ["この法律は、森林の保全を図ることを目的とする。", digging]
    hot_springs = ["この法律は、温泉の保護を図ることを目的とする。", digging]
    statutes = {"11": ("第一試験法", forests), "12": ("第二試験法", hot_springs)}
    hits = await ranked_after_ingesting(db_sessions, tmp_path, statutes, "温泉を掘るための掘削の許可", 4)
    assert hits.index(("第二試験法", "2")) < hits.index(("第一試験法", "2"))


async def test_a_statute_s_topic_words_count_word_by_word(db_sessions: Sessions, tmp_path: Path) -> None:
    # 道路交通法's topic words include 飲酒運転, which 「飲酒して運転」 does not contain as written; its
    # words still lean the question towards 道路交通法, whose article reads no better than the other's.
    traffic = ["この法律は、交通の安全を図ることを目的とする。", "何人も、飲酒の上、運転をしてはならない。"]
    ships = [
        "この法律は、船舶の安全を図ることを目的とする。",
        "何人も、飲酒の上、運転をしてはならない。運転をする者は、飲酒をしてはならない。",
    ]
    statutes = {"13": ("道路交通法", traffic), "14": ("第二試験法", ships)}
    hits = await ranked_after_ingesting(db_sessions, tmp_path, statutes, "飲酒して運転した", 4)
    assert hits.index(("道路交通法", "2")) < hits.index(("第二試験法", "2"))


async def test_an_article_saying_all_the_question_says_outranks_one_repeating_part_of_it(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    # The first statute's article says 釣り four times but never 漁港; the second says both once. By
    # BM25 alone the repetition wins (漁港 is in nearly every article, so it weighs little); the
    # coordination bonus, for the share of the typed words an article says, puts the second first.
    purpose = "この法律は、漁港の管理を図ることを目的とする。"
    articles = {
        "第一試験法": "釣りの釣り具で釣りをする者は、釣りを届け出なければならない。",
        "第二試験法": "漁港で釣りをする者は、届け出なければならない。",
        "第三試験法": "船舶を係留する者は、届け出なければならない。",
        "第四試験法": "荷揚げをする者は、届け出なければならない。",
    }
    numbered = enumerate(articles.items(), 15)
    statutes = {str(number): (title, [purpose, article]) for number, (title, article) in numbered}
    hits = await ranked_after_ingesting(db_sessions, tmp_path, statutes, "漁港で釣りをしたい", 8)
    assert hits.index(("第二試験法", "2")) < hits.index(("第一試験法", "2"))


async def test_an_article_meaning_what_the_question_means_outranks_one_that_only_shares_its_words(
    db_sessions: Sessions, tmp_path: Path
) -> None:
    # Both articles say 土地 and 所有者 alike, and the first statute's comes first, winning a tie; no
    # glossary entry or synonym links 枝 to 樹木, but their word vectors are close, and 建物's are not.
    purpose = "この法律は、土地の管理を図ることを目的とする。"
    buildings = [purpose, "土地の所有者は、建物を適切に管理しなければならない。"]
    trees = [purpose, "土地の所有者は、樹木を適切に管理しなければならない。"]
    query = "枝が伸びてきた土地の所有者"
    assert "樹木" not in expand_query(query)[0]
    statutes = {"21": ("第一試験法", buildings), "22": ("第二試験法", trees)}
    hits = await ranked_after_ingesting(db_sessions, tmp_path, statutes, query, 4)
    assert hits.index(("第二試験法", "2")) < hits.index(("第一試験法", "2"))


async def test_penalties_and_everyday_words_on_the_sample(db_sessions: Sessions) -> None:
    await ensure_sample_ingested(db_sessions)
    search = await LegalSearch.load(db_sessions)
    # The penalty article cites the duty by number only (第百十九条: 「第三十二条…に違反した者」).
    penalty = await search.search("労働時間の規定に違反した使用者にはどんな罰則がありますか", limit=3)
    assert (penalty[0].law_id, penalty[0].article) == ("322AC0000000049", "119")
    duty = await search.search("労働時間の上限は週何時間か", limit=3)
    assert ("322AC0000000049", "119") not in [(h.law_id, h.article) for h in duty]
    # 仕事中 → 業務上, けが → 負傷, 治療 → 療養: 労働基準法第七十五条 (療養補償).
    injury = await search.search("仕事中にけがをした労働者の治療費は誰が払うのか", limit=5)
    assert ("322AC0000000049", "75") in [(h.law_id, h.article) for h in injury]


async def test_written_captions_find_articles_by_the_words_people_use(db_sessions: Sessions) -> None:
    # No article of the sample says 公務執行妨害 or 夫婦別姓; the captions written for the captionless
    # articles of 刑法 and 民法 (resources/article_captions.tsv) do, and serve ranking only.
    await ensure_sample_ingested(db_sessions)
    search = await LegalSearch.load(db_sessions)
    obstruction = await search.search("市役所の職員に殴りかかると公務執行妨害になるのか", limit=3)
    assert (obstruction[0].law_id, obstruction[0].article) == ("140AC0000000045", "95")
    assert obstruction[0].caption == ""  # a written caption is never shown as the statute's own
    surname = await search.search("選択的夫婦別姓は認められているのか", limit=3)
    assert (surname[0].law_id, surname[0].article) == ("129AC0000000089", "750")


async def test_an_official_caption_replaces_the_written_one(db_sessions: Sessions, tmp_path: Path) -> None:
    # 刑法第九十五条 and 第九十六条 as a revision with captions might bring them: 95 with one of its own.
    # Written for them: 公務執行妨害及び職務強要 (words 警察官を殴った, …) and 封印等破棄.
    xml = bare_law("1", "刑法", ["本文である。", "本文である。"])
    caption = "<ArticleCaption>（その他）</ArticleCaption>"
    xml = xml.replace('Article Num="1"><ArticleTitle>', f'Article Num="95">{caption}<ArticleTitle>')
    xml = xml.replace('Article Num="2">', 'Article Num="96">').replace("第一条", "第九十五条")
    (tmp_path / "140AC0000000045.xml").write_text(xml, "utf-8")
    assert not (await ingest_path(db_sessions, tmp_path)).failed
    search = await LegalSearch.load(db_sessions)

    def found(hits: list[SearchHit]) -> list[str]:
        return [h.article for h in hits]

    assert found(await search.search("破棄")) == ["96"]  # a captionless article: its written caption counts
    assert "95" not in found(await search.search("強要"))  # its own caption replaces the written one
    assert found(await search.search("警察官を殴った")) == ["95"]  # the written words still count


async def test_an_old_revision_ingested_last_does_not_rename_the_law(db_sessions: Sessions, tmp_path: Path) -> None:
    renamed = bare_law("78", "新名称法", ["新しい規定。"]).replace('Year="9"', 'Year="5"')
    original = bare_law("78", "旧名称法", ["古い規定。"]).replace('Year="9"', 'Year="5"')
    for folder, name, xml in (
        ("new", "509AC0000000078_20240101_509AC0000000099.xml", renamed),
        ("old", "509AC0000000078_20200101_000000000000000.xml", original),
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_text(xml, "utf-8")
        assert not (await ingest_path(db_sessions, tmp_path / folder)).failed
    store = LawStore(db_sessions)
    assert [law.title for law in await store.find_laws("新名称法")] == ["新名称法"]
    assert (await store.get_law("509AC0000000078", date(2021, 1, 1))) is not None
