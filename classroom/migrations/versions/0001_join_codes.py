"""Join codes: a short code that stands for one lesson and its settings, owned by the presenter who made it.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "join_codes",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("url_path", sa.String(64), nullable=False),
        sa.Column("query", sa.Text, nullable=False),            # JSON object of the experiment's settings
        sa.Column("fingerprint", sa.String(64), nullable=False),  # sha256 of (url_path, query)
        sa.Column("teacher", sa.String(64), nullable=False),      # sha256 of the presenter's teacher key
        sa.Column("created_at", sa.Float, nullable=False),        # seconds since the epoch
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.UniqueConstraint("teacher", "fingerprint", name="uq_join_codes_teacher_experiment"),
    )
    op.create_index("ix_join_codes_expires_at", "join_codes", ["expires_at"])
    op.create_index("ix_join_codes_teacher_created", "join_codes", ["teacher", "created_at"])


def downgrade() -> None:
    op.drop_table("join_codes")
