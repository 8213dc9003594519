"""A real in-memory ProvisionSource over parsed e-Gov XML, and a small statute to parse.

The statute is synthetic (試験手続法) but written in real e-Gov XML with real 行政手続法 wording,
and holds what verification must cope with: items and イロハ sub-items, a 枝番 article, a deleted
range (Num="8:9"), a 附則, and two revisions (第六条の二 only from 2024-04-01).
"""

from __future__ import annotations

from datetime import date

from gennai.apps.legal.egov_xml import parse_law_xml
from gennai.apps.legal.model import Law, item_text, num_covers, paragraph_text, subitem_text
from gennai.apps.legal.provisions import LawRecord, ProvisionRef, ProvisionText

LAW_ID = "509AC0000000099"
OTHER_ID = "509AC0000000098"


def _s(text: str) -> str:
    return f'<Sentence Num="1">{text}</Sentence>'


def _para(num: int, text: str, items: str = "") -> str:
    label = "" if num == 1 else chr(ord("０") + num)
    return (
        f'<Paragraph Num="{num}"><ParagraphNum>{label}</ParagraphNum>'
        f"<ParagraphSentence>{_s(text)}</ParagraphSentence>{items}</Paragraph>"
    )


def _article(num: str, title: str, caption: str, body: str) -> str:
    return (
        f'<Article Num="{num}"><ArticleCaption>{caption}</ArticleCaption>'
        f"<ArticleTitle>{title}</ArticleTitle>{body}</Article>"
    )


def _item(num: str, title: str, text: str, subitems: str = "") -> str:
    return f'<Item Num="{num}"><ItemTitle>{title}</ItemTitle><ItemSentence>{_s(text)}</ItemSentence>{subitems}</Item>'


def _subitem(num: str, title: str, text: str) -> str:
    return (
        f'<Subitem1 Num="{num}"><Subitem1Title>{title}</Subitem1Title>'
        f"<Subitem1Sentence>{_s(text)}</Subitem1Sentence></Subitem1>"
    )


def statute_xml(with_6_2: bool) -> bytes:
    """試験手続法 as e-Gov XML; ``with_6_2`` adds 第六条の二 (the 2024 revision)."""
    articles = [
        _article(
            "1",
            "第一条",
            "（目的）",
            _para(1, "この法律は、行政運営における公正の確保と透明性の向上を図ることを目的とする。"),
        ),
        _article(
            "2",
            "第二条",
            "（定義）",
            _para(
                1,
                "この法律において、次の各号に掲げる用語の意義は、当該各号に定めるところによる。",
                _item("1", "一", "法令　法律、法律に基づく命令、条例及び地方公共団体の執行機関の規則をいう。")
                + _item("2", "二", "処分　行政庁の処分その他公権力の行使に当たる行為をいう。")
                + _item(
                    "3",
                    "三",
                    "不利益処分　行政庁が、法令に基づき、特定の者を名あて人として、直接に、これに義務を課し、"
                    "又はその権利を制限する処分をいう。ただし、次のいずれかに該当するものを除く。",
                    _subitem("1", "イ", "事実上の行為")
                    + _subitem("2", "ロ", "名あて人となるべき者の同意の下にすることとされている処分"),
                ),
            ),
        ),
        _article(
            "5",
            "第五条",
            "（審査基準）",
            _para(1, "行政庁は、審査基準を定めるものとする。")
            + _para(
                2,
                "行政庁は、審査基準を定めるに当たっては、許認可等の性質に照らしてできる限り具体的なものとしなければならない。",
            )
            + _para(3, "行政庁は、行政上特別の支障があるときを除き、審査基準を公にしておかなければならない。"),
        ),
        _article("6", "第六条", "（標準処理期間）", _para(1, "行政庁は、標準的な期間を定めるよう努めるものとする。")),
    ]
    if with_6_2:
        articles.append(
            _article("6_2", "第六条の二", "（届出）", _para(1, "届出は、到達したときに義務が履行されたものとする。"))
        )
    articles += [
        _article(
            "7",
            "第七条",
            "（審査の開始）",
            _para(1, "行政庁は、申請が到達したときは遅滞なく審査を開始しなければならない。"),
        ),
        _article("8:9", "第八条及び第九条", "", _para(1, "削除")),
        _article(
            "10", "第十条", "（公聴会）", _para(1, "行政庁は、必要に応じ、公聴会を開催するよう努めなければならない。")
        ),
    ]
    suppl = (
        "<SupplProvision><SupplProvisionLabel>附　則</SupplProvisionLabel>"
        + _article(
            "1", "第一条", "（施行期日）", _para(1, "この法律は、公布の日から起算して一年を経過した日から施行する。")
        )
        + _article(
            "2", "第二条", "（経過措置）", _para(1, "この法律の施行前にされた申請については、なお従前の例による。")
        )
    )
    suppl += "</SupplProvision>"
    return (
        '<?xml version="1.0" encoding="utf-8"?><Law Era="Reiwa" Lang="ja" LawType="Act" Num="099" Year="09">'
        "<LawNum>令和九年法律第九十九号</LawNum><LawBody>"
        '<LawTitle Kana="しけんてつづきほう" Abbrev="試手法">試験手続法</LawTitle>'
        f"<MainProvision>{''.join(articles)}</MainProvision>{suppl}</LawBody></Law>"
    ).encode()


def other_xml() -> bytes:
    """A second statute that shares the abbreviation 試手法, to make that name ambiguous."""
    body = _article("1", "第一条", "（目的）", _para(1, "この法律は、試験の手続を定める。"))
    return (
        '<?xml version="1.0" encoding="utf-8"?><Law Era="Reiwa" Lang="ja" LawType="Act" Num="098" Year="09">'
        "<LawNum>令和九年法律第九十八号</LawNum><LawBody>"
        '<LawTitle Abbrev="試手法">試験手数料法</LawTitle>'
        f"<MainProvision>{body}</MainProvision></LawBody></Law>"
    ).encode()


def sample_laws() -> list[Law]:
    return [
        parse_law_xml(statute_xml(False), file_name=f"{LAW_ID}_20200401_000000000000000.xml"),
        parse_law_xml(statute_xml(True), file_name=f"{LAW_ID}_20240401_509AC0000000100.xml"),
        parse_law_xml(other_xml(), file_name=f"{OTHER_ID}_20200401_000000000000000.xml"),
    ]


class LawsInMemory:
    """ProvisionSource over parsed laws, keeping every revision for as-of questions."""

    def __init__(self, laws: list[Law]) -> None:
        self.revisions: dict[str, list[Law]] = {}
        for law in sorted(laws, key=lambda law: law.in_force_from or date.min):
            self.revisions.setdefault(law.law_id, []).append(law)

    def _at(self, law_id: str, as_of: date | None) -> tuple[Law | None, date | None]:
        chosen, until = None, None
        for law in self.revisions.get(law_id, []):
            if as_of is None or law.in_force_from is None or law.in_force_from <= as_of:
                chosen, until = law, None
            elif until is None:
                until = law.in_force_from
        return chosen, until

    @staticmethod
    def _record(law: Law) -> LawRecord:
        return LawRecord(
            law_id=law.law_id,
            title=law.title,
            law_num=law.law_num,
            law_type=law.law_type,
            abbreviations=law.abbreviations,
            revision_id=law.revision_id,
            in_force_from=law.in_force_from,
        )

    async def find_laws(self, name: str) -> list[LawRecord]:
        newest = [revisions[-1] for revisions in self.revisions.values()]
        return [self._record(law) for law in newest if name in (law.title, law.law_num, *law.abbreviations)]

    async def get_law(self, law_id: str, as_of: date | None = None) -> LawRecord | None:
        law, _ = self._at(law_id, as_of)
        return self._record(law) if law else None

    async def get_provision(self, ref: ProvisionRef, as_of: date | None = None) -> ProvisionText | None:
        law, until = self._at(ref.law_id, as_of)
        if law is None:
            return None

        def found(text: str, deleted: bool = False, children: tuple[str, ...] = ()) -> ProvisionText:
            return ProvisionText(
                ref=ref,
                text=text,
                deleted=deleted,
                in_force_from=law.in_force_from,
                in_force_until=until,
                children=children,
            )

        if ref.article is None and ref.paragraph is None and not ref.supplementary:
            return found(law.title, children=tuple(a.num for a in law.articles))
        suppl = law.original_suppl
        articles = (suppl.articles if suppl else []) if ref.supplementary else law.articles
        article = next((a for a in articles if num_covers(a.num, ref.article or "")), None)
        if article is None:
            return None
        if ref.paragraph is None:
            return found(article.text, article.deleted, tuple(str(p.num) for p in article.paragraphs))
        paragraph = next((p for p in article.paragraphs if p.num == ref.paragraph), None)
        if paragraph is None:
            return None
        if ref.item is None:
            return found(paragraph_text(paragraph), article.deleted, tuple(i.num for i in paragraph.items))
        item = next((i for i in paragraph.items if i.num == ref.item), None)
        if item is None:
            return None
        if not ref.subitems:
            return found(item_text(item), item.deleted, tuple(s.num for s in item.subitems))
        subitem = next((s for s in item.subitems if s.num == ref.subitems[0]), None)
        return found(subitem_text(subitem), subitem.deleted) if subitem else None


def sample_source() -> LawsInMemory:
    return LawsInMemory(sample_laws())
