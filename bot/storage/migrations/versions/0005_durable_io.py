"""Durable in, durable out: the inbox, worker heartbeats, shared rate slots, per-part delivery progress.

Revision ID: 0005_durable_io
Revises: 0003_staff, 0004_registration_resume
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_durable_io"
down_revision = ("0003_staff", "0004_registration_resume")
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("update_key", sa.String(128), nullable=False),
        sa.Column("user_key", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("replies", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("handled_at", TS, nullable=True),
        sa.UniqueConstraint("channel", "update_key", name="uq_inbox_channel_key"),
    )
    op.create_index("ix_inbox_status_id", "inbox", ["status", "id"])
    op.create_index("ix_inbox_user_status", "inbox", ["channel", "user_key", "status"])
    op.create_table(
        "worker_beats",
        sa.Column("worker", sa.String(100), primary_key=True),
        sa.Column("beat_at", TS, nullable=False),
    )
    op.create_table(
        "rate_slots",
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("paused_until", sa.Float, nullable=False, server_default="0"),
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("parts_sent", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_deliveries_claimed_by", "deliveries", ["claimed_by", "status"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_claimed_by", "deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("parts_sent")
    op.drop_table("rate_slots")
    op.drop_table("worker_beats")
    op.drop_index("ix_inbox_user_status", "inbox")
    op.drop_index("ix_inbox_status_id", "inbox")
    op.drop_table("inbox")
