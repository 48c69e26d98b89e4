"""The clinic service's commands: serve, import, worklist, refresh, db (one module each)."""

from natalizumab_cds.cli import database, importing, serving, worklist

__all__ = ["database", "importing", "serving", "worklist"]
