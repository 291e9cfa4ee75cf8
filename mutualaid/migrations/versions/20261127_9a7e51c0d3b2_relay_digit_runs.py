"""Matches remember how many digits in a row each side's last relayed text ended with;
names lose the numbers typed into them.

A phone number split over consecutive texts ("718 555", then "0101") is caught by
carrying that count into the next text of the same relay. A name never needs a digit,
and one typed there would head every relayed text: intake now drops them, and this
drops them from the names already stored.

Revision ID: 9a7e51c0d3b2
Revises: f2a97fa9f2c1
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a7e51c0d3b2'
down_revision = 'f2a97fa9f2c1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('volunteer_digits', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('requester_digits', sa.Integer(), server_default='0', nullable=False))
    _clean_names()


def _without_digits(name):
    kept = "".join(ch for ch in name if not ch.isdigit())
    return " ".join(w.strip(" ,.;:-_|/()[]#*+=@") for w in kept.split()).strip()[:80] or None


def _clean_names():
    people = sa.table('people', sa.column('id', sa.Integer()), sa.column('name', sa.String()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(people.c.id, people.c.name).where(people.c.name.is_not(None))).all()
    for row in rows:
        if any(ch.isdigit() for ch in row.name):
            conn.execute(
                people.update().where(people.c.id == row.id).values(name=_without_digits(row.name))
            )


def downgrade():
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_column('requester_digits')
        batch_op.drop_column('volunteer_digits')
