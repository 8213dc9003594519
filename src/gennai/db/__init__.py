"""Database layer: declarative base, engine and sessions, and Alembic migrations."""
