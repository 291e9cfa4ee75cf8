"""Encrypt phone numbers, addresses, typed places, request details and SMS bodies at rest.

The columns become TEXT (a ciphertext is longer than its value) and every stored
value is encrypted in place with the app's DATA_KEY (mutualaid.models.crypto);
the downgrade decrypts them and narrows the columns back. Run it with the
DATA_KEY the service will use: data encrypted with another key cannot be read.

Revision ID: f2a97fa9f2c1
Revises: c1a2b3d4e5f6
Create Date: 2026-11-26 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from mutualaid.models.crypto import rewrite_columns


# revision identifiers, used by Alembic.
revision = 'f2a97fa9f2c1'
down_revision = 'c1a2b3d4e5f6'
branch_labels = None
depends_on = None

# table: {column: (type before this revision, nullable)}
COLUMNS = {
    'people': {'phone': (sa.String(length=20), True)},
    'messages': {'phone': (sa.String(length=20), False), 'body': (sa.Text(), False)},
    'aid_requests': {
        'address': (sa.String(length=200), True),
        'location_text': (sa.String(length=200), False),
        'details': (sa.Text(), False),
    },
    'offers': {'location_text': (sa.String(length=200), False)},
}


def upgrade():
    for table_name, columns in COLUMNS.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for column, (before, nullable) in columns.items():
                if not isinstance(before, sa.Text):
                    batch_op.alter_column(
                        column, existing_type=before, type_=sa.Text(), existing_nullable=nullable
                    )
    cipher = current_app.extensions['data_cipher']
    rewrite_columns(op.get_bind(), COLUMNS, cipher.encrypt)


def downgrade():
    cipher = current_app.extensions['data_cipher']
    rewrite_columns(op.get_bind(), COLUMNS, cipher.decrypt)
    for table_name, columns in COLUMNS.items():
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            for column, (before, nullable) in columns.items():
                if not isinstance(before, sa.Text):
                    batch_op.alter_column(
                        column, existing_type=sa.Text(), type_=before, existing_nullable=nullable
                    )
