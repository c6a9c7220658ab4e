"""Class polls: a presenter asks an exercise, the class votes (one vote per learner, re-voting replaces it), the
presenter reveals. Polls and votes belong to a join code and go with it when it expires.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(6), sa.ForeignKey("join_codes.code", ondelete="CASCADE"), nullable=False),
        sa.Column("exercise_id", sa.String(64), nullable=False),
        sa.Column("options", sa.Text, nullable=True),             # JSON list of the choices; NULL: a number
        sa.Column("state", sa.String(8), nullable=False),          # open | revealed | closed
        sa.Column("answer", sa.String(32), nullable=True),         # the correct answer, set at the reveal
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("revealed_at", sa.Float, nullable=True),
    )
    op.create_index("ix_polls_code_opened", "polls", ["code", "opened_at"])
    op.create_table(
        "votes",
        sa.Column("poll_id", sa.Integer, sa.ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("learner", sa.String(64), primary_key=True),    # a random id per learner's session
        sa.Column("answer", sa.String(32), nullable=False),
        sa.Column("nickname", sa.String(24), nullable=True),
        sa.Column("voted_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("votes")
    op.drop_table("polls")
