"""The structure of a statute as e-Gov law XML describes it, free of XML and of the database.

Numbers stay in e-Gov ``Num`` form ("32_2" is 第三十二条の二, "29:31" is the deleted range
第二十九条から第三十一条まで) so that a citation, the XML and the store all speak the same key.
Parsing (``egov_xml``), storage (``store``) and citation resolution all meet here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

HeadingKind = Literal["Part", "Chapter", "Section", "Subsection", "Division"]

HEADING_LEVEL: dict[str, int] = {"Part": 1, "Chapter": 2, "Section": 3, "Subsection": 4, "Division": 5}
HEADING_SUFFIX: dict[str, str] = {"Part": "編", "Chapter": "章", "Section": "節", "Subsection": "款", "Division": "目"}

DELETED_TEXT = "削除"


def num_key(num: str) -> tuple[int, ...]:
    """A sort key for a branch number: "32_2" -> (32, 2); a range sorts by its first number."""
    first = num.split(":", 1)[0]
    parts = [p for p in first.split("_") if p.isdigit()]
    return tuple(int(p) for p in parts) or (0,)


def num_range(num: str) -> tuple[str, str]:
    """The first and last numbers a ``Num`` covers: "29:31" -> ("29", "31"), "5" -> ("5", "5")."""
    if ":" in num:
        first, last = num.split(":", 1)
        return first, last
    return num, num


def num_covers(num: str, wanted: str) -> bool:
    """Whether ``num`` (maybe a range such as "29:31") includes the single number ``wanted``."""
    if num == wanted:
        return True
    if ":" not in num:
        return False
    first, last = num_range(num)
    return num_key(first) <= num_key(wanted) <= num_key(last)


@dataclass(frozen=True)
class Heading:
    """One level of the outline above an article: 第二編, 第三章, 第一節, 第二款, 第一目."""

    kind: HeadingKind
    num: str
    title: str  # as printed, e.g. "第一章　総則"
    deleted: bool = False


@dataclass
class Table:
    """A simple table kept as rows of cell text; enough to search and to show, not to re-typeset."""

    rows: list[list[str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join("　".join(cell for cell in row) for row in self.rows)


@dataclass
class Subitem:
    """イ, ロ … (level 1), (1), (2) … (level 2) and deeper: Subitem1..Subitem10 in the XML."""

    level: int
    num: str
    title: str
    text: str
    deleted: bool = False
    children: list[Subitem] = field(default_factory=list)


@dataclass
class Item:
    """A 号: ``num`` is the XML Num ("2", "2_2"), ``title`` as printed ("二", "二の二")."""

    num: str
    title: str
    text: str
    deleted: bool = False
    subitems: list[Subitem] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Paragraph:
    """A 項: ``num`` is 1-based; ``label`` is the printed ParagraphNum, empty for paragraph 1."""

    num: int
    label: str
    text: str
    caption: str = ""
    items: list[Item] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


@dataclass
class Article:
    """A 条 with its place in the outline (``path``) and its paragraphs."""

    num: str
    title: str  # as printed: "第三十二条の二", "第二十九条から第三十一条まで"
    caption: str = ""  # "（定義）" as printed, brackets kept
    paragraphs: list[Paragraph] = field(default_factory=list)
    path: tuple[Heading, ...] = ()
    deleted: bool = False

    @property
    def is_range(self) -> bool:
        return ":" in self.num

    @property
    def text(self) -> str:
        """The whole article as one plain text: paragraphs, items, sub-items and tables in order."""
        return "\n".join(paragraph_text(p) for p in self.paragraphs)


@dataclass
class SupplProvision:
    """One 附則 block; ``amend_law_num`` is set when it came with an amending law, else it is the original's."""

    label: str  # "附則", "附　則"
    amend_law_num: str | None = None
    extract: bool = False  # 抄: only part of the amending law's 附則 is reproduced
    articles: list[Article] = field(default_factory=list)
    paragraphs: list[Paragraph] = field(default_factory=list)  # a 附則 of bare 項 without 条

    @property
    def is_original(self) -> bool:
        return self.amend_law_num is None


@dataclass
class Law:
    """A statute as of one revision."""

    law_id: str  # "405AC0000000088"
    law_num: str  # "平成五年法律第八十八号"
    title: str
    law_type: str  # e-Gov LawType: Act, CabinetOrder, ...
    era: str = ""  # Meiji, Taisho, Showa, Heisei, Reiwa
    year: int | None = None
    number: int | None = None
    promulgated: date | None = None
    abbreviations: tuple[str, ...] = ()
    title_kana: str = ""
    revision_id: str | None = None  # "{law_id}_{YYYYMMDD}_{amending law id or 000000000000000}"
    in_force_from: date | None = None  # 施行日 of this revision
    amend_law_id: str | None = None
    lossy: bool = False  # article-level only (bulk-articles.zip): paragraphs and items not reliable
    headings: list[Heading] = field(default_factory=list)  # the outline, in document order
    articles: list[Article] = field(default_factory=list)  # main provision, document order
    paragraphs: list[Paragraph] = field(default_factory=list)  # a main provision of bare 項 without 条
    suppl_provisions: list[SupplProvision] = field(default_factory=list)
    appendix_tables: list[Table] = field(default_factory=list)

    def article(self, num: str) -> Article | None:
        """The main-provision article numbered ``num``, or the deleted range that covers it."""
        for article in self.articles:
            if num_covers(article.num, num):
                return article
        return None

    @property
    def original_suppl(self) -> SupplProvision | None:
        """The 附則 of the original enactment, which ``附則第二条`` in the law's own text means."""
        return next((s for s in self.suppl_provisions if s.is_original), None)


def subitem_text(subitem: Subitem) -> str:
    lines = [f"{subitem.title}　{subitem.text}".strip()]
    lines.extend(subitem_text(child) for child in subitem.children)
    return "\n".join(lines)


def item_text(item: Item) -> str:
    lines = [f"{item.title}　{item.text}".strip()]
    lines.extend(subitem_text(s) for s in item.subitems)
    lines.extend(t.text for t in item.tables)
    return "\n".join(lines)


def paragraph_text(paragraph: Paragraph) -> str:
    """A paragraph with its items and tables as plain text, the label first when printed."""
    head = f"{paragraph.label}　{paragraph.text}" if paragraph.label else paragraph.text
    lines = [head]
    lines.extend(item_text(i) for i in paragraph.items)
    lines.extend(t.text for t in paragraph.tables)
    return "\n".join(lines)
