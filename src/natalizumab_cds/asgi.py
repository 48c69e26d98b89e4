"""The ASGI application for uvicorn and other servers: ``uvicorn natalizumab_cds.asgi:app``.

Built from the settings (``NTZ_DATABASE_URL`` ...) at import: the REST API and
the clinician web pages; the schema is migrated first and the summaries are
refreshed every night.
"""

from __future__ import annotations

from natalizumab_cds.web.app import create_web_app

app = create_web_app(refresh_daily=True)
