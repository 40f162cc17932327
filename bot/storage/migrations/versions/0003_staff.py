"""Staff tools: audit log, broadcasts, deliveries, feedback, survey runs and responses.

Revision ID: 0003_staff
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_staff"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _users_fk(ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("user_external_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False, server_default="announcement"),
        sa.Column("survey_id", sa.String(100), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("attachment_name", sa.String(200), nullable=True),
        sa.Column("attachment_mime", sa.String(100), nullable=True),
        sa.Column("attachment_data", sa.LargeBinary, nullable=True),
        sa.Column("audience", sa.JSON, nullable=False),
        sa.Column("send_at", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="scheduled"),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, _users_fk("CASCADE"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.UniqueConstraint("broadcast_id", "user_id", name="uq_deliveries_broadcast_user"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_broadcast_status", "deliveries", ["broadcast_id", "status"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("topic", sa.String(50), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("user_id", sa.Integer, _users_fk("SET NULL"), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False, server_default=""),
        sa.Column("province", sa.String(100), nullable=False, server_default=""),
        sa.Column("commune", sa.String(100), nullable=False, server_default=""),
        sa.Column("sector", sa.String(50), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False, server_default=""),
        sa.Column("runs_coop", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_feedback_topic", "feedback", ["topic"])
    op.create_table(
        "survey_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("survey_id", sa.String(100), nullable=False),
        sa.Column("broadcast_id", sa.Integer, sa.ForeignKey("broadcasts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("launched_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_survey_runs_survey_id", "survey_runs", ["survey_id"])
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("survey_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.Integer, _users_fk("CASCADE"), nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="in_progress"),
        sa.Column("province", sa.String(100), nullable=False, server_default=""),
        sa.Column("sector", sa.String(50), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False, server_default=""),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.UniqueConstraint("survey_id", "user_id", name="uq_survey_responses_user"),
    )
    op.create_index("ix_survey_responses_survey_id", "survey_responses", ["survey_id"])


def downgrade() -> None:
    for table in ("survey_responses", "survey_runs", "feedback", "deliveries", "broadcasts", "audit_log"):
        op.drop_table(table)
