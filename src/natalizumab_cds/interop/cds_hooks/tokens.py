"""Authenticating the EHR: the signed JWT every service call carries (CDS Hooks 2.0 §Security).

A token is accepted only if it is signed with an asymmetric algorithm (RSA,
RSA-PSS or ECDSA; ``none`` and every HMAC ``HS*`` are refused before any key is
looked at), by a key in the JWK Set of a trusted issuer, for this service's
audience, unexpired, with ``iat`` and ``jti``, and its ``jti`` was never seen
before. The replay cache is a port shared by every process (the database), so a
token captured once cannot be replayed against another worker.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
import orjson

from natalizumab_cds.application.cds_hooks import ReplayCache
from natalizumab_cds.interop.cds_hooks.errors import Unauthenticated
from natalizumab_cds.interop.cds_hooks.keys import ACCEPTED_ALGORITHMS, KeySets

REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
MAX_JTI_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called: the EHR (issuer), its client id (``sub``), the token's id and tenant."""

    issuer: str
    subject: str | None
    jti: str
    tenant: str | None = None


class TokenVerifier:
    def __init__(
        self,
        key_sets: KeySets,
        replay: ReplayCache,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        leeway_seconds: int = 60,
        max_lifetime_seconds: int = 3600,
    ) -> None:
        self.key_sets = key_sets
        self.replay = replay
        self.clock = clock
        self.leeway_seconds = leeway_seconds
        self.max_lifetime_seconds = max_lifetime_seconds

    async def verify(self, authorization: str | None, audiences: Sequence[str]) -> Caller:
        """The caller a valid ``Authorization: Bearer`` header names, else ``Unauthenticated``."""
        token = bearer_token(authorization)
        header, unverified = _peek(token)
        algorithm = header.get("alg")
        if algorithm not in ACCEPTED_ALGORITHMS:
            raise Unauthenticated(
                f"algorithm {algorithm!r} is not accepted; sign with one of "
                f"{', '.join(sorted(ACCEPTED_ALGORITHMS))}"
            )
        issuer = _unverified_issuer(unverified)
        if not self.key_sets.trusts(issuer):
            raise Unauthenticated(f"issuer {issuer!r} is not trusted by this service")
        kid = header.get("kid")
        key = await self.key_sets.key(issuer, kid if isinstance(kid, str) else None, algorithm)
        claims = self._decode(token, key, algorithm, issuer, audiences)
        jti = claims["jti"]
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
            raise Unauthenticated(
                f"the token's jti must be a string of 1-{MAX_JTI_LENGTH} characters"
            )
        now = self.clock()
        expires = self._expiry(claims["exp"], now)
        fresh = self.replay.first_use_at_once(issuer, jti, expires, now)
        if fresh is None:  # it would wait (a lock, the network): not on the event loop
            fresh = await asyncio.to_thread(self.replay.first_use, issuer, jti, expires, now)
        if not fresh:
            raise Unauthenticated(f"token {jti!r} was already used (replay refused)")
        subject, tenant = claims.get("sub"), claims.get("tenant")
        return Caller(
            issuer=issuer,
            subject=subject if isinstance(subject, str) else None,
            jti=jti,
            tenant=tenant if isinstance(tenant, str) else None,
        )

    def _expiry(self, exp: float, now: datetime) -> datetime:
        """When the replay cache may forget the token; a token valid for too long is refused.

        The replay cache can only forget a jti once its token has expired, so a
        far-future ``exp`` would make it grow without bound.
        """
        if exp - now.timestamp() > self.max_lifetime_seconds:
            raise Unauthenticated(
                f"the token is valid for more than {self.max_lifetime_seconds} s; "
                "issue short-lived tokens"
            )
        return datetime.fromtimestamp(exp, UTC)

    def _decode(
        self, token: str, key: jwt.PyJWK, algorithm: str, issuer: str, audiences: Sequence[str]
    ) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=list(audiences),
                issuer=issuer,
                leeway=self.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(
                f"the token's aud is not this service ({', '.join(audiences)})"
            ) from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(f"the token lacks the required claim {error.claim!r}") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("the token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is not valid ({error})") from None


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("no Authorization header; send 'Authorization: Bearer <JWT>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <JWT>'")
    return token.strip()


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims read before verification, only to choose the key.

    Nothing read here is trusted: ``_decode`` then verifies the whole token with
    PyJWT. The peek is a plain base64url + JSON read because PyJWT's own
    unverified reads check the token character by character in Python: two of
    them per call cost about half as much as the ES384 signature check itself.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("the bearer token is not a JWT")
    try:
        header, claims = (
            orjson.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in parts[:2]
        )
    except (ValueError, binascii.Error):
        raise Unauthenticated("the bearer token is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated("the bearer token is not a JWT")
    return header, claims


def _unverified_issuer(claims: dict[str, Any]) -> str:
    """``iss`` read before verification, only to choose whose keys verify the token."""
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise Unauthenticated("the token has no iss (issuer) claim")
    return issuer
