"""Errors of the CDS Hooks adapter; the API gives each one HTTP status.

- ``Unauthenticated`` (401): the bearer token is missing or malformed, unsigned or
  HMAC-signed, expired, for another audience, from an untrusted issuer, signed
  by an unknown key, or already used (its ``jti`` was seen before).
- ``BadHookRequest`` (400, an ``InvalidInput``): the body is not JSON, not a
  hook request of a hook this service answers, or holds FHIR of the wrong type.
- ``DataUnavailable`` (412): data the assessment needs is in neither the
  prefetch nor a reachable FHIR server; the service never answers all-clear
  on partial data.
"""

from __future__ import annotations

from natalizumab_cds.domain.errors import InvalidInput, NtzError


class Unauthenticated(NtzError):
    """The request does not carry a valid, fresh token from a trusted EHR."""


class BadHookRequest(InvalidInput):
    """The request body cannot be read as a hook request this service answers."""


class DataUnavailable(NtzError):
    """Needed patient data is neither prefetched nor fetchable from the EHR's FHIR server."""
