"""Turn a parsed citation into the provisions it names, or say why that is impossible.

Resolution asks only the ``ProvisionSource`` protocol, so it works against the statute store and
against any fake. It decides which statute a name means (title, abbreviation, law number or law
id), applies 前条/次条 along the statute's own article order, expands ranges, and fetches each
provision as of the date asked. Whether a provision is in force or quoted rightly is ``verify``'s
job; here only existence is settled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from gennai.apps.legal.aliases import load_aliases
from gennai.apps.legal.citations import Citation, CitationContext, CitationParser, default_parser
from gennai.apps.legal.model import num_covers, num_key
from gennai.apps.legal.numerals import article_label, item_label, paragraph_label, subitem_label
from gennai.apps.legal.provisions import LawRecord, ProvisionRef, ProvisionSource, ProvisionText

# Paragraphs or items of one provision, or articles where the statute's article list is unknown: no real
# range is longer, and 第一項から第九九九九九九項まで would otherwise be expanded number by number.
MAX_RANGE = 100

Failure = Literal["not_found", "ambiguous", "not_in_force"]

_FULL_WIDTH = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ０１２３４５６７８９",
)  # statutes spell abbreviations such as ＡＩ法 in full width; users type AI法
_LAW_ID = re.compile(r"[0-9]{3}[A-Z]{2}[0-9A-Z]{10}")


@dataclass(frozen=True)
class Resolution:
    """The outcome for one citation: provisions as of the date asked, or a failure and its reason."""

    citation: Citation
    law: LawRecord | None = None
    refs: tuple[ProvisionRef, ...] = ()
    provisions: tuple[ProvisionText, ...] = ()
    failure: Failure | None = None
    reason: str = ""  # Japanese, for the reader of a marked answer

    @property
    def ok(self) -> bool:
        return self.failure is None


def _fail(citation: Citation, failure: Failure, reason: str, law: LawRecord | None = None) -> Resolution:
    return Resolution(citation, law=law, failure=failure, reason=reason)


async def find_law(source: ProvisionSource, name: str) -> tuple[LawRecord | None, Failure | None, str]:
    """The one statute ``name`` means: a law id, title, abbreviation or law number."""
    if _LAW_ID.fullmatch(name):
        law = await source.get_law(name)
        return (law, None, "") if law else (None, "not_found", f"法令ID {name} の法令は登録されていません")
    found = await source.find_laws(name)
    for variant in (name.translate(_FULL_WIDTH), load_aliases().get(name)):
        if not found and variant and variant != name:
            found = await source.find_laws(variant)
    by_id = {law.law_id: law for law in found}
    if not by_id:
        return None, "not_found", f"「{name}」という法令は登録されていません"
    if len(by_id) > 1:
        titles = "、".join(sorted(law.title for law in by_id.values()))
        return None, "ambiguous", f"「{name}」に当たる法令が複数あります（{titles}）"
    return next(iter(by_id.values())), None, ""


def _shift_article(article: str, shift: int, order: tuple[str, ...]) -> str | None:
    """前条/次条 along the statute's article order; plain arithmetic only if the order is unknown."""
    index = next((i for i, num in enumerate(order) if num_covers(num, article)), None)
    if index is None:
        base = num_key(article)[0] + shift
        return str(base) if base >= 1 and not order else None
    target = index + shift
    if not 0 <= target < len(order):
        return None
    num = order[target]
    # Landing inside a deleted range such as 29:31 means its nearest end, as printed.
    return num.split(":")[0 if shift > 0 else -1]


def _too_wide(num_range: str) -> bool:
    """Whether a range ("5:9999999") spans more than ``MAX_RANGE`` numbers: expanding it would only burn time."""
    first, _, last = num_range.partition(":")
    return bool(last) and num_key(last)[0] - num_key(first)[0] >= MAX_RANGE


def _articles(article: str, order: tuple[str, ...]) -> list[str] | None:
    """The article numbers a cited article or range names, in statute order; None if an end is missing."""
    if ":" not in article:
        return [article]
    first, _, last = article.partition(":")
    if not order:
        return [str(n) for n in range(num_key(first)[0], num_key(last)[0] + 1)]
    if not any(num_covers(n, first) for n in order) or not any(num_covers(n, last) for n in order):
        return None
    picked = [
        n for n in order if num_key(first) <= num_key(n.split(":")[0]) and num_key(n.split(":")[-1]) <= num_key(last)
    ]
    if any(":" in n for n in picked) and article in picked:
        return [article]  # the citation names exactly a stored (deleted) range
    return [n.split(":")[0] if ":" in n else n for n in picked]


def _items(item: str) -> list[str]:
    first, _, last = item.partition(":")
    if not last:
        return [item]
    return [str(n) for n in range(num_key(first)[0], num_key(last)[0] + 1)]


def provision_label(law_title: str, ref: ProvisionRef) -> str:
    """The full label by which a provision is cited: 行政手続法附則第二条, 同法第二条第一項第四号イ."""
    parts = [law_title, "附則" if ref.supplementary else ""]
    if ref.article:
        parts.append(article_label(ref.article))
    if ref.paragraph is not None:
        parts.append(paragraph_label(ref.paragraph))
    if ref.item:
        parts.append(item_label(ref.item))
    parts.extend(subitem_label(int(s)) for s in ref.subitems if s.isdigit())
    return "".join(parts)


async def resolve(citation: Citation, source: ProvisionSource, as_of: date | None = None) -> Resolution:
    """The provisions ``citation`` names as of ``as_of`` (the newest revision when None)."""
    if citation.ambiguous:
        return _fail(citation, "ambiguous", citation.ambiguous)
    if citation.law is None:
        return _fail(citation, "ambiguous", "どの法令の条文か分かりません")
    law, failure, reason = await find_law(source, citation.law)
    if law is None:
        return _fail(citation, failure or "not_found", reason)
    if citation.is_law_only:
        if await source.get_law(law.law_id, as_of) is None:
            return _fail(citation, "not_in_force", f"{law.title}は指定日にはまだ施行されていません", law)
        return Resolution(citation, law=law)
    refs_or_reason = await _refs(citation, law, source, as_of)
    if isinstance(refs_or_reason, str):
        return _fail(citation, "not_found", refs_or_reason, law)
    provisions: list[ProvisionText] = []
    for ref in refs_or_reason:
        found = await source.get_provision(ref, as_of)
        if found is None:
            if as_of is not None and await source.get_provision(ref) is not None:
                where = provision_label(law.title, ref)
                return _fail(citation, "not_in_force", f"{where}は指定日には存在しません", law)
            return _fail(citation, "not_found", f"{provision_label(law.title, ref)}は存在しません", law)
        provisions.append(found)
    return Resolution(citation, law=law, refs=tuple(refs_or_reason), provisions=tuple(provisions))


async def _refs(
    citation: Citation, law: LawRecord, source: ProvisionSource, as_of: date | None
) -> list[ProvisionRef] | str:
    """Every reference the citation expands to, or why the statute has no such place.

    前条, 次条, ranges and a left-out 第一項 follow the statute's structure as of the date asked.
    """
    article = citation.article
    order: tuple[str, ...] = ()
    if article is not None and not citation.supplementary and (citation.article_shift or ":" in article):
        whole = await source.get_provision(ProvisionRef(law_id=law.law_id), as_of)
        order = whole.children if whole else ()
    if article is not None and citation.article_shift:
        shifted = _shift_article(article, citation.article_shift, order)
        if shifted is None:
            word = "前条" if citation.article_shift < 0 else "次条"
            return f"{law.title}{article_label(article)}の{word}はありません"
        article = shifted
    paragraph_range = f"{citation.paragraph}:{citation.paragraph_to}" if citation.paragraph_to is not None else ""
    if any(r and _too_wide(r) for r in (article if not order else "", paragraph_range, citation.item or "")):
        return f"{citation.text}は範囲が広すぎて確認できません（{MAX_RANGE}まで）"
    articles: list[str | None] = [None]
    if article is not None:
        expanded = _articles(article, order)
        if expanded is None:
            return f"{law.title}{article_label(article)}は存在しません"
        articles = list(expanded)
    paragraphs: list[int | None] = [citation.paragraph]
    if citation.paragraph is not None and citation.paragraph_to is not None:
        paragraphs = list(range(citation.paragraph, citation.paragraph_to + 1))
    items: list[str | None] = [*_items(citation.item)] if citation.item else [None]
    refs: list[ProvisionRef] = []
    for num in articles:
        for paragraph in paragraphs:
            if paragraph is None and citation.item is not None:
                paragraph = await _sole_paragraph(source, law, num, citation.supplementary, as_of)
                if paragraph is None:
                    where = provision_label(
                        law.title, ProvisionRef(law.law_id, num, supplementary=citation.supplementary)
                    )
                    return f"{where}には複数の項があり、どの項の号か分かりません"
            refs.extend(
                ProvisionRef(
                    law_id=law.law_id,
                    article=num,
                    paragraph=paragraph,
                    item=item,
                    subitems=citation.subitems if item is not None else (),
                    supplementary=citation.supplementary,
                )
                for item in items
            )
    return refs


async def _sole_paragraph(
    source: ProvisionSource, law: LawRecord, article: str | None, supplementary: bool, as_of: date | None
) -> int | None:
    """第五条第二号 leaves out 第一項 only when the article has a single paragraph."""
    ref = ProvisionRef(law_id=law.law_id, article=article, supplementary=supplementary)
    found = await source.get_provision(ref, as_of)
    if found is not None and len(found.children) > 1:
        return None
    return 1  # a missing article is reported when paragraph 1 is looked up


async def resolve_text(
    text: str,
    source: ProvisionSource,
    *,
    as_of: date | None = None,
    context: CitationContext | None = None,
    parser: CitationParser | None = None,
) -> list[Resolution]:
    """Every citation in ``text`` resolved, in order: a query that names provisions goes straight to them."""
    return [await resolve(c, source, as_of) for c in (parser or default_parser()).parse(text, context)]
