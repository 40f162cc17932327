"""Keep a draft registration's form state so it resumes after the user leaves it.

Revision ID: 0004_registration_resume
Revises: 0002_registrations
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_registration_resume"
down_revision = "0002_registrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.add_column(sa.Column("wizard_state", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("wizard_state")
