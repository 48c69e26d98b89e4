"""The trusted EHRs' JWK Sets: fetched, cached, refreshed when a key rotates.

Each trusted issuer publishes its public keys as a JWK Set at a URL (or, for a
closed deployment, in a file) registered in the settings; the token's ``jku``
header is never followed, so a token cannot point at keys of its own choosing.
A set is kept for ``max_age`` seconds; a token naming a key id the cached set
lacks triggers one refetch (rotation), at most once per ``min_refresh``
seconds per issuer so that tokens with made-up key ids cannot flood the EHR.
If a refetch fails the cached set stays in use.

Keys are matched on ``kid``, ``use`` (sig), the key type the algorithm needs,
and the key's own ``alg`` when it declares one. Symmetric (``oct``) keys are
never used. This is the one module that knows the JWK Set format (CDS Hooks
3.0 keeps it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson

from natalizumab_cds.interop.cds_hooks.errors import Unauthenticated

#: Key type each accepted signature algorithm needs.
KEY_TYPES = {
    **{f"RS{bits}": "RSA" for bits in (256, 384, 512)},
    **{f"PS{bits}": "RSA" for bits in (256, 384, 512)},
    **{f"ES{bits}": "EC" for bits in (256, 384, 512)},
}
ACCEPTED_ALGORITHMS = frozenset(KEY_TYPES)


@dataclass(frozen=True, slots=True)
class _Cached:
    fetched_at: float
    keys: tuple[Mapping[str, Any], ...]
    #: (kid, alg) → the key built from this set (built once, not per token); None = no key
    picked: dict[tuple[str | None, str], jwt.PyJWK | None] = field(default_factory=dict)

    def pick(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        if (kid, algorithm) not in self.picked:
            self.picked[kid, algorithm] = _pick(self.keys, kid, algorithm)
        return self.picked[kid, algorithm]


class KeySets:
    def __init__(
        self,
        sources: Mapping[str, str],
        timeout_seconds: float = 3.0,
        max_age_seconds: float = 3600.0,
        min_refresh_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sources = dict(sources)
        self.timeout_seconds = timeout_seconds
        self.max_age_seconds = max_age_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._monotonic = monotonic
        self._cache: dict[str, _Cached] = {}

    def trusts(self, issuer: str) -> bool:
        return issuer in self.sources

    async def key(self, issuer: str, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The issuer's public key for a token's ``kid`` and ``alg``, or ``Unauthenticated``."""
        cached = self._cache.get(issuer)
        if cached is None or self._age(cached) >= self.max_age_seconds:
            cached = await self._refresh(issuer, cached)
        key = cached.pick(kid, algorithm)
        if key is None and self._age(cached) >= self.min_refresh_seconds:
            cached = await self._refresh(issuer, cached)  # the EHR may have rotated its keys
            key = cached.pick(kid, algorithm)
        if key is None:
            named = f"key {kid!r}" if kid else "a single key (the token has no kid)"
            raise Unauthenticated(f"the JWK Set of issuer {issuer} has no {named} for {algorithm}")
        return key

    def _age(self, cached: _Cached) -> float:
        return self._monotonic() - cached.fetched_at

    async def _refresh(self, issuer: str, previous: _Cached | None) -> _Cached:
        try:
            keys = await self._load(self.sources[issuer])
        except Unauthenticated:
            if previous is not None:
                return previous
            raise
        cached = _Cached(self._monotonic(), keys)
        self._cache[issuer] = cached
        return cached

    async def _load(self, source: str) -> tuple[Mapping[str, Any], ...]:
        try:
            if source.startswith(("https://", "http://")):
                async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                    response = await client.get(source, headers={"Accept": "application/json"})
                    response.raise_for_status()
                    raw = response.content
            else:
                raw = Path(source.removeprefix("file://")).read_bytes()
            data = orjson.loads(raw)
        except (httpx.HTTPError, OSError, orjson.JSONDecodeError) as error:
            raise Unauthenticated(
                f"the JWK Set at {source} cannot be loaded ({type(error).__name__})"
            ) from None
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, list):
            raise Unauthenticated(f"the JWK Set at {source} has no 'keys' list")
        return tuple(key for key in keys if isinstance(key, dict))


def _pick(keys: tuple[Mapping[str, Any], ...], kid: str | None, algorithm: str) -> jwt.PyJWK | None:
    candidates = [
        key
        for key in keys
        if key.get("kty") == KEY_TYPES[algorithm]
        and key.get("use", "sig") == "sig"
        and key.get("alg", algorithm) == algorithm
        and (kid is None or key.get("kid") == kid)
    ]
    if len(candidates) != 1:
        return None  # none, or several with no kid to tell them apart
    try:
        return jwt.PyJWK(dict(candidates[0]), algorithm=algorithm)
    except jwt.PyJWTError:
        return None
