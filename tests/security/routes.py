"""The app's routes, as the access tests walk them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from natalizumab_cds.api.access import ChosenRequirement, Requirement
from natalizumab_cds.application.security.permissions import Action

#: Open to anyone: load balancers, the sign-in form, the API's own description.
OPEN = frozenset({"/health", "/login", "/docs", "/openapi.json"})
#: Authenticated by the EHR's signed JWT instead (api/cds_hooks.py).
CDS_HOOKS_PREFIX = "/cds-services"
_PARAMETER = re.compile(r"{([^}:]+)(:[^}]+)?}")
_DUMMIES = {
    "token_id": "999999",
    "patient_id": "p0",
    "visit_id": "visit-none",
    "username": "nobody",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    template: str
    path: str
    action: Action | None  # None: chosen from the request, or sign-in only
    chosen: bool = False  # the route reads its action from the request (require_chosen)

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _requirements(dependant: Dependant) -> Iterator[Requirement | ChosenRequirement]:
    if isinstance(dependant.call, Requirement | ChosenRequirement):
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _requirements(sub)


def protected_endpoints(app: FastAPI) -> list[Endpoint]:
    """Every route that must refuse a caller who is not signed in."""
    found = []
    for route in iter_route_contexts(app.routes):
        template = route.path_format or route.path or ""
        if not isinstance(route.original_route, APIRoute) or template in OPEN:
            continue
        if template.startswith(CDS_HOOKS_PREFIX):
            continue
        path = _PARAMETER.sub(lambda m: _DUMMIES.get(m.group(1), "x1"), template)
        requirements = list(_requirements(route.dependant))
        actions = sorted({r.action for r in requirements if isinstance(r, Requirement)})
        action = actions[0] if len(actions) == 1 else None
        chosen = any(isinstance(r, ChosenRequirement) for r in requirements)
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Endpoint(method, template, path, action, chosen))
    return found
