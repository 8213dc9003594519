"""Statute store: one embedding per article and embedding model, removed with its article."""

import sqlalchemy as sa
from alembic import op

revision = "0005_legal_vectors"
down_revision = "0004_saml"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "legal_vectors",
        sa.Column(
            "provision_id",
            BIGINT_PK,
            sa.ForeignKey(
                "legal_provisions.id", ondelete="CASCADE", name="fk_legal_vectors_provision_id_legal_provisions"
            ),
            nullable=False,
        ),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("provision_id", "model", name="pk_legal_vectors"),
    )


def downgrade() -> None:
    op.drop_table("legal_vectors")
