"""The ASGI application for uvicorn and other servers: ``uvicorn natalizumab_cds.asgi:app``.

Built from the settings (``NTZ_DATABASE_URL`` ...) at import; the schema is
migrated first and the summaries are refreshed every night.
"""

from __future__ import annotations

from natalizumab_cds.api.app import create_app

app = create_app(refresh_daily=True)
