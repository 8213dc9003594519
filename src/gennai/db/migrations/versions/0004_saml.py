"""SAML sign-in: outstanding AuthnRequests (InResponseTo) and assertions already used (replay)."""

import sqlalchemy as sa
from alembic import op

revision = "0004_saml"
down_revision = "0003_identity"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "saml_requests",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("next_path", sa.Text(), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_saml_requests_expires_at", "saml_requests", ["expires_at"])
    op.create_table(
        "saml_assertions",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_saml_assertions_expires_at", "saml_assertions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("saml_assertions")
    op.drop_table("saml_requests")
