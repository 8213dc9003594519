"""Parse e-Gov standard law XML (法令標準XML) into the statute model.

Two wrappers occur and both are accepted: a bare ``<Law>`` root (bulk download, ``law_file``) and
the 法令API v2 ``<law_data_response>`` whose ``law_info``/``revision_info`` carry the law id,
revision and 施行日. For a bare file those come from its name, ``{lawId}_{YYYYMMDD}_{amendId}.xml``.
Input is untrusted: defusedxml refuses DTDs and entities (billion laughs, external entities) and a
size cap stops huge files before they are read into a tree. Unknown tags are tolerated: their text
is kept in the nearest paragraph so nothing said in a statute is silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from gennai.apps.legal.aliases import alias_index
from gennai.apps.legal.model import (
    DELETED_TEXT,
    Article,
    Heading,
    HeadingKind,
    Item,
    Law,
    Paragraph,
    Subitem,
    SupplProvision,
    Table,
)

MAX_LAW_XML_BYTES = 64 * 1024 * 1024  # the largest real statute (租税特別措置法) is about 15 MB

ERA_START_YEAR = {"Meiji": 1868, "Taisho": 1912, "Showa": 1926, "Heisei": 1989, "Reiwa": 2019}
ERA_DIGIT = {"Meiji": "1", "Taisho": "2", "Showa": "3", "Heisei": "4", "Reiwa": "5"}
LAW_TYPE_CODE = {"Act": "AC", "CabinetOrder": "CO", "ImperialOrdinance": "IO"}
HEADING_TAGS: tuple[HeadingKind, ...] = ("Part", "Chapter", "Section", "Subsection", "Division")
LOSSY_MARKER = b"lossy"

_FILE_NAME = re.compile(r"(?P<law>[0-9]{3}[A-Z0-9]+?)(?:_(?P<day>[0-9]{8})_(?P<amend>[0-9A-Z]{15}))?(?:\.xml)?$")
_ABBREV_SPLIT = re.compile(r"[,、，]")


class LawParseError(ValueError):
    """The input is not a statute we can read; the message says why, for an ingest report."""


@dataclass(frozen=True)
class FileNameInfo:
    """What an e-Gov file name tells: ``405AC0000000088_20240401_504AC0100000052.xml``."""

    law_id: str
    in_force_from: date | None
    amend_law_id: str | None

    @property
    def revision_id(self) -> str | None:
        if self.in_force_from is None:
            return None
        return f"{self.law_id}_{self.in_force_from:%Y%m%d}_{self.amend_law_id or '0' * 15}"


def parse_file_name(name: str) -> FileNameInfo | None:
    """Law id, 施行日 and amending law from an e-Gov file or revision id; None when it is not one."""
    stem = name.rsplit("/", 1)[-1]
    match = _FILE_NAME.fullmatch(stem)
    if match is None:
        return None
    day = _yyyymmdd(match["day"]) if match["day"] else None
    amend = match["amend"] if match["amend"] and set(match["amend"]) != {"0"} else None
    return FileNameInfo(match["law"], day, amend)


def parse_law_xml(data: bytes, *, file_name: str | None = None, lossy: bool = False) -> Law:
    """A ``Law`` from the bytes of a bare ``<Law>`` file or a ``<law_data_response>``.

    ``lossy`` marks article-level data (bulk-articles.zip) whose paragraph numbering is unreliable;
    files that say so in their leading comment are marked without being told.
    """
    if len(data) > MAX_LAW_XML_BYTES:
        raise LawParseError(f"file too large: {len(data)} bytes (limit {MAX_LAW_XML_BYTES})")
    try:
        root = safe_xml.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise LawParseError(f"refused unsafe XML: {type(error).__name__}") from None
    except ParseError as error:
        raise LawParseError(f"malformed XML: {error}") from None
    lossy = lossy or LOSSY_MARKER in data[:400]
    if root.tag == "Law":
        return _law(root, info={}, file_name=file_name, lossy=lossy)
    if root.tag == "law_data_response":
        law_element = root.find("law_full_text/Law")
        if law_element is None:
            raise LawParseError("law_data_response without law_full_text/Law")
        info = {child.tag: (child.text or "").strip() for child in root.findall("law_info/*")}
        info |= {child.tag: (child.text or "").strip() for child in root.findall("revision_info/*")}
        return _law(law_element, info=info, file_name=file_name, lossy=lossy)
    raise LawParseError(f"not e-Gov law XML: root element <{root.tag}>")


def _law(element: Element, *, info: Mapping[str, str], file_name: str | None, lossy: bool) -> Law:
    body = element.find("LawBody")
    title_element = body.find("LawTitle") if body is not None else None
    if body is None or title_element is None:
        raise LawParseError("<Law> without LawBody/LawTitle")
    title = _text(title_element).strip() or info.get("law_title", "")
    law_num = _text(element.find("LawNum")).strip() or info.get("law_num", "")
    era = element.get("Era") or info.get("law_num_era", "")
    year = _int(element.get("Year") or info.get("law_num_year"))
    number = _int(element.get("Num") or info.get("law_num_num"))
    law_type = element.get("LawType") or info.get("law_type", "")
    named = parse_file_name(file_name) if file_name else None
    law_id = info.get("law_id") or (named.law_id if named else None) or _law_id(era, year, law_type, number)
    if not title or not law_id:
        raise LawParseError("statute without a title or a law id")

    revision_id = info.get("law_revision_id") or (named.revision_id if named else None)
    in_force = _iso_date(info.get("amendment_enforcement_date")) or (named.in_force_from if named else None)
    if in_force is None and revision_id:
        from_id = parse_file_name(revision_id)
        in_force = from_id.in_force_from if from_id else None
    amend_law_id = info.get("amendment_law_id") or (named.amend_law_id if named else None)

    abbreviations = [title_element.get("Abbrev", ""), info.get("abbrev", "")]
    law = Law(
        law_id=law_id,
        law_num=law_num,
        title=title,
        law_type=law_type,
        era=era,
        year=year,
        number=number,
        promulgated=_iso_date(info.get("promulgation_date")) or _promulgated(element, era, year),
        abbreviations=_abbreviations(title, abbreviations),
        title_kana=title_element.get("Kana", "") or info.get("law_title_kana", ""),
        revision_id=revision_id or None,
        in_force_from=in_force,
        amend_law_id=amend_law_id or None,
        lossy=lossy,
    )
    main = body.find("MainProvision")
    if main is not None:
        _walk_outline(main, (), law, lossy)
    for suppl in body.findall("SupplProvision"):
        law.suppl_provisions.append(_suppl(suppl, lossy))
    for appendix in body.iter("AppdxTable"):
        law.appendix_tables.extend(_tables(appendix))
    return law


def _walk_outline(element: Element, path: tuple[Heading, ...], law: Law, lossy: bool) -> None:
    """Collect articles in document order with the chain of 編/章/節/款/目 above each."""
    for child in element:
        if child.tag in HEADING_TAGS:
            kind: HeadingKind = child.tag  # type: ignore[assignment]
            heading = Heading(
                kind=kind,
                num=child.get("Num", ""),
                title=_text(child.find(f"{child.tag}Title")).strip(),
                deleted=child.get("Delete") == "true",
            )
            law.headings.append(heading)
            _walk_outline(child, (*path, heading), law, lossy)
        elif child.tag == "Article":
            law.articles.append(_article(child, path, lossy))
        elif child.tag == "Paragraph":
            law.paragraphs.append(_paragraph(child, lossy))
        elif len(child):
            _walk_outline(child, path, law, lossy)  # an unknown wrapper: look inside it


def _suppl(element: Element, lossy: bool) -> SupplProvision:
    suppl = SupplProvision(
        label=_text(element.find("SupplProvisionLabel")).strip() or "附則",
        amend_law_num=element.get("AmendLawNum") or None,
        extract=element.get("Extract") == "true",
    )
    holder = Law(law_id="", law_num="", title="", law_type="")
    _walk_outline(element, (), holder, lossy)
    suppl.articles = holder.articles
    suppl.paragraphs = holder.paragraphs
    return suppl


def _article(element: Element, path: tuple[Heading, ...], lossy: bool) -> Article:
    article = Article(
        num=element.get("Num", ""),
        title=_text(element.find("ArticleTitle")).strip(),
        caption=_text(element.find("ArticleCaption")).strip(),
        paragraphs=[_paragraph(p, lossy) for p in element.findall("Paragraph")],
        path=path,
    )
    article.deleted = element.get("Delete") == "true" or article.text.strip() == DELETED_TEXT
    return article


_PARAGRAPH_PARTS = {"ParagraphNum", "ParagraphCaption", "ParagraphSentence", "Item", "TableStruct"}


def _paragraph(element: Element, lossy: bool) -> Paragraph:
    sentence = element.find("ParagraphSentence")
    text = _sentences(sentence, "\n" if lossy else "") if sentence is not None else ""
    extra = [_text(child).strip() for child in element if child.tag not in _PARAGRAPH_PARTS]
    return Paragraph(
        num=_int(element.get("Num")) or 1,
        label=_text(element.find("ParagraphNum")).strip(),
        text="\n".join([text, *filter(None, extra)]) if any(extra) else text,
        caption=_text(element.find("ParagraphCaption")).strip(),
        items=[_item(i) for i in element.findall("Item")],
        tables=_tables(element),
    )


def _item(element: Element) -> Item:
    item = Item(
        num=element.get("Num", ""),
        title=_text(element.find("ItemTitle")).strip(),
        text=_sentences(element.find("ItemSentence"), ""),
        subitems=[_subitem(s, 1) for s in element.findall("Subitem1")],
        tables=_tables(element),
    )
    item.deleted = element.get("Delete") == "true" or item.text.strip() == DELETED_TEXT
    return item


def _subitem(element: Element, level: int) -> Subitem:
    subitem = Subitem(
        level=level,
        num=element.get("Num", ""),
        title=_text(element.find(f"Subitem{level}Title")).strip(),
        text=_sentences(element.find(f"Subitem{level}Sentence"), ""),
        children=[_subitem(s, level + 1) for s in element.findall(f"Subitem{level + 1}")],
    )
    subitem.deleted = element.get("Delete") == "true" or subitem.text.strip() == DELETED_TEXT
    return subitem


def _tables(element: Element) -> list[Table]:
    """Tables directly under ``element`` (through their TableStruct), each as rows of cell text."""
    tables = []
    for table in element.findall("TableStruct/Table"):
        rows = [[_text(col).strip() for col in row.findall("TableColumn")] for row in table.findall("TableRow")]
        tables.append(Table(rows=rows))
    return tables


def _sentences(element: Element | None, joiner: str) -> str:
    """Sentence text, with columns (e.g. a 号 of 用語／定義) separated by a full-width space."""
    if element is None:
        return ""
    columns = element.findall("Column")
    if columns:
        return "　".join(_sentences(column, "") for column in columns)
    sentences = element.findall("Sentence")
    if not sentences:
        return _text(element).strip()
    return joiner.join(_text(s).strip() for s in sentences)


def _text(element: Element | None) -> str:
    """All text under ``element``, leaving out ruby readings (<Rt>) which are not part of the text."""
    if element is None:
        return ""
    parts = [element.text or ""]
    for child in element:
        if child.tag != "Rt":
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _abbreviations(title: str, declared: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for value in declared:
        found.extend(a.strip() for a in _ABBREV_SPLIT.split(value))
    found.extend(alias_index().get(title, ()))
    return tuple(dict.fromkeys(a for a in found if a and a != title))


def _law_id(era: str, year: int | None, law_type: str, number: int | None) -> str | None:
    """The e-Gov law id built from the law number, for the types whose id follows that rule."""
    if era not in ERA_DIGIT or year is None:
        return None
    if law_type == "Constitution":
        return f"{ERA_DIGIT[era]}{year:02d}CONSTITUTION"
    code = LAW_TYPE_CODE.get(law_type)
    if code is None or number is None:
        return None
    return f"{ERA_DIGIT[era]}{year:02d}{code}{number:010d}"


def _promulgated(element: Element, era: str, year: int | None) -> date | None:
    month, day = _int(element.get("PromulgateMonth")), _int(element.get("PromulgateDay"))
    if era not in ERA_START_YEAR or year is None or month is None or day is None:
        return None
    try:
        return date(ERA_START_YEAR[era] + year - 1, month, day)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _yyyymmdd(value: str) -> date | None:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None
