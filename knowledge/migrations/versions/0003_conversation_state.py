"""conversation state: pending choices, awaited replies and confirmations per chat

Revision ID: 0003
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_state',
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('choices_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('awaiting', sa.String(length=40), nullable=True),
    sa.Column('awaiting_data', sa.JSON(), nullable=False),
    sa.Column('awaiting_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirm', sa.String(length=200), nullable=True),
    sa.Column('confirm_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'chat_id')
    )


def downgrade() -> None:
    op.drop_table('conversation_state')
