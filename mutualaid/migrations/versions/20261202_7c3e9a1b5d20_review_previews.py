"""Matching runs keep a review run's prepared preview (MATCH_MODE = review): the worker
prepares it, a coordinator sends it.

Revision ID: 7c3e9a1b5d20
Revises: 4e2f8a1c9b70
Create Date: 2026-12-02 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e9a1b5d20'
down_revision = '4e2f8a1c9b70'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preview', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.drop_column('preview')
