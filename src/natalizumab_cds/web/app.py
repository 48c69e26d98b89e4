"""The whole application: the REST API plus the clinician web pages and their assets.

``create_web_app`` is what ``asgi.py`` and ``ntz serve`` run. The web layer sits
above the API layer because pages reuse its sign-in, CSRF and audit
dependencies (docs/decisions/web-above-api.md).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from natalizumab_cds.api.app import create_app
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.service import Security
from natalizumab_cds.web import (
    accounts_page,
    audit_page,
    lab_messages_page,
    patient_page,
    safety_page,
    visit_forms,
    visit_page,
    worklist_page,
)
from natalizumab_cds.web.error_pages import install_error_pages
from natalizumab_cds.web.pages import STATIC, install_page_handlers, page_principal

#: One router per page area, included in this order.
PAGE_MODULES = (
    worklist_page,
    patient_page,
    visit_page,
    visit_forms,
    safety_page,
    lab_messages_page,
    accounts_page,
    audit_page,
)


def create_web_app(
    clinic: Clinic | None = None, *, refresh_daily: bool = False, security: Security | None = None
) -> FastAPI:
    """``api.create_app(...)`` with the web pages and ``/static`` added.

    Errors on a page's address get the HTML error page; the API's stay problem
    documents (``web/error_pages.py``).
    """
    app = create_app(clinic, refresh_daily=refresh_daily, security=security)
    install_page_handlers(app)
    install_error_pages(app)  # after every other handler: it wraps them
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in PAGE_MODULES:  # sign-in first, so the audited clinic knows the caller
        app.include_router(module.router, dependencies=[Depends(page_principal)])
    return app
