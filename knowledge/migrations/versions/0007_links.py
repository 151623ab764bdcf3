"""links: one person's focal-point rows on several channels, and the one-use codes that link them

Revision ID: 0008
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('focal_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_to', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_focal_points_linked_to'), ['linked_to'], unique=False)
    with op.batch_alter_table('registration_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_chat', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('registration_codes', schema=None) as batch_op:
        batch_op.drop_column('link_chat')
    with op.batch_alter_table('focal_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_focal_points_linked_to'))
        batch_op.drop_column('linked_to')
