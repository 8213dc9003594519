"""The statute store: laws, their revisions and articles in the gennai database.

It is the source of truth for everything legal (the search index is derived from it) and it answers
``ProvisionSource`` questions for citation resolution and verification. Every revision is kept, so
the text in force on any date can be read back; a revision applies from its 施行日 until the next
one's. Article-level (lossy) data has no reliable paragraph numbers: a paragraph or item asked of it
is answered with the whole article, the finest text we can vouch for.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gennai.apps.legal.model import (
    Article,
    Heading,
    Item,
    Law,
    Paragraph,
    Subitem,
    Table,
    item_text,
    num_covers,
    paragraph_text,
    subitem_text,
)
from gennai.apps.legal.numerals import item_label, paragraph_label
from gennai.apps.legal.provisions import LawRecord, ProvisionRef, ProvisionText
from gennai.apps.legal.tables import LawRow, ProvisionRow, RevisionRow
from gennai.db.base import utcnow
from gennai.db.engine import transaction
from gennai.search.analysis import analyze

SaveOutcome = Literal["added", "updated", "unchanged"]
Part = Literal["main", "suppl"]


@dataclass(frozen=True)
class StoredArticle:
    """An article row read back, with what the article view and the search index need."""

    provision_id: int
    law_id: str
    revision_pk: int
    part: str
    seq: int
    article: Article
    suppl_amend_law_num: str | None
    lossy: bool


def revision_key(law: Law, content_hash: str) -> str:
    """The e-Gov revision id when known; otherwise the content decides what counts as the same revision."""
    return law.revision_id or f"{law.law_id}_h{content_hash[:24]}"


def search_text(article: Article) -> str:
    """What the index analyses for an article: its caption, then its text."""
    return f"{article.caption}\n{article.text}" if article.caption else article.text


class LawStore:
    """Reads and writes statutes; implements ``gennai.apps.legal.provisions.ProvisionSource``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def save_law(self, law: Law, content_hash: str, terms: Sequence[str] | None = None) -> SaveOutcome:
        """Store one revision of ``law`` in one transaction: all of it or, on any error, none of it.

        ``terms`` (analysed main-provision articles, aligned with ``law.articles``) may be computed
        by the caller in another process; it is computed here when absent.
        """
        if terms is None:
            terms = [" ".join(analyze(search_text(a))) for a in law.articles]
        key = revision_key(law, content_hash)
        async with transaction(self.sessions) as session:
            existing = await session.scalar(select(RevisionRow).where(RevisionRow.revision_key == key))
            if existing is not None and existing.content_hash == content_hash:
                return "unchanged"
            law_row = await session.get(LawRow, law.law_id)
            outcome: SaveOutcome = "added" if law_row is None else "updated"
            if existing is not None:
                await session.execute(delete(ProvisionRow).where(ProvisionRow.revision_pk == existing.id))
                await session.delete(existing)
                await session.flush()
            if law_row is None or await _is_newest(session, law):
                _upsert_law(session, law_row, law)
            await session.flush()
            revision = RevisionRow(
                law_id=law.law_id,
                revision_key=key,
                revision_id=law.revision_id,
                in_force_from=law.in_force_from,
                amend_law_id=law.amend_law_id,
                title=law.title,
                law_num=law.law_num,
                content_hash=content_hash,
                lossy=law.lossy,
                outline=json.dumps([asdict(h) for h in law.headings], ensure_ascii=False),
            )
            session.add(revision)
            await session.flush()
            rows = _provision_rows(law, revision.id, terms)
            if rows:
                await session.execute(insert(ProvisionRow), rows)
        return outcome

    async def count_laws(self) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(LawRow)) or 0)

    async def list_laws(self) -> list[LawRecord]:
        """Every stored law as of its newest revision, by law id."""
        async with self.sessions() as session:
            rows = (await session.scalars(select(LawRow).order_by(LawRow.law_id))).all()
            revisions = (await session.scalars(select(RevisionRow))).all()
        newest = _newest_by_law(revisions)
        return [_law_record(row, newest.get(row.law_id)) for row in rows]

    async def find_laws(self, name: str) -> list[LawRecord]:
        """Laws whose title, an abbreviation or law number is exactly ``name``."""
        name = name.strip()
        if not name:
            return []
        async with self.sessions() as session:
            candidates = (
                await session.scalars(
                    select(LawRow).where(
                        or_(
                            LawRow.title == name,
                            LawRow.law_num == name,
                            LawRow.abbreviations.contains(name),
                        )
                    )
                )
            ).all()
        matches = [r for r in candidates if name in (r.title, r.law_num) or name in r.abbreviations.split("\n")]
        return [record for r in matches if (record := await self.get_law(r.law_id)) is not None]

    async def get_law(self, law_id: str, as_of: date | None = None) -> LawRecord | None:
        async with self.sessions() as session:
            row = await session.get(LawRow, law_id)
            if row is None:
                return None
            revision, _ = await _revision_at(session, law_id, as_of)
        if revision is None:
            return None
        return _law_record(row, revision)

    async def get_provision(self, ref: ProvisionRef, as_of: date | None = None) -> ProvisionText | None:
        """The provision ``ref`` names, in the revision in force at ``as_of`` (newest when None)."""
        async with self.sessions() as session:
            revision, until = await _revision_at(session, ref.law_id, as_of)
            if revision is None:
                return None
            if ref.article is None and ref.paragraph is None and not ref.supplementary:
                return await _whole_law(session, revision, until)
            stored = await _find_article(session, revision, ref)
        if stored is None:
            return None
        return _narrow(stored, ref, revision, until)

    async def get_article(self, law_id: str, article_num: str, as_of: date | None = None) -> StoredArticle | None:
        """A main-provision article with its structure, for the article view."""
        async with self.sessions() as session:
            revision, _ = await _revision_at(session, law_id, as_of)
            if revision is None:
                return None
            return await _find_article(session, revision, ProvisionRef(law_id=law_id, article=article_num))

    async def neighbours(self, stored: StoredArticle) -> tuple[StoredArticle | None, StoredArticle | None]:
        """The articles just before and after ``stored`` in the same part of the same revision."""
        async with self.sessions() as session:
            base = select(ProvisionRow).where(
                ProvisionRow.revision_pk == stored.revision_pk, ProvisionRow.part == stored.part
            )
            before = await session.scalar(
                base.where(ProvisionRow.seq < stored.seq).order_by(ProvisionRow.seq.desc()).limit(1)
            )
            after = await session.scalar(base.where(ProvisionRow.seq > stored.seq).order_by(ProvisionRow.seq).limit(1))
        return (
            _stored(before, stored.law_id, stored.lossy) if before else None,
            _stored(after, stored.law_id, stored.lossy) if after else None,
        )


async def _is_newest(session: AsyncSession, law: Law) -> bool:
    """Whether ``law`` takes effect no earlier than every stored revision: only the newest names the law
    (its title, abbreviations and type), so ingesting an old revision after a new one changes nothing there.
    """
    latest = await session.scalar(select(func.max(RevisionRow.in_force_from)).where(RevisionRow.law_id == law.law_id))
    return latest is None or (law.in_force_from or date.min) >= latest


def _upsert_law(session: AsyncSession, row: LawRow | None, law: Law) -> None:
    values: dict[str, Any] = {
        "title": law.title,
        "law_num": law.law_num,
        "law_type": law.law_type,
        "era": law.era,
        "year": law.year,
        "number": law.number,
        "promulgated": law.promulgated,
        "abbreviations": "\n".join(law.abbreviations),
        "title_kana": law.title_kana,
        "updated_at": utcnow(),
    }
    if row is None:
        session.add(LawRow(law_id=law.law_id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)


def _provision_rows(law: Law, revision_pk: int, terms: Sequence[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(part: Part, article: Article, suppl: int | None, amend: str | None, article_terms: str) -> None:
        rows.append(
            {
                "revision_pk": revision_pk,
                "seq": len(rows),
                "part": part,
                "suppl_index": suppl,
                "suppl_amend_law_num": amend,
                "article_num": article.num,
                "article_title": article.title,
                "caption": article.caption,
                "path": json.dumps([asdict(h) for h in article.path], ensure_ascii=False),
                "deleted": article.deleted,
                "text": article.text,
                "body": json.dumps([asdict(p) for p in article.paragraphs], ensure_ascii=False),
                "terms": article_terms,
            }
        )

    if law.paragraphs:
        add("main", Article(num="", title="", paragraphs=law.paragraphs), None, None, "")
    for article, article_terms in zip(law.articles, terms, strict=True):
        add("main", article, None, None, article_terms)
    for index, suppl in enumerate(law.suppl_provisions):
        if suppl.paragraphs:
            add(
                "suppl", Article(num="", title=suppl.label, paragraphs=suppl.paragraphs), index, suppl.amend_law_num, ""
            )
        for article in suppl.articles:
            add("suppl", article, index, suppl.amend_law_num, "")
    return rows


def _newest_by_law(revisions: Sequence[RevisionRow]) -> dict[str, RevisionRow]:
    newest: dict[str, RevisionRow] = {}
    for revision in sorted(revisions, key=_revision_order):
        newest[revision.law_id] = revision
    return newest


def _revision_order(revision: RevisionRow) -> tuple[date, int]:
    return (revision.in_force_from or date.min, revision.id)


async def _revision_at(
    session: AsyncSession, law_id: str, as_of: date | None
) -> tuple[RevisionRow | None, date | None]:
    """The revision in force at ``as_of`` (newest when None) and the day its successor takes over."""
    revisions = sorted(
        (await session.scalars(select(RevisionRow).where(RevisionRow.law_id == law_id))).all(),
        key=_revision_order,
    )
    chosen: RevisionRow | None = None
    until: date | None = None
    for revision in revisions:
        if as_of is None or revision.in_force_from is None or revision.in_force_from <= as_of:
            chosen, until = revision, None
        elif chosen is not None and until is None:
            until = revision.in_force_from
    return chosen, until


async def _find_article(session: AsyncSession, revision: RevisionRow, ref: ProvisionRef) -> StoredArticle | None:
    part: Part = "suppl" if ref.supplementary else "main"
    wanted = ref.article or ""
    query = select(ProvisionRow).where(
        ProvisionRow.revision_pk == revision.id,
        ProvisionRow.part == part,
        or_(ProvisionRow.article_num == wanted, ProvisionRow.article_num.contains(":")),
    )
    if part == "suppl":
        # The law's own 附則 (no AmendLawNum) is what 附則第二条 means; lossy data does not mark it.
        query = query.order_by(ProvisionRow.suppl_amend_law_num.is_not(None), ProvisionRow.suppl_index)
    else:
        query = query.order_by(ProvisionRow.seq)
    for row in (await session.scalars(query)).all():
        if num_covers(row.article_num, wanted) or row.article_num == wanted:
            return _stored(row, revision.law_id, revision.lossy)
    return None


async def _whole_law(session: AsyncSession, revision: RevisionRow, until: date | None) -> ProvisionText:
    nums = (
        await session.scalars(
            select(ProvisionRow.article_num)
            .where(ProvisionRow.revision_pk == revision.id, ProvisionRow.part == "main")
            .order_by(ProvisionRow.seq)
        )
    ).all()
    return ProvisionText(
        ref=ProvisionRef(law_id=revision.law_id),
        text=revision.title,
        in_force_from=revision.in_force_from,
        in_force_until=until,
        path_label=revision.title,
        children=tuple(n for n in nums if n),
    )


def _stored(row: ProvisionRow, law_id: str, lossy: bool) -> StoredArticle:
    return StoredArticle(
        provision_id=row.id,
        law_id=law_id,
        revision_pk=row.revision_pk,
        part=row.part,
        seq=row.seq,
        article=Article(
            num=row.article_num,
            title=row.article_title,
            caption=row.caption,
            paragraphs=[paragraph_from_json(p) for p in json.loads(row.body)],
            path=tuple(Heading(**h) for h in json.loads(row.path)),
            deleted=row.deleted,
        ),
        suppl_amend_law_num=row.suppl_amend_law_num,
        lossy=lossy,
    )


def paragraph_from_json(data: dict[str, Any]) -> Paragraph:
    """A paragraph back from the JSON an article row keeps it in."""
    return Paragraph(
        num=data["num"],
        label=data["label"],
        text=data["text"],
        caption=data["caption"],
        items=[_item(i) for i in data["items"]],
        tables=[Table(rows=t["rows"]) for t in data["tables"]],
    )


def _item(data: dict[str, Any]) -> Item:
    return Item(
        num=data["num"],
        title=data["title"],
        text=data["text"],
        deleted=data["deleted"],
        subitems=[_subitem(s) for s in data["subitems"]],
        tables=[Table(rows=t["rows"]) for t in data["tables"]],
    )


def _subitem(data: dict[str, Any]) -> Subitem:
    return Subitem(
        level=data["level"],
        num=data["num"],
        title=data["title"],
        text=data["text"],
        deleted=data["deleted"],
        children=[_subitem(c) for c in data["children"]],
    )


def _narrow(
    stored: StoredArticle, ref: ProvisionRef, revision: RevisionRow, until: date | None
) -> ProvisionText | None:
    """Walk from the article down to the paragraph, item and sub-items ``ref`` asks for."""
    article = stored.article
    labels = [h.title.split("　")[0] for h in article.path]
    if ref.supplementary:
        labels.insert(0, "附則")
    labels.append(article.title)
    text, caption, deleted = article.text, article.caption, article.deleted
    children: tuple[str, ...] = tuple(str(p.num) for p in article.paragraphs)
    if ref.paragraph is not None and not stored.lossy:
        paragraph = next((p for p in article.paragraphs if p.num == ref.paragraph), None)
        if paragraph is None:
            return None
        labels.append(paragraph_label(paragraph.num))
        text, caption = paragraph_text(paragraph), paragraph.caption or caption
        children = tuple(i.num for i in paragraph.items)
        if ref.item is not None:
            item = next((i for i in paragraph.items if i.num == ref.item), None)
            if item is None:
                return None
            labels.append(item_label(item.num))
            text, deleted = item_text(item), deleted or item.deleted
            children = tuple(s.num for s in item.subitems)
            subitems = item.subitems
            for num in ref.subitems:
                subitem = next((s for s in subitems if s.num == num), None)
                if subitem is None:
                    return None
                labels.append(subitem.title)
                text, deleted = subitem_text(subitem), deleted or subitem.deleted
                subitems = subitem.children
                children = tuple(s.num for s in subitems)
    return ProvisionText(
        ref=ref,
        text=text,
        caption=caption,
        deleted=deleted,
        in_force_from=revision.in_force_from,
        in_force_until=until,
        path_label=" ".join(label for label in labels if label),
        children=children,
        # Article-level data cannot confirm a paragraph or item: say so rather than pretend.
        approximate=stored.lossy and (ref.paragraph is not None or ref.item is not None or bool(ref.subitems)),
    )


def _law_record(row: LawRow, revision: RevisionRow | None) -> LawRecord:
    return LawRecord(
        law_id=row.law_id,
        title=revision.title if revision else row.title,
        law_num=revision.law_num if revision else row.law_num,
        law_type=row.law_type,
        abbreviations=tuple(a for a in row.abbreviations.split("\n") if a),
        revision_id=revision.revision_id if revision else None,
        in_force_from=revision.in_force_from if revision else None,
    )
