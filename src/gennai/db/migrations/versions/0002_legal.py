"""Statute store: laws, their revisions, and their articles with structure and analysed terms."""

import sqlalchemy as sa
from alembic import op

revision = "0002_legal"
down_revision = "0001_core"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "legal_laws",
        sa.Column("law_id", sa.String(40), primary_key=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("law_num", sa.String(200), nullable=False),
        sa.Column("law_type", sa.String(40), nullable=False),
        sa.Column("era", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer()),
        sa.Column("number", sa.Integer()),
        sa.Column("promulgated", sa.Date()),
        sa.Column("abbreviations", sa.Text(), nullable=False),
        sa.Column("title_kana", sa.Text(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("law_id", name="pk_legal_laws"),
    )
    op.create_table(
        "legal_revisions",
        sa.Column("id", BIGINT_PK, autoincrement=True),
        sa.Column(
            "law_id",
            sa.String(40),
            sa.ForeignKey("legal_laws.law_id", ondelete="CASCADE", name="fk_legal_revisions_law_id_legal_laws"),
            nullable=False,
        ),
        sa.Column("revision_key", sa.String(80), nullable=False),
        sa.Column("revision_id", sa.String(80)),
        sa.Column("in_force_from", sa.Date()),
        sa.Column("amend_law_id", sa.String(40)),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("law_num", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("lossy", sa.Boolean(), nullable=False),
        sa.Column("outline", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_legal_revisions"),
        sa.UniqueConstraint("revision_key", name="uq_legal_revisions_revision_key"),
    )
    op.create_index("ix_legal_revisions_law_id", "legal_revisions", ["law_id"])
    op.create_table(
        "legal_provisions",
        sa.Column("id", BIGINT_PK, autoincrement=True),
        sa.Column(
            "revision_pk",
            BIGINT_PK,
            sa.ForeignKey(
                "legal_revisions.id", ondelete="CASCADE", name="fk_legal_provisions_revision_pk_legal_revisions"
            ),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(10), nullable=False),
        sa.Column("suppl_index", sa.Integer()),
        sa.Column("suppl_amend_law_num", sa.Text()),
        sa.Column("article_num", sa.String(40), nullable=False),
        sa.Column("article_title", sa.Text(), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_legal_provisions"),
    )
    op.create_index("ix_legal_provisions_lookup", "legal_provisions", ["revision_pk", "part", "article_num"])


def downgrade() -> None:
    op.drop_table("legal_provisions")
    op.drop_table("legal_revisions")
    op.drop_table("legal_laws")
