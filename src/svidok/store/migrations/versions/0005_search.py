"""search: index documents and facets

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-22 00:40:00

The dialect-specific full-text structures (SQLite FTS5 table and triggers,
PostgreSQL GIN tsvector and trigram indexes) are made by
`svidok.reports.index.ensure` on first use, outside the models-vs-migrations check.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_doc",
        sa.Column("n", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=True),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("day", sa.DateTime(), nullable=True),
        sa.Column("place_id", sa.String(length=32), nullable=True),
        sa.Column("incident_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("n", name=op.f("pk_search_doc")),
        sa.UniqueConstraint("id", name=op.f("uq_search_doc_id")),
    )
    op.create_index(op.f("ix_search_doc_day"), "search_doc", ["day"], unique=False)
    op.create_index(op.f("ix_search_doc_incident_id"), "search_doc", ["incident_id"], unique=False)
    op.create_index("ix_search_doc_kind_day", "search_doc", ["kind", "day"], unique=False)
    op.create_index(op.f("ix_search_doc_place_id"), "search_doc", ["place_id"], unique=False)
    op.create_table(
        "search_facet",
        sa.Column("facet", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("doc_n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("facet", "value", "doc_n", name=op.f("pk_search_facet")),
    )
    op.create_index(op.f("ix_search_facet_doc_n"), "search_facet", ["doc_n"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_search_facet_doc_n"), table_name="search_facet")
    op.drop_table("search_facet")
    for name in ("place_id", "kind_day", "incident_id", "day"):
        op.drop_index(f"ix_search_doc_{name}", table_name="search_doc")
    op.drop_table("search_doc")
