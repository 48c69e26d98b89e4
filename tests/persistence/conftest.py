"""Every persistence test runs on SQLite and on PostgreSQL (see tests/clinic_db.py)."""

from tests.clinic_db import clinic, clock, database_url, empty_database_url

__all__ = ["clinic", "clock", "database_url", "empty_database_url"]
