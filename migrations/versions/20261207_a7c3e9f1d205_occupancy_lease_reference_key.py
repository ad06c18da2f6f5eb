"""occupancy lease reference key

``occupancy.lease_reference_key``: the lease reference as the rent-account import compares it
(``rent_import.reference_key``: upper case, no spaces, no leading zeros in a run of digits),
indexed, so a batch of lines (the API) looks up only its own references instead of reading
every lease of the landlord. Filled here for the existing leases; kept by the model since.

Revision ID: a7c3e9f1d205
Revises: 8d859e682457
Create Date: 2026-12-07 12:10:00

"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c3e9f1d205"
down_revision = "8d859e682457"
branch_labels = None
depends_on = None

# ``app.housing.rent_import.references.reference_key`` as of this revision, written out here
# so that migrations never import application code.
_SPACES = dict.fromkeys(map(ord, " \t\r\n\v\f\u00a0\u202f\u2009\u2007\u2008\u200a\u200b"))
_LEADING_ZEROS = re.compile(r"(?<!\d)0+(?=\d)")


def _reference_key(value):
    if value is None:
        return None
    text = str(value).translate(_SPACES).upper()
    return (_LEADING_ZEROS.sub("", text) if "0" in text else text) or None


def upgrade():
    with op.batch_alter_table("occupancy", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_reference_key", sa.String(length=80), nullable=True))
        batch_op.create_index("ix_occupancy_lease_reference_key", ["lease_reference_key"])
    connection = op.get_bind()
    occupancy = sa.table(
        "occupancy",
        sa.column("id", sa.Integer),
        sa.column("lease_reference", sa.String),
        sa.column("lease_reference_key", sa.String),
    )
    rows = connection.execute(
        sa.select(occupancy.c.id, occupancy.c.lease_reference).where(
            occupancy.c.lease_reference.is_not(None)
        )
    ).all()
    update = (
        occupancy.update()
        .where(occupancy.c.id == sa.bindparam("row_id"))
        .values(lease_reference_key=sa.bindparam("key"))
    )
    for start in range(0, len(rows), 5000):
        chunk = [
            {"row_id": row_id, "key": _reference_key(reference)}
            for row_id, reference in rows[start : start + 5000]
        ]
        connection.execute(update, chunk)


def downgrade():
    with op.batch_alter_table("occupancy", schema=None) as batch_op:
        batch_op.drop_index("ix_occupancy_lease_reference_key")
        batch_op.drop_column("lease_reference_key")
