"""Infusion-day use cases on SQLite and on PostgreSQL (fixtures from tests/clinic_db.py)."""

from tests.clinic_db import clinic, clock, database_url

__all__ = ["clinic", "clock", "database_url"]
