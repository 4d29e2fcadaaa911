"""statistics: covering indexes over act, incident and involvement

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_act_stats": ("act", ["incident_id", "violation", "victim_id", "id"]),
    "ix_incident_stats": ("incident", ["id", "start_at", "place_id", "status"]),
    "ix_involvement_stats": ("involvement", ["act_id", "person_id", "unit_id"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
