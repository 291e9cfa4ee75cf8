"""Places, not points: stored place labels of typed coordinates and geocoded addresses
become the point rounded to ~1 km (or the ZIP a geocoded label already is).

A label is what proposals, the dashboard, the API and the masked CSV show; a typed
"34.0736,-118.4004" was labelled with ~11 m precision, a geocoded address with its
first part (a house number). The exact point stays in lat/lon, for distances only.

Revision ID: b4c1d2e3f405
Revises: 9a7e51c0d3b2
Create Date: 2026-12-02 00:45:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4c1d2e3f405'
down_revision = '9a7e51c0d3b2'
branch_labels = None
depends_on = None

_ZIP_ALONE = re.compile(r"\d{5}(?:-\d{4})?")


def upgrade():
    conn = op.get_bind()
    for name in ('aid_requests', 'offers'):
        table = sa.table(
            name,
            sa.column('id', sa.Integer()),
            sa.column('lat', sa.Float()),
            sa.column('lon', sa.Float()),
            sa.column('location_label', sa.String()),
            sa.column('location_precision', sa.String()),
        )
        rows = conn.execute(
            sa.select(table.c.id, table.c.lat, table.c.lon, table.c.location_label).where(
                table.c.location_precision.in_(('exact', 'address')),
                table.c.lat.is_not(None),
                table.c.lon.is_not(None),
            )
        ).all()
        for row in rows:
            label = (row.location_label or '').strip()
            if _ZIP_ALONE.fullmatch(label):
                continue
            conn.execute(
                table.update()
                .where(table.c.id == row.id)
                .values(location_label=f"{row.lat:.2f}, {row.lon:.2f}")
            )


def downgrade():
    pass  # the exact labels are gone on purpose; lat/lon still hold the points
