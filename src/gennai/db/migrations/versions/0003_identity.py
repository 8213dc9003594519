"""Identity and organisation: organisations, teams, memberships, identities, sessions; richer users and keys.

New columns are added without rebuilding ``users`` (a SQLite table rebuild would cascade-delete
conversations), so on SQLite the new foreign keys are declared inline with ADD COLUMN.
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_identity"
down_revision = "0002_legal"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COMMON_TEAM_ID = uuid.UUID("00000000-0000-0000-0000-000000000000")


def _add_reference(table: str, column: str, target: str, ondelete: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} CHAR(32) REFERENCES {target} (id) ON DELETE {ondelete}")
    else:
        op.add_column(table, sa.Column(column, sa.Uuid()))
        op.create_foreign_key(f"fk_{table}_{column}_{target}", table, target, [column], ["id"], ondelete=ondelete)
    op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("code", name="uq_organisations_code"),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("organisation_id", sa.Uuid(), sa.ForeignKey("organisations.id", ondelete="SET NULL")),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("code", name="uq_teams_code"),
    )
    op.create_index("ix_teams_organisation_id", "teams", ["organisation_id"])
    op.create_index("ix_teams_name", "teams", ["name"])
    op.create_table(
        "memberships",
        sa.Column("team_id", sa.Uuid(), sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "user_identities",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_user_identities_user_id", "user_identities", ["user_id"])
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("id_token", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"])

    op.add_column("users", sa.Column("role", sa.String(16), nullable=False, server_default="user"))
    op.add_column("users", sa.Column("role_source", sa.String(40)))
    op.add_column("users", sa.Column("external_id", sa.String(200)))
    op.add_column("users", sa.Column("last_login_at", TS))
    op.add_column("users", sa.Column("deactivated_at", TS))
    _add_reference("users", "organisation_id", "organisations", "SET NULL")
    op.create_index("ix_users_display_name", "users", ["display_name"])

    _add_reference("api_keys", "team_id", "teams", "CASCADE")
    op.add_column("api_keys", sa.Column("scopes", sa.JSON()))
    op.create_index("ix_api_keys_created_at", "api_keys", ["created_at"])

    teams = sa.table(
        "teams",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("created_at", TS),
    )
    op.execute(teams.insert().values(id=COMMON_TEAM_ID, code="common", name="共通", created_at=datetime.now(UTC)))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilding users on SQLite would cascade-delete every conversation; restore a backup instead.
        raise NotImplementedError("0003_identity cannot be downgraded on SQLite; restore a backup")
    op.drop_index("ix_users_display_name", "users")
    op.drop_index("ix_api_keys_created_at", "api_keys")
    for table, column in (
        ("api_keys", "scopes"),
        ("api_keys", "team_id"),
        ("users", "organisation_id"),
        ("users", "deactivated_at"),
        ("users", "last_login_at"),
        ("users", "external_id"),
        ("users", "role_source"),
        ("users", "role"),
    ):
        op.drop_column(table, column)
    for name in ("auth_sessions", "user_identities", "memberships", "teams", "organisations"):
        op.drop_table(name)
