"""Core tables: users, conversations, question log, processed messages, stored files.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("province", sa.String(100), nullable=False, server_default=""),
        sa.Column("commune", sa.String(100), nullable=False, server_default=""),
        sa.Column("sector", sa.String(50), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False, server_default="member"),
        sa.Column("runs_coop", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("subscribed", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("blocked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "external_id", name="uq_users_channel_external"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_external_id", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(50), nullable=False, server_default=""),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "user_external_id", name="uq_conversations_user"),
    )
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_external_id", sa.String(64), nullable=False),
        sa.Column("raw_text", sa.Text, nullable=False),
        sa.Column("normalised", sa.Text, nullable=False, server_default=""),
        sa.Column("entry_id", sa.String(100), nullable=True),
        sa.Column("score", sa.Float, nullable=False, server_default="0"),
        sa.Column("answered", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_question_log_created_at", "question_log", ["created_at"])
    op.create_table(
        "processed_messages",
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("message_id", sa.String(128), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "stored_files",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("owner_external_id", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("stored_files", "processed_messages", "question_log", "conversations", "users"):
        op.drop_table(table)
