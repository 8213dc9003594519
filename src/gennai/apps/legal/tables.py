"""Tables of the statute store: a law, its revisions (history kept), and one row per article.

An article row holds the article's structure as JSON (paragraphs, items, sub-items) and its plain
text, so a provision at any depth is one indexed read, and an ingest is a few bulk inserts rather
than one row per item. ``terms`` holds the analysed tokens the search index is rebuilt from
without re-running the analyser. ``legal_vectors`` holds an embedding per article and embedding
model, derived from the article rows and removed with them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column

from gennai.db.base import Base, CreatedAt

BIGINT_PK = BigInteger().with_variant(Integer(), "sqlite")


class LawRow(Base):
    """A statute; its descriptive fields follow its newest ingested revision."""

    __tablename__ = "legal_laws"

    law_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    law_num: Mapped[str] = mapped_column(String(200))
    law_type: Mapped[str] = mapped_column(String(40))
    era: Mapped[str] = mapped_column(String(20))
    year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    promulgated: Mapped[date | None] = mapped_column(Date)
    abbreviations: Mapped[str] = mapped_column(Text, default="")  # one per line
    title_kana: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]


class RevisionRow(CreatedAt, Base):
    """One version of a statute, in force from ``in_force_from`` (None: since before our records)."""

    __tablename__ = "legal_revisions"
    __table_args__ = (UniqueConstraint("revision_key", name="uq_legal_revisions_revision_key"),)

    id: Mapped[int] = mapped_column(BIGINT_PK, primary_key=True, autoincrement=True)
    law_id: Mapped[str] = mapped_column(ForeignKey("legal_laws.law_id", ondelete="CASCADE"), index=True)
    revision_key: Mapped[str] = mapped_column(String(80))  # e-Gov revision id, else law id + content hash
    revision_id: Mapped[str | None] = mapped_column(String(80))
    in_force_from: Mapped[date | None] = mapped_column(Date)
    amend_law_id: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    law_num: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    lossy: Mapped[bool] = mapped_column(Boolean, default=False)
    outline: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of headings


class ProvisionRow(Base):
    """An article (or a block of bare 項) of one revision, in document order."""

    __tablename__ = "legal_provisions"
    __table_args__ = (Index("ix_legal_provisions_lookup", "revision_pk", "part", "article_num"),)

    id: Mapped[int] = mapped_column(BIGINT_PK, primary_key=True, autoincrement=True)
    revision_pk: Mapped[int] = mapped_column(ForeignKey("legal_revisions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # document order within the revision
    part: Mapped[str] = mapped_column(String(10))  # "main" or "suppl"
    suppl_index: Mapped[int | None] = mapped_column(Integer)  # which 附則 block, in document order
    suppl_amend_law_num: Mapped[str | None] = mapped_column(Text)  # None: the original 附則
    article_num: Mapped[str] = mapped_column(String(40))  # e-Gov Num; "" for bare 項
    article_title: Mapped[str] = mapped_column(Text, default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(Text, default="[]")  # JSON headings above the article
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)  # JSON list of paragraphs
    terms: Mapped[str] = mapped_column(Text, default="")  # analysed tokens, space separated


class VectorRow(Base):
    """An article's embedding by one model: float32 little-endian bytes, so any backend stores it as a blob."""

    __tablename__ = "legal_vectors"

    provision_id: Mapped[int] = mapped_column(
        BIGINT_PK, ForeignKey("legal_provisions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)  # the configured embedding model's name
    dimensions: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


def indexed_article() -> ColumnElement[bool]:
    """The provisions search indexes: main-part articles that are not deleted (附則 and bare 項 are not)."""
    return and_(ProvisionRow.part == "main", ProvisionRow.article_num != "", ProvisionRow.deleted.is_(False))
