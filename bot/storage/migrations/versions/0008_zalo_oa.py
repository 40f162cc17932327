"""Zalo Official Account channel: tokens, received events, followers, button payloads.

Revision ID: 0008_zalo_oa
Revises: 0006_knowledge_loop
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_zalo_oa"
down_revision = "0006_knowledge_loop"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "zalo_oa_tokens",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("access_token", sa.Text, nullable=False, server_default=""),
        sa.Column("refresh_token", sa.Text, nullable=False, server_default=""),
        sa.Column("access_expires_at", TS, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("needs_connect", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("last_error", sa.String(300), nullable=False, server_default=""),
        sa.Column("lock_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refreshed_at", TS, nullable=False),
    )
    op.create_table(
        "zalo_oa_events",
        sa.Column("event_key", sa.String(160), primary_key=True),
        sa.Column("event_name", sa.String(60), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("handled_at", TS, nullable=True),
    )
    op.create_index("ix_zalo_oa_events_handled_at", "zalo_oa_events", ["handled_at"])
    op.create_table(
        "zalo_oa_followers",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("following", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("last_interaction_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "zalo_oa_buttons",
        sa.Column("token", sa.String(20), primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("label", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("zalo_oa_buttons")
    op.drop_table("zalo_oa_followers")
    op.drop_index("ix_zalo_oa_events_handled_at", "zalo_oa_events")
    op.drop_table("zalo_oa_events")
    op.drop_table("zalo_oa_tokens")
