"""Voice hotline: one row per call (its dialogue step, what was pressed, encrypted, and
what it became), and "voice" as a channel a request can come from.

Revision ID: f1b8c2d9e403
Revises: 8d4f0b2c6e31
Create Date: 2026-12-02 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1b8c2d9e403'
down_revision = '8d4f0b2c6e31'
branch_labels = None
depends_on = None

OLD_CHANNELS = ('sms', 'web', 'coordinator')
NEW_CHANNELS = (*OLD_CHANNELS, 'voice')


def _allow_channels(values):
    # A non-native Enum is a VARCHAR with a CHECK constraint: replace the constraint
    # (alter_column of the Enum type would leave it as it was, on both databases).
    allowed = ', '.join(f"'{v}'" for v in values)
    with op.batch_alter_table('aid_requests', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_aid_requests_channel'), type_='check')
        batch_op.create_check_constraint(op.f('ck_aid_requests_channel'), f'channel IN ({allowed})')


def upgrade():
    _allow_channels(NEW_CHANNELS)
    op.create_table(
        'calls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('call_sid', sa.String(length=34), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('language', sa.String(length=8), server_default='en', nullable=False),
        sa.Column('step', sa.String(length=20), server_default='language', nullable=False),
        sa.Column('data', sa.Text(), server_default='', nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=True),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('recording_sid', sa.String(length=34), nullable=True),
        sa.Column('recording_url', sa.Text(), nullable=True),
        sa.Column('recording_seconds', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_calls_person_id_people')),
        sa.ForeignKeyConstraint(
            ['request_id'], ['aid_requests.id'], name=op.f('fk_calls_request_id_aid_requests')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
        sa.UniqueConstraint('call_sid', name=op.f('uq_calls_call_sid')),
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_request_id'))
        batch_op.drop_index(batch_op.f('ix_calls_person_id'))
    op.drop_table('calls')
    op.execute("UPDATE aid_requests SET channel = 'sms' WHERE channel = 'voice'")
    _allow_channels(OLD_CHANNELS)
