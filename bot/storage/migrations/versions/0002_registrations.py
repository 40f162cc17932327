"""Registrations of new cooperatives (HTX) and cooperative groups (THT).

Revision ID: 0002_registrations
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_registrations"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_external_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
    )
    op.create_index("ix_registrations_user", "registrations", ["channel", "user_external_id"])


def downgrade() -> None:
    op.drop_index("ix_registrations_user", table_name="registrations")
    op.drop_table("registrations")
