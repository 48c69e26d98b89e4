"""What routes receive from the app: the clinic's use cases, as the current user.

Every API router is included through ``api_router`` in ``app.py``, whose
``dependencies`` require a signed-in caller; each route names its action with
``require`` (api/access.py), and ``clinic`` hands it the use cases audited
under that action.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from natalizumab_cds.api.request_log import route_template
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.audited import AuditedDatabase
from natalizumab_cds.application.security.permissions import Action, Principal


async def clinic(request: Request) -> Clinic:
    """The clinic's use cases for the caller, audited under the route's action.

    ``async`` only so that FastAPI calls it on the event loop (it does no I/O): a
    plain function dependency would cost a hop to a worker thread and back.

    The caller was authenticated by the router (``current_principal``); the
    action is the one the route names with ``require(Action.…)``, looked up when
    a use case opens its transaction, so the order of a route's parameters does
    not matter. A route that names no action gets a 500, never unaudited data.
    """
    base: Clinic = request.app.state.clinic
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise RuntimeError(f"{route_template(request.scope)}: no caller was authenticated")

    def route_action() -> Action:
        action: Action | None = getattr(request.state, "action", None)
        if action is None:
            raise RuntimeError(f"{route_template(request.scope)}: the route names no action")
        return action

    audited = AuditedDatabase(base.database, principal, route_action, base.context.clock)
    return Clinic.build(audited, base.context)


ClinicDep = Annotated[Clinic, Depends(clinic)]


def aware(moment: datetime | None) -> datetime | None:
    """An ``at`` without an offset is UTC (as on the command line)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
