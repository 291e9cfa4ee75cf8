"""Pending submissions: a public form naming a phone number waits, encrypted, for that
number to confirm it by SMS ("YES 12345") before anything acts on the person.

Revision ID: d6e3f4051627
Revises: c5d2e3f40516
Create Date: 2026-12-02 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd6e3f4051627'
down_revision = 'c5d2e3f40516'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('phone', sa.Text(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=8), server_default='en', nullable=False),
    sa.Column('payload', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_submissions')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('pending_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_pending_submissions_phone_code', ['phone', 'code'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_submissions_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('pending_submissions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_submissions_expires_at'))
        batch_op.drop_index('ix_pending_submissions_phone_code')
    op.drop_table('pending_submissions')
