"""A joined learner's guided path: which exercises of the class's lessons they have committed a prediction for, and
whether it was right. It lets the course map show their progress across sessions (a reload, another day within the
code's life). Rows belong to a join code and go with it when it expires; a learner is a random id, nothing personal.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "progress",
        sa.Column("code", sa.String(6), sa.ForeignKey("join_codes.code", ondelete="CASCADE"), primary_key=True),
        sa.Column("learner", sa.String(64), primary_key=True),     # a random id kept in the learner's browser
        sa.Column("exercise_id", sa.String(64), primary_key=True),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("answer", sa.String(32), nullable=False),        # the correct answer the prediction was graded on
        sa.Column("off_by", sa.Float, nullable=True),              # numbers: prediction - answer
        sa.Column("done_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("progress")
