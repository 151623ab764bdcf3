"""conversation subject: the task or list a chat was just shown, for follow-ups ("việc này", "xem tiếp")

Revision ID: 0007
Revises: 0005 (the lead re-chains it after the other branches' migrations)
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversation_state') as batch:
        batch.add_column(sa.Column('subject', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversation_state') as batch:
        batch.drop_column('subject')
