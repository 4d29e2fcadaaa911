"""field encryption: protected text columns become TEXT on PostgreSQL

A sealed value (`v1:<key id>:<base64>`) is longer than the text it seals, so the
protected columns that had a length limit hold TEXT on PostgreSQL; the limit is
still checked on the plaintext by the import layer. SQLite keeps its declared
types (SQLCipher encrypts the whole file; the values are stored as they are).
Values already in a PostgreSQL register stay as they are: a migration has no
keys. Such a register is exported and re-imported to encrypt them.

Revision ID: 0008
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0004"  # app_user.totp_secret is made by 0004
branch_labels = None
depends_on = None

LIMITED = (
    ("person", "primary_name", 300),
    ("person", "birth_date", 10),
    ("person_name", "name", 300),
    ("source", "title", 300),
    ("source", "reported_place_text", 300),
    ("mention", "raw_name", 300),
    ("custody_record", "recorded_name", 300),
    ("custody_record", "birth_date", 10),
    ("missing_case", "missing_name", 300),
    ("missing_case", "birth_date", 10),
    ("missing_case", "last_seen_text", 300),
    ("evidence", "original_name", 300),
    ("evidence", "collector", 200),
    ("app_user", "totp_secret", 64),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in LIMITED:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(length))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in LIMITED:
        op.alter_column(table, column, type_=sa.String(length), existing_type=sa.Text())
