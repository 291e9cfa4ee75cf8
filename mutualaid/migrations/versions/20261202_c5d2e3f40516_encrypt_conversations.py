"""Encrypt conversations.data: what a person typed in the middle of an SMS dialogue
(an address, a door code) was stored in clear.

The column becomes TEXT holding an AES-SIV token of the JSON (mutualaid.models.crypto,
EncryptedJSON), "" for nothing; the downgrade decrypts it back to JSON. Run it with
the DATA_KEY the service will use.

Revision ID: c5d2e3f40516
Revises: b4c1d2e3f405
Create Date: 2026-12-02 01:00:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = 'c5d2e3f40516'
down_revision = 'b4c1d2e3f405'
branch_labels = None
depends_on = None

COLUMN = 'conversations.data'
_table = sa.table(
    'conversations', sa.column('person_id', sa.Integer()), sa.column('data', sa.Text())
)


def _rewrite(convert):
    conn = op.get_bind()
    rows = conn.execute(sa.select(_table.c.person_id, _table.c.data)).all()
    for row in rows:
        new = convert(row.data)
        if new != row.data:
            conn.execute(
                _table.update().where(_table.c.person_id == row.person_id).values(data=new)
            )


def upgrade():
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column(
            'data',
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            server_default='',
            postgresql_using='data::text',
        )
    cipher = current_app.extensions['data_cipher']

    def encrypt(value):
        data = json.loads(value) if value else None
        if not data:
            return ''
        text = json.dumps(data, ensure_ascii=False, separators=(',', ':'), sort_keys=True)
        return cipher.encrypt(text, COLUMN)

    _rewrite(encrypt)


def downgrade():
    cipher = current_app.extensions['data_cipher']
    _rewrite(lambda value: cipher.decrypt(value, COLUMN) if value else '{}')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        # The default first: PostgreSQL cannot cast '' to JSON.
        batch_op.alter_column(
            'data', existing_type=sa.Text(), existing_nullable=False, server_default=None
        )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.alter_column(
            'data',
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using='data::json',
        )
