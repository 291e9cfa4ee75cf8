"""Rate-limit counters shared by every process: one row per key and fixed window.

Revision ID: fc455d470d3a
Revises: 5007eaf0968b
Create Date: 2026-11-26 05:21:07.835510

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fc455d470d3a'
down_revision = '5007eaf0968b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counters'))
    )


def downgrade():
    op.drop_table('rate_counters')
