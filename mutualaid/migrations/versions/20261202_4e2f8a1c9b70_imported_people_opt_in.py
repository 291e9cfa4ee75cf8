"""People imported from a spreadsheet, and their opt-in: the file they came from, whether
they are still waiting to say YES (nothing is proposed to or for them until then), when
they opted in and how.

Revision ID: 4e2f8a1c9b70
Revises: d6e3f4051627
Create Date: 2026-12-02 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4e2f8a1c9b70'
down_revision = 'd6e3f4051627'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_from', sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column('awaiting_opt_in', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('opted_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('opt_in_source', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('opt_in_source')
        batch_op.drop_column('opted_in_at')
        batch_op.drop_column('awaiting_opt_in')
        batch_op.drop_column('imported_from')
