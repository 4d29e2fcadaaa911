"""search index on PostgreSQL: blind terms, a sealed label, no trigram index

Before this revision a PostgreSQL register's search index held the stems of every
testimony word, the (unkeyed) name-key tokens and each record's display label in
plaintext, with a trigram index over the labels. From now on the index writes keyed
blind tokens and seals `label` like the register's protected columns
(`svidok.reports.text.BlindTerms`, `store.models.Protected`). A migration has no keys,
so the old plaintext index is emptied (TRUNCATE rewrites the table files rather than
marking rows dead) and its full-text indexes dropped; `svidok report reindex`, run with
the keyring, rebuilds it. Searching an emptied index over a non-empty register says so.
SQLite is untouched: SQLCipher encrypts the whole file, its index keeps plain stems.

Revision ID: 0010
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"  # the search branch (0005, 0007)
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_search_doc_label_trgm")
    op.execute("DROP INDEX IF EXISTS ix_search_doc_tsv")
    op.execute("TRUNCATE search_doc, search_facet")
    op.alter_column("search_doc", "label", type_=sa.Text(), existing_type=sa.String(300))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Sealed labels are longer than 300 characters' worth of limit; the derived index is emptied.
    op.execute("DROP INDEX IF EXISTS ix_search_doc_tsv")
    op.execute("TRUNCATE search_doc, search_facet")
    op.alter_column("search_doc", "label", type_=sa.String(300), existing_type=sa.Text())
