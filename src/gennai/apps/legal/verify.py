"""Check every citation in a text against the statutes, and mark the ones that fail.

For each citation: (a) the provision exists, (b) it is in force on the date asked (not deleted, not
before or after its revision's dates), (c) text quoted as that provision's (「…」 next to it, or tied
to it by a numbered reference ``[1]``) is found in the provision. The five statuses are an external
interface (``POST /api/legal/verify``) and must not be renamed. Failing citations are marked in the
text with ⚠ and a reason, so a reader never takes an unverified citation on trust.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from gennai.apps.legal.citations import Citation, CitationContext, CitationParser, default_parser
from gennai.apps.legal.model import DELETED_TEXT
from gennai.apps.legal.provisions import ProvisionSource, ProvisionText
from gennai.apps.legal.resolve import Resolution, resolve

Status = Literal["verified", "not_found", "not_in_force", "quote_mismatch", "ambiguous"]
STATUSES: tuple[Status, ...] = ("verified", "not_found", "not_in_force", "quote_mismatch", "ambiguous")

STATUS_LABELS: dict[Status, str] = {
    "verified": "確認済み",
    "not_found": "条文が見つかりません",
    "not_in_force": "指定日に効力のある条文ではありません",
    "quote_mismatch": "引用文が条文と一致しません",
    "ambiguous": "引用先を特定できません",
}

MIN_NEARBY_QUOTE = 8
"""Shorter 「…」 next to a citation are usually terms (「審査基準」), not quotations; they are checked
only when explicitly tied to a citation by ``[n]`` or a parenthesised citation."""

REFERENCE_LINE = re.compile(r"^[ \t]*(?:[-*・][ \t]*)?\[(\d+)\]", re.MULTILINE)
SOURCE_MARKER = re.compile(r"\[(\d+)\]")
"""A numbered source marker ``[1]``; a line that starts with one is that source's reference line."""
_SENTENCE_REST = re.compile(r"[^。「\n]*。?(?:\[\d+\])*")  # up to the sentence's end or the next quote
_PAREN = re.compile(r"[ \t]*[（(]([^）)\n]{1,80})[）)]")
_ELLIPSIS = re.compile(r"…+|\.{3,}|・{3,}|（中?略）|\(中?略\)")
_SPACE = re.compile(r"\s+")
_NESTED_QUOTES = str.maketrans("『』", "「」")
_LEADING_LABEL = re.compile(r"^(?:[^\s　]{1,8}[\s　]+)?")


@dataclass(frozen=True)
class Quote:
    """A 「…」 in the text and its position."""

    text: str
    span: tuple[int, int]  # of the whole 「…」


@dataclass(frozen=True)
class CitationCheck:
    """The verdict on one citation; ``to_json`` is the shape of the verify API."""

    text: str
    span: tuple[int, int]
    status: Status
    law_id: str | None = None
    law_title: str | None = None
    article: str | None = None
    paragraph: int | None = None
    item: str | None = None
    label: str = ""
    reason: str = ""
    quotes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "span": [self.span[0], self.span[1]],
            "law_id": self.law_id,
            "article": self.article,
            "paragraph": self.paragraph,
            "item": self.item,
            "status": self.status,
            "label": self.label,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class VerifiedText:
    """A text with its unverifiable citations marked, and the verdict on every citation."""

    text: str
    citations: list[CitationCheck]

    @property
    def all_verified(self) -> bool:
        return all(c.status == "verified" for c in self.citations)


def normalize(text: str) -> str:
    """Compare statute text as a reader would: width-insensitive (NFKC), whitespace ignored, and
    『』 equal to 「」 (a quotation inside a quotation is written with 『』)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text)).translate(_NESTED_QUOTES)


def quote_matches(quote: str, source_text: str) -> bool:
    """Whether ``quote`` occurs in the source; an elision (…, （略）) may skip text between parts."""
    haystack = normalize(source_text)
    position = 0
    parts = [normalize(p) for p in _ELLIPSIS.split(quote)]
    if not any(parts):
        return True
    for part in parts:
        if not part:
            continue
        found = haystack.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def find_quotes(text: str) -> list[Quote]:
    """Outermost 「…」 pairs; inner 「」 (a quotation inside a quotation) stay part of the text."""
    quotes: list[Quote] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch == "「":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "」" and depth:
            depth -= 1
            if depth == 0:
                quotes.append(Quote(text[start + 1 : i], (start, i + 1)))
    return quotes


def _is_deleted(provision: ProvisionText) -> bool:
    if provision.deleted:
        return True
    body = normalize(provision.text)
    return body == DELETED_TEXT or normalize(_LEADING_LABEL.sub("", provision.text.strip())) == DELETED_TEXT


def _in_force(provision: ProvisionText, as_of: date | None) -> bool:
    if as_of is None:
        return True
    if provision.in_force_from is not None and provision.in_force_from > as_of:
        return False
    return provision.in_force_until is None or as_of < provision.in_force_until


def _inside(span: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


def _attribute_quotes(text: str, citations: list[Citation], quotes: list[Quote]) -> dict[int, list[str]]:
    """Which quotes are claimed to be the text of which citation (by index)."""
    numbered: dict[str, int] = {}
    for m in REFERENCE_LINE.finditer(text):
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        first = next((i for i, c in enumerate(citations) if m.end() <= c.span[0] < line_end), None)
        if first is not None:
            numbered.setdefault(m.group(1), first)
    claimed: dict[int, list[str]] = {}
    for quote in quotes:
        targets = _quote_targets(text, citations, quote, numbered)
        for index in targets:
            claimed.setdefault(index, []).append(quote.text)
    return claimed


def _quote_targets(text: str, citations: list[Citation], quote: Quote, numbered: dict[str, int]) -> list[int]:
    """A quote belongs to the citation in parentheses right after it, else to the ``[n]`` later in its
    sentence (…「…」と定めている[1]。), else to a citation before it on the same line."""
    after = quote.span[1]
    if (m := _PAREN.match(text, after)) is not None:
        inside = [i for i, c in enumerate(citations) if _inside(c.span, m.span(1))]
        if inside:
            return inside[:1]
    if (m := _SENTENCE_REST.match(text, after)) is not None and (markers := SOURCE_MARKER.findall(m.group())):
        return [numbered[n] for n in markers if n in numbered]
    if len(normalize(quote.text)) < MIN_NEARBY_QUOTE:
        return []
    line_start = text.rfind("\n", 0, quote.span[0]) + 1
    before = [i for i, c in enumerate(citations) if line_start <= c.span[0] and c.span[1] <= quote.span[0]]
    return before[-1:]


def _check(resolution: Resolution, quotes: list[str], as_of: date | None) -> tuple[Status, str]:
    if resolution.failure is not None:
        return resolution.failure, resolution.reason
    for provision in resolution.provisions:
        where = provision.path_label or resolution.citation.text
        if _is_deleted(provision):
            return "not_in_force", f"{where}は削除されています"
        if not _in_force(provision, as_of):
            return "not_in_force", f"{where}は{as_of}時点で効力がありません"
    source_text = "\n".join(p.text for p in resolution.provisions)
    for quote in quotes:
        if not quote_matches(quote, source_text):
            return "quote_mismatch", f"「{quote}」は{resolution.citation.label()}の条文にありません"
    if any(p.approximate for p in resolution.provisions):
        return "ambiguous", "この法令は条単位のデータしかなく、項・号までは確認できません"
    return "verified", ""


async def verify_text(
    text: str,
    source: ProvisionSource,
    *,
    as_of: date | None = None,
    context: CitationContext | None = None,
    parser: CitationParser | None = None,
    include_law_mentions: bool = False,
) -> list[CitationCheck]:
    """The verdict on every citation in ``text``, in order.

    Citations inside a quotation belong to the quoted statute text and are not checked on their own.
    Mentions of a statute as a whole (民法は…) are skipped unless ``include_law_mentions``.
    """
    citations = (parser or default_parser()).parse(text, context)
    quotes = find_quotes(text)
    cited = {normalize(c.text) for c in citations}
    quoted = [q for q in quotes if normalize(q.text) not in cited]  # 「行政手続法第五条」 is a citation
    citations = [
        c
        for c in citations
        if not any(_inside(c.span, q.span) for q in quoted) and (include_law_mentions or not c.is_law_only)
    ]
    claimed = _attribute_quotes(text, citations, quoted)
    checks = []
    for index, citation in enumerate(citations):
        resolution = await resolve(citation, source, as_of)
        status, reason = _check(resolution, claimed.get(index, []), as_of)
        refs = resolution.refs
        first = refs[0] if refs else None
        cited_range = citation.article is not None and ":" in citation.article
        checks.append(
            CitationCheck(
                text=citation.text,
                span=citation.span,
                status=status,
                law_id=resolution.law.law_id if resolution.law else None,
                law_title=resolution.law.title if resolution.law else None,
                article=citation.article if cited_range or first is None else first.article,
                paragraph=first.paragraph if first else citation.paragraph,
                item=first.item if first else citation.item,
                label=_label(citation, resolution),
                reason=reason,
                quotes=tuple(claimed.get(index, [])),
            )
        )
    return checks


def _label(citation: Citation, resolution: Resolution) -> str:
    if resolution.law is None:
        return citation.label()
    provisions = resolution.provisions
    if len(provisions) == 1 and provisions[0].path_label:
        return f"{resolution.law.title} {provisions[0].path_label}"
    return citation.label().replace(citation.law or "", resolution.law.title, 1)


def mark_unverified(text: str, checks: Sequence[CitationCheck]) -> str:
    """``text`` with ⚠ and the reason after every citation that is not verified; nothing dropped."""
    out = text
    for check in sorted(checks, key=lambda c: c.span[1], reverse=True):
        if check.status == "verified":
            continue
        note = STATUS_LABELS[check.status] + (f"：{check.reason}" if check.reason else "")
        out = f"{out[: check.span[1]]} ⚠（{note}）{out[check.span[1] :]}"
    return out


async def verify_and_mark(
    text: str,
    source: ProvisionSource,
    *,
    as_of: date | None = None,
    context: CitationContext | None = None,
    parser: CitationParser | None = None,
) -> VerifiedText:
    """Verify ``text`` and return it with every unverifiable citation marked."""
    checks = await verify_text(text, source, as_of=as_of, context=context, parser=parser)
    return VerifiedText(mark_unverified(text, checks), checks)
