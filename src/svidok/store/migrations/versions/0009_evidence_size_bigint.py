"""evidence.size_bytes holds files over 2 GiB on PostgreSQL

`integer` is 32-bit on PostgreSQL, so a recording larger than 2 GiB could not be
registered there. SQLite's INTEGER is already 64-bit: nothing to do.

Revision ID: 0009
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0001"  # evidence is made by 0001
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("evidence", "size_bytes", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("evidence", "size_bytes", type_=sa.Integer(), existing_type=sa.BigInteger())
