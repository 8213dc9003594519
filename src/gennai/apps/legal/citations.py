"""Find Japanese legal citations in free text, each with its exact character span.

A citation is a law (named, numbered, 同法 or この法律) followed by a chain of provision levels
(条, 項, 号, イロハ), any of which may be relative (前条, 次項, 同号). Relative and law-less citations
are filled in from the previous citation in the text or from a caller-given context (the law and
article the text is about), so every returned citation is absolute or says why it is ambiguous.
Lists (第一条及び第三条, 第一項、第二項) yield one citation per member, each with its own span.
Nothing here touches the statute store: ``resolve`` turns a citation into provisions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache

from gennai.apps.legal.aliases import load_aliases
from gennai.apps.legal.numerals import (
    IROHA,
    NUMERAL_CHARS,
    article_label,
    item_label,
    paragraph_label,
    parse_num_label,
    parse_number,
    parse_subitem_label,
    subitem_label,
    to_kanji,
)
from gennai.apps.legal.provisions import LawRecord


@dataclass(frozen=True)
class CitationContext:
    """What the text is about: a statute's own text cites 前条 and 第二項 relative to this."""

    law: str | None = None  # a title, abbreviation, law number or e-Gov law id
    article: str | None = None  # e-Gov Num, e.g. "32_2"
    paragraph: int | None = None


@dataclass(frozen=True)
class Citation:
    """One citation as found, made absolute as far as the text allows.

    Numbers are e-Gov ``Num`` values. ``article_shift`` is -1 for 前条 and +1 for 次条: which article
    precedes 第三十三条 (第三十二条 or 第三十二条の二) only the statute knows, so the resolver applies it.
    """

    text: str
    span: tuple[int, int]
    law: str | None = None  # as written or inherited: title, abbreviation, law number or law id
    article: str | None = None  # "709", "32_2", or a range "29:31"
    article_shift: int = 0
    paragraph: int | None = None
    paragraph_to: int | None = None  # last paragraph of a range (第一項から第三項まで, 前各項)
    item: str | None = None  # "2", "2_2", or a range "1:3"
    subitems: tuple[str, ...] = ()  # sub-item Num values: イ is "1"
    supplementary: bool = False  # 附則 of the original enactment
    ambiguous: str | None = None  # why the law or position cannot be determined from the text

    @property
    def is_law_only(self) -> bool:
        """A mention of a statute as a whole (民法, 平成十五年法律第五十七号) with no provision."""
        return self.article is None and self.paragraph is None and self.item is None and not self.supplementary

    def label(self) -> str:
        """A canonical label for display and prompts: 行政手続法第五条第一項第二号イ."""
        parts = [self.law or ""]
        if self.supplementary:
            parts.append("附則")
        if self.article is not None:
            parts.append(article_label(self.article))
            if self.article_shift:
                parts.append("の前条" if self.article_shift < 0 else "の次条")
        if self.paragraph is not None:
            to = self.paragraph_to
            parts.append(
                paragraph_label(self.paragraph)
                + (f"から{paragraph_label(to)}まで" if to is not None and to != self.paragraph else "")
            )
        if self.item is not None:
            parts.append(item_label(self.item))
        parts.extend(subitem_label(int(s)) for s in self.subitems)
        return "".join(parts)


# --- patterns -------------------------------------------------------------------------------

_N = f"[{NUMERAL_CHARS}]{{1,12}}"  # no statute numbers beyond this; a longer run is noise, not a citation
_NOT_ONE = f"(?![一1１](?![{NUMERAL_CHARS}]))"  # 第五条の一部 is not a branch number: none is ever 1
_BRANCH = f"(?:の{_NOT_ONE}{_N})*"
_ERA = "明治|大正|昭和|平成|令和"

_TO = "(?:から|[〜～―－])"  # 第五条から第七条まで, and 第5条〜第7条 as answers often write it
_ARTICLE = re.compile(f"第({_N}条{_BRANCH})(?:{_TO}第({_N}条{_BRANCH})(?:まで)?)?")
_ARTICLE_REL = re.compile("(前|次|同|本)条")
_PARAGRAPH = re.compile(f"第({_N})項(?:{_TO}第({_N})項(?:まで)?)?")
_PARAGRAPH_REL = re.compile(f"前各項|前({_N})項|(前|次|同|本)項")
_ITEM = re.compile(f"第({_N}号{_BRANCH})(?:{_TO}第({_N}号{_BRANCH})(?:まで)?)?")
_ITEM_REL = re.compile("前各号|(前|次|同|本)号")
_SUBITEM = re.compile(f"[{IROHA}](?![ァ-ヶー])")
_SUPPL = re.compile("附[ 　]?則")
_LAW_NUM = re.compile(f"({_ERA})(元|{_N})年([一-龥]{{1,12}}?)第({_N})号")
_PAREN_LAW_NUM = re.compile(f"（{_LAW_NUM.pattern}）")
_SAME_LAW = re.compile("同法律|同法|同令|同規則")
_THIS_LAW = re.compile("この法律|本法")
_LIST_JOIN = re.compile("[、，,・]|及び|並びに|又は|若しくは|ならびに|および|または")
# A statute title not in the known list: kanji/katakana words joined by the particles titles use,
# ending in a law-type word. Only trusted right before a provision (…法第五条).
_NAME_LINKS = ("に関する", "における", "のための", "に係る", "に対する", "に伴う", "並びに", "及び", "の")
_LAW_SUFFIX = "(?:法律|法|令|規則|憲法|条例|規程)"
_GENERIC_NAMES = frozenset({"法", "法律", "令", "規則", "条例", "規程", "同法", "同令", "同規則", "本法"})
_LAW_LIKE = re.compile(f"{_LAW_SUFFIX}\\Z")
_NAME_CHAR = re.compile("[一-龥々〆ァ-ヶーA-Za-zＡ-Ｚａ-ｚ]")


def _guess_name(window: str) -> str | None:
    """The longest statute-like name ending ``window``: kanji/katakana words joined by the particles
    titles use (…の…に関する法律). Walks back once, so no input can make it slow."""
    if not _LAW_LIKE.search(window):
        return None
    start = len(window)
    while True:
        run = start
        while run > 0 and _NAME_CHAR.match(window, run - 1):
            run -= 1
        if run == start:
            break
        start = run
        link = next((k for k in _NAME_LINKS if window.endswith(k, 0, start)), None)
        if link is None or start - len(link) == 0 or not _NAME_CHAR.match(window, start - len(link) - 1):
            break
        start -= len(link)
    name = window[start:]
    return name if name and _NAME_CHAR.match(name) else None


def _num(match: re.Match[str], unit: str) -> str:
    first = parse_num_label(f"第{match.group(1)}", unit)
    return first if match.group(2) is None else f"{first}:{parse_num_label(f'第{match.group(2)}', unit)}"


def normalize_law_num(match: re.Match[str]) -> str:
    """A law number in the statute spelling: 平成15年法律第57号 -> 平成十五年法律第五十七号."""
    era, year, kind, number = match.groups()
    year_text = year if year == "元" else to_kanji(parse_number(year))
    return f"{era}{year_text}年{kind}第{to_kanji(parse_number(number))}号"


def law_numbers_in(text: str) -> set[str]:
    """The law numbers ``text`` mentions (平成15年法律第57号), in the statute spelling."""
    return {normalize_law_num(match) for match in _LAW_NUM.finditer(text)}


# --- the chain of levels after a law -----------------------------------------------------------


@dataclass
class _Chain:
    """Levels as written: None when absent; relative ones keep their word (前, 次, 同, 本)."""

    start: int
    end: int
    supplementary: bool = False
    article: str | None = None
    article_rel: str | None = None
    paragraph: tuple[int, int | None] | None = None
    paragraph_rel: str | None = None  # 前, 次, 同, 本, 各 (前各項) or a count for 前二項
    item: str | None = None
    item_rel: str | None = None
    subitems: tuple[str, ...] = ()

    @property
    def top(self) -> int:
        """The highest level written: 0 article (or 附則), 1 paragraph, 2 item, 3 sub-item."""
        if self.supplementary or self.article or self.article_rel:
            return 0
        if self.paragraph or self.paragraph_rel:
            return 1
        return 2 if self.item or self.item_rel else 3


def _match_chain(text: str, pos: int) -> _Chain | None:
    """The longest provision chain at ``pos``; relative words only as its first level."""
    chain = _Chain(pos, pos)
    first = True
    if m := _SUPPL.match(text, chain.end):
        chain.supplementary, chain.end = True, m.end()
    if m := _ARTICLE.match(text, chain.end):
        chain.article, chain.end, first = _num(m, "条"), m.end(), False
    elif not chain.supplementary and (m := _ARTICLE_REL.match(text, chain.end)):
        chain.article_rel, chain.end, first = m.group(1), m.end(), False
    if m := _PARAGRAPH.match(text, chain.end):
        last = parse_number(m.group(2)) if m.group(2) else None
        chain.paragraph, chain.end, first = (parse_number(m.group(1)), last), m.end(), False
    elif first and not chain.supplementary and (m := _PARAGRAPH_REL.match(text, chain.end)):
        chain.paragraph_rel = m.group(2) or m.group(1) or "各"
        chain.end, first = m.end(), False
    if m := _ITEM.match(text, chain.end):
        chain.item, chain.end, first = _num(m, "号"), m.end(), False
    elif first and not chain.supplementary and (m := _ITEM_REL.match(text, chain.end)):
        chain.item_rel, chain.end, first = m.group(1) or "各", m.end(), False
    if (chain.item or chain.item_rel) and (m := _SUBITEM.match(text, chain.end)):
        chain.subitems, chain.end = (str(parse_subitem_label(m.group())),), m.end()
    if first:
        return None  # nothing but 附則, or nothing at all
    return chain


# --- the scanner ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Position:
    """Where a relative reference is measured from."""

    law: str | None
    article: str | None = None
    article_shift: int = 0
    paragraph: int | None = None
    item: str | None = None
    supplementary: bool = False


def _shift_item(item: str, shift: int) -> str | None:
    base = int(item.split(":")[0].split("_")[0])
    return str(base + shift) if base + shift >= 1 else None


class CitationParser:
    """Finds citations; knows statute titles and abbreviations so it can tell where a name begins."""

    def __init__(self, titles: Iterable[str] = (), aliases: dict[str, str] | None = None) -> None:
        self.aliases = load_aliases() if aliases is None else aliases
        names = {*titles, *self.aliases, *self.aliases.values()} - _GENERIC_NAMES
        self._names = sorted(names, key=len, reverse=True)
        known = "|".join(re.escape(n) for n in self._names) or "(?!)"
        self._anchor = re.compile(
            f"(?P<known>{known})|(?P<num>{_LAW_NUM.pattern})|(?P<same>{_SAME_LAW.pattern})"
            f"|(?P<this>{_THIS_LAW.pattern})|(?P<chain>第|附[ 　]?則|前|次|同|本)"
        )

    @classmethod
    def for_laws(cls, laws: Iterable[LawRecord]) -> CitationParser:
        """A parser that knows the titles and abbreviations of the statutes a store holds."""
        names = [name for law in laws for name in (law.title, *law.abbreviations)]
        return cls(titles=names)

    def parse(self, text: str, context: CitationContext | None = None) -> list[Citation]:
        """Every citation in ``text`` in order, with exact spans."""
        context = context or CitationContext()
        found: list[Citation] = []
        pos = 0
        while (m := self._anchor.search(text, pos)) is not None:
            floor = found[-1].span[1] if found else 0
            try:
                made = self._citations_at(text, m, found, context, floor)
            except ValueError:  # a malformed number (第十十条, 第〇十条) is no citation: never guess its value
                made = []
            if made:
                found.extend(made)
                pos = made[-1].span[1]
            else:
                pos = m.start() + 1
        return found

    def _citations_at(
        self, text: str, m: re.Match[str], found: list[Citation], context: CitationContext, floor: int
    ) -> list[Citation]:
        start = m.start()
        law: str | None
        kind = m.lastgroup
        if kind == "known":
            law, after = m.group("known"), m.end()
            if after < len(text) and _NAME_CHAR.match(text, after):
                return []  # part of a longer name: 地方税法施行令
            if paren := _PAREN_LAW_NUM.match(text, after):
                after = paren.end()
        elif kind == "num":
            num_match = _LAW_NUM.match(text, start)
            assert num_match is not None
            law, after = normalize_law_num(num_match), m.end()
            if text[start - 1 : start] == "（" and text[after : after + 1] == "）":
                # 某法（平成十五年法律第五十七号）第二条: the number identifies the law; the name leads.
                chain = _match_chain(text, after + 1)
                if chain is None:
                    return []
                name = self._name_before(text, floor, start - 1)
                begin = start - 1 - len(name) if name else start
                return self._expand(text, begin, chain, _Position(law), found, context)
        elif kind in ("same", "this"):
            after = m.end()
            law = (self._previous_law(found) if kind == "same" else None) or context.law
            chain = _match_chain(text, after)
            if chain is None:
                return []
            reason = None if law else f"「{m.group()}」がどの法令を指すか分かりません"
            return self._expand(text, start, chain, _Position(law), found, context, reason)
        else:
            chain = _match_chain(text, start)
            if chain is None:
                return []
            if chain.top > 0 and chain.end < len(text) and _NAME_CHAR.match(text, chain.end):
                return []  # a term, not a citation: 第一号被保険者
            if chain.top == 0 and not chain.article_rel:
                guessed = self._name_before(text, floor, start)
                if guessed is not None:
                    return self._expand(text, start - len(guessed), chain, _Position(guessed), found, context)
            return self._expand(text, start, chain, None, found, context)
        chain = _match_chain(text, after)
        if chain is None:
            if not _LAW_LIKE.search(law) and kind == "known":
                return []  # 消費税 alone is the tax, not the statute
            return [Citation(text[start:after], (start, after), law=law)]
        return self._expand(text, start, chain, _Position(law), found, context)

    def _name_before(self, text: str, floor: int, end: int) -> str | None:
        """The statute name that ends right before a provision: a known name, else a guess."""
        window = text[max(floor, end - 80) : end]
        for name in self._names:
            if window.endswith(name) and _LAW_LIKE.search(name):
                return name
        guess = _guess_name(window)
        return None if guess is None or guess in _GENERIC_NAMES else guess

    @staticmethod
    def _previous_law(found: list[Citation]) -> str | None:
        return next((c.law for c in reversed(found) if c.law), None)

    def _expand(
        self,
        text: str,
        start: int,
        chain: _Chain,
        law_position: _Position | None,
        found: list[Citation],
        context: CitationContext,
        reason: str | None = None,
    ) -> list[Citation]:
        """The citation of ``chain`` and of any list members joined to it (及び, 、, から…まで)."""
        first = _absolute(chain, law_position, found, context)
        if reason:
            first = replace(first, ambiguous=reason)
        out = [replace(first, text=text[start : chain.end], span=(start, chain.end))]
        while (join := _LIST_JOIN.match(text, out[-1].span[1])) and (nxt := _match_chain(text, join.end())):
            member = _inherit(nxt, out[-1])
            out.append(replace(member, text=text[nxt.start : nxt.end], span=(nxt.start, nxt.end)))
        return out


def _inherit(chain: _Chain, head: Citation) -> Citation:
    """A list member takes the levels above its first one from the head of the list."""
    if chain.article_rel or chain.paragraph_rel or chain.item_rel:
        position = _Position(head.law, head.article, head.article_shift, head.paragraph, head.item)
        return _apply(chain, position, head.ambiguous)
    top = chain.top
    return Citation(
        text="",
        span=(0, 0),
        law=head.law,
        article=chain.article if top == 0 else head.article,
        article_shift=0 if top == 0 else head.article_shift,
        paragraph=chain.paragraph[0] if chain.paragraph else (head.paragraph if top > 1 else None),
        paragraph_to=chain.paragraph[1] if chain.paragraph else (head.paragraph_to if top > 1 else None),
        item=chain.item if chain.item else (head.item if top > 2 else None),
        subitems=chain.subitems,
        supplementary=chain.supplementary or head.supplementary,  # 附則第二条及び第三条
        ambiguous=head.ambiguous,
    )


def _previous_position(found: list[Citation]) -> _Position | None:
    if not found:
        return None
    c = found[-1]
    return _Position(c.law, c.article, c.article_shift, c.paragraph, c.item, c.supplementary)


def _context_position(context: CitationContext) -> _Position | None:
    if context.law is None and context.article is None:
        return None
    return _Position(context.law, context.article, 0, context.paragraph)


def _absolute(
    chain: _Chain, law_position: _Position | None, found: list[Citation], context: CitationContext
) -> Citation:
    """Fill in what the chain leaves out, from the named law, the context or the previous citation."""
    if law_position is not None:
        if chain.top == 0 and not chain.article_rel:
            return _apply(chain, law_position, None)
        # 民法前条 is not Japanese; 同法同条 is read against the previous citation in that law.
        previous = _previous_position(found)
        base = previous if previous and previous.law == law_position.law else law_position
        return _apply(chain, base, None)
    previous, here = _previous_position(found), _context_position(context)
    same = chain.article_rel == "同" or chain.paragraph_rel == "同" or chain.item_rel == "同"
    if chain.top == 0 and not chain.article_rel:
        # 第七条 with no law: the context's law, else we cannot know which statute is meant.
        if context.law:
            return _apply(chain, _Position(context.law), None)
        return _apply(chain, _Position(None), "法令名がなく、どの法令の条文か分かりません")
    # Relative levels or a chain that starts below the article (第二項): 同 looks back at the previous
    # citation; 前, 次, 本 and bare numbers are measured from where the text stands (the context).
    for candidate in [previous, here] if same else [here, previous]:
        if candidate is not None and (candidate.article is not None or candidate.supplementary):
            return _apply(chain, candidate, None)
    return _apply(chain, _Position(None), "前の引用も文脈もなく、どの条文を指すか分かりません")


def _apply(chain: _Chain, base: _Position, reason: str | None) -> Citation:
    """The citation that ``chain`` names when read from ``base``."""
    law, article, shift = base.law, base.article, base.article_shift
    paragraph, paragraph_to = base.paragraph, None
    item = base.item
    supplementary = base.supplementary
    if chain.top == 0:
        supplementary = chain.supplementary
        paragraph, item = None, None
        if chain.article is not None:
            article, shift = chain.article, 0
        elif chain.article_rel in ("前", "次"):
            shift += -1 if chain.article_rel == "前" else 1
        elif chain.supplementary:
            article, shift = None, 0  # 附則第二項: a 附則 of bare paragraphs
    if chain.paragraph is not None:
        paragraph, paragraph_to = chain.paragraph
        item = None
    elif chain.paragraph_rel is not None:
        item = None
        paragraph, paragraph_to, why = _relative_paragraph(chain.paragraph_rel, paragraph)
        reason = reason or why
    elif chain.top == 0:
        paragraph = None
    if chain.item is not None:
        item = chain.item
    elif chain.item_rel is not None:
        if item is None:
            reason = reason or "基準となる号が分からず、前号・次号・同号を特定できません"
        elif chain.item_rel == "各":
            item = f"1:{_shift_item(item, -1)}" if _shift_item(item, -1) else None
        elif chain.item_rel in ("前", "次"):
            item = _shift_item(item, -1 if chain.item_rel == "前" else 1)
    elif chain.top <= 1:
        item = None
    return Citation(
        text="",
        span=(0, 0),
        law=law,
        article=article,
        article_shift=shift,
        paragraph=paragraph,
        paragraph_to=paragraph_to,
        item=item,
        subitems=chain.subitems,
        supplementary=supplementary,
        ambiguous=reason,
    )


def _relative_paragraph(word: str, base: int | None) -> tuple[int | None, int | None, str | None]:
    """前項, 次項, 同項, 本項, 前各項 and 前二項 read from paragraph ``base``."""
    if base is None:
        if word in ("同", "本"):
            return None, None, None  # the whole article stands for itself
        return None, None, "基準となる項が分からず、前項・次項を特定できません"
    if word in ("同", "本"):
        return base, None, None
    if word == "次":
        return base + 1, None, None
    if word == "前":
        return (base - 1, None, None) if base > 1 else (None, None, "第一項に前項はありません")
    count = base - 1 if word == "各" else parse_number(word)
    if count < 1 or base - count < 1:
        return None, None, "前の項が足りません"
    return base - count, base - 1, None


@cache
def default_parser() -> CitationParser:
    """A parser that knows the shipped abbreviations and their titles."""
    return CitationParser()


def parse_citations(text: str, context: CitationContext | None = None) -> list[Citation]:
    """Every citation in ``text``, using the shipped abbreviations; see ``CitationParser`` for more titles."""
    return default_parser().parse(text, context)
