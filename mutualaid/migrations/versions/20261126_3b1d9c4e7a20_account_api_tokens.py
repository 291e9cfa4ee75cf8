"""Accounts: a hashed token for the dashboard's JSON API.

Revision ID: 3b1d9c4e7a20
Revises: fc455d470d3a
Create Date: 2026-11-26 05:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b1d9c4e7a20'
down_revision = 'fc455d470d3a'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('accounts', sa.Column('api_token_hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_accounts_api_token_hash'), 'accounts', ['api_token_hash'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_accounts_api_token_hash'), table_name='accounts')
    op.drop_column('accounts', 'api_token_hash')
