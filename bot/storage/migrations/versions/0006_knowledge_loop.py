"""Knowledge loop: answer offers and ratings, review resolutions, learned phrasings and entries, the
knowledge version counter, web console sign-in links and sessions, daily digest subscriptions.

Revision ID: 0006_knowledge_loop
Revises: 0005_durable_io
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_knowledge_loop"
down_revision = "0005_durable_io"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _who() -> list[sa.Column]:
    return [sa.Column("channel", sa.String(20), nullable=False),
            sa.Column("user_external_id", sa.String(64), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "answer_offers",
        sa.Column("id", sa.Integer, primary_key=True), *_who(),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("normalised", sa.Text, nullable=False, server_default=""),
        sa.Column("entry_id", sa.String(100), nullable=True),
        sa.Column("runner_up_id", sa.String(100), nullable=True),
        sa.Column("score", sa.Float, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_answer_offers_created_at", "answer_offers", ["created_at"])
    op.create_table(
        "answer_ratings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("offer_id", sa.Integer, sa.ForeignKey("answer_offers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("verdict", sa.String(10), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("normalised", sa.Text, nullable=False, server_default=""),
        sa.Column("entry_id", sa.String(100), nullable=True),
        sa.Column("picked_entry_id", sa.String(100), nullable=True),
        *_who(),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_answer_ratings_offer_id", "answer_ratings", ["offer_id"])
    op.create_index("ix_answer_ratings_created_at", "answer_ratings", ["created_at"])
    op.create_table(
        "review_resolutions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("normalised", sa.Text, nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("entry_id", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "learned_phrasings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.String(100), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("exported_at", TS, nullable=True),
    )
    op.create_index("ix_learned_phrasings_entry_id", "learned_phrasings", ["entry_id"])
    op.create_table(
        "learned_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.String(100), nullable=False, unique=True),
        sa.Column("topic", sa.String(50), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("exported_at", TS, nullable=True),
    )
    op.create_table(
        "knowledge_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "admin_login_links",
        sa.Column("token_hash", sa.String(64), primary_key=True), *_who(),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "admin_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True), *_who(),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "digest_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True), *_who(),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("channel", "user_external_id", name="uq_digest_subscriber"),
    )
    op.create_table(
        "digest_runs",
        sa.Column("day", sa.String(40), primary_key=True),
        sa.Column("sent_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("digest_runs", "digest_subscriptions", "admin_sessions", "admin_login_links",
                  "knowledge_version", "learned_entries", "learned_phrasings", "review_resolutions",
                  "answer_ratings", "answer_offers"):
        op.drop_table(table)
