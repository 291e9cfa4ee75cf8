"""Coordinators' notes on requests.

Revision ID: c1a2b3d4e5f6
Revises: 3b1d9c4e7a20
Create Date: 2026-11-26 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1a2b3d4e5f6'
down_revision = '3b1d9c4e7a20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'request_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['accounts.id'], name=op.f('fk_request_notes_author_id_accounts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['request_id'], ['aid_requests.id'], name=op.f('fk_request_notes_request_id_aid_requests'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_notes')),
    )
    with op.batch_alter_table('request_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_notes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_request_notes_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('request_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_notes_request_id'))
        batch_op.drop_index(batch_op.f('ix_request_notes_created_at'))
    op.drop_table('request_notes')
