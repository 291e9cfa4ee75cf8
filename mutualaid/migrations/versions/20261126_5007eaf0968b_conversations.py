"""SMS conversations: the question awaiting each person's answer, with an expiry.

Revision ID: 5007eaf0968b
Revises: ad512d53fed4
Create Date: 2026-11-26 04:59:33.122969

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5007eaf0968b'
down_revision = 'ad512d53fed4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('conversations',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=30), server_default='idle', nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('human_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_conversations_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_conversations'))
    )


def downgrade():
    op.drop_table('conversations')
