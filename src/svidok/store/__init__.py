"""Storage: SQLAlchemy models, engines, Alembic migrations. Knows nothing of HTTP."""
