"""Texts by channel and cost: each message's channel (SMS or WhatsApp), its segments
counted when queued, and the WhatsApp template it went as; a request may come by WhatsApp.

Revision ID: e7f4a5b6c728
Revises: f1b8c2d9e403
Create Date: 2026-12-02 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7f4a5b6c728'
down_revision = 'f1b8c2d9e403'
branch_labels = None
depends_on = None

# After the voice hotline's revision (f1b8c2d9e403), which allowed 'voice'.
OLD_CHANNELS = ('sms', 'web', 'coordinator', 'voice')
NEW_CHANNELS = (*OLD_CHANNELS, 'whatsapp')


def _channel(values):
    return sa.Enum(
        *values, name='channel', native_enum=False, create_constraint=True, length=20
    )


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('channel', sa.String(length=20), server_default='sms', nullable=False)
        )
        batch_op.add_column(sa.Column('content_sid', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('content_variables', sa.Text(), nullable=True))
    with op.batch_alter_table('aid_requests', schema=None) as batch_op:
        batch_op.alter_column(
            'channel', existing_type=_channel(OLD_CHANNELS), type_=_channel(NEW_CHANNELS)
        )


def downgrade():
    op.execute("UPDATE aid_requests SET channel = 'sms' WHERE channel = 'whatsapp'")
    with op.batch_alter_table('aid_requests', schema=None) as batch_op:
        batch_op.alter_column(
            'channel', existing_type=_channel(NEW_CHANNELS), type_=_channel(OLD_CHANNELS)
        )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('content_variables')
        batch_op.drop_column('content_sid')
        batch_op.drop_column('channel')
        batch_op.drop_column('segments')
