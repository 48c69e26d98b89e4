"""The EHR's key sets and tokens, below HTTP: caching, rotation, refusals, replay."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from natalizumab_cds.interop.cds_hooks.errors import Unauthenticated
from natalizumab_cds.interop.cds_hooks.keys import KeySets
from natalizumab_cds.interop.cds_hooks.tokens import TokenVerifier, bearer_token
from tests.interop.cds_hooks.fakes import MemoryReplayCache
from tests.interop.cds_hooks.harness import jwks_endpoint
from tests.interop.cds_hooks.signing import ISSUER, EhrKeys

AUDIENCE = "https://ntz.example.org"


@pytest.fixture(scope="module")
def keys() -> EhrKeys:
    return EhrKeys()


class Ticking:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_key_set_is_fetched_once_and_reused_while_fresh(keys: EhrKeys) -> None:
    with jwks_endpoint(keys) as server:
        key_sets = KeySets({ISSUER: server.url})

        first = asyncio.run(key_sets.key(ISSUER, "ec-1", "ES384"))
        second = asyncio.run(key_sets.key(ISSUER, "rsa-1", "RS384"))

    assert isinstance(first, jwt.PyJWK)
    assert second.key_type == "RSA"
    assert len(server.requests) == 1


def test_an_unknown_key_id_refetches_the_set_but_not_more_than_once_per_interval() -> None:
    rotating = EhrKeys()
    clock = Ticking()
    with jwks_endpoint(rotating) as server:
        key_sets = KeySets({ISSUER: server.url}, min_refresh_seconds=5.0, monotonic=clock)
        asyncio.run(key_sets.key(ISSUER, "ec-1", "ES384"))
        rotating.add_ec("ec-2")

        with pytest.raises(Unauthenticated, match="no key 'ec-2'"):
            asyncio.run(key_sets.key(ISSUER, "ec-2", "ES384"))  # too soon to refetch
        clock.now += 5.0
        rotated = asyncio.run(key_sets.key(ISSUER, "ec-2", "ES384"))

    assert rotated.key_id == "ec-2"
    assert len(server.requests) == 2


def test_a_stale_key_set_is_refetched_and_kept_if_the_ehr_is_down(keys: EhrKeys) -> None:
    clock = Ticking()
    with jwks_endpoint(keys) as server:
        key_sets = KeySets({ISSUER: server.url}, max_age_seconds=60, monotonic=clock)
        asyncio.run(key_sets.key(ISSUER, "ec-1", "ES384"))
    clock.now += 61  # the EHR's key endpoint is gone now

    key = asyncio.run(key_sets.key(ISSUER, "ec-1", "ES384"))

    assert key.key_id == "ec-1"


def test_a_key_set_that_cannot_be_loaded_at_all_refuses_the_token() -> None:
    key_sets = KeySets({ISSUER: "http://127.0.0.1:9/jwks.json"}, timeout_seconds=0.5)

    with pytest.raises(Unauthenticated, match="cannot be loaded"):
        asyncio.run(key_sets.key(ISSUER, "ec-1", "ES384"))


def test_a_key_set_can_be_registered_as_a_file(keys: EhrKeys, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks()))

    key = asyncio.run(KeySets({ISSUER: str(path)}).key(ISSUER, "rsa-1", "PS384"))

    assert key.key_id == "rsa-1"


def test_a_key_is_never_used_with_an_algorithm_its_type_or_alg_forbids(
    keys: EhrKeys, tmp_path: Path
) -> None:
    jwks = keys.jwks()
    jwks["keys"][0]["alg"] = "RS256"  # rsa-1 declares RS256 only
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    key_sets = KeySets({ISSUER: str(path)}, min_refresh_seconds=0)

    with pytest.raises(Unauthenticated):
        asyncio.run(key_sets.key(ISSUER, "rsa-1", "RS384"))
    with pytest.raises(Unauthenticated):
        asyncio.run(key_sets.key(ISSUER, "ec-1", "RS256"))  # an EC key for an RSA algorithm
    assert asyncio.run(key_sets.key(ISSUER, "rsa-1", "RS256")).key_id == "rsa-1"


def test_a_token_without_kid_is_verified_when_the_issuer_has_one_key_of_that_type(
    keys: EhrKeys, tmp_path: Path
) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks()))

    key = asyncio.run(KeySets({ISSUER: str(path)}).key(ISSUER, None, "ES384"))

    assert key.key_id == "ec-1"


def a_verifier(keys: EhrKeys, tmp_path: Path, replay: MemoryReplayCache) -> TokenVerifier:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks()))
    return TokenVerifier(KeySets({ISSUER: str(path)}), replay)


def test_a_verified_token_names_the_ehr_its_client_and_tenant(
    keys: EhrKeys, tmp_path: Path
) -> None:
    verifier = a_verifier(keys, tmp_path, MemoryReplayCache())
    token = keys.token(AUDIENCE, tenant="clinic-a")

    caller = asyncio.run(verifier.verify(f"Bearer {token}", [AUDIENCE]))

    assert caller.issuer == ISSUER
    assert caller.subject == "ehr-cds-client"
    assert caller.tenant == "clinic-a"


def test_the_replay_cache_remembers_a_token_until_it_expires(keys: EhrKeys, tmp_path: Path) -> None:
    replay = MemoryReplayCache()
    verifier = a_verifier(keys, tmp_path, replay)
    token = keys.token(AUDIENCE, lifetime=120)

    caller = asyncio.run(verifier.verify(f"Bearer {token}", [AUDIENCE]))

    expires = replay.seen[(ISSUER, caller.jti)]
    assert timedelta(seconds=100) < expires - datetime.now(UTC) <= timedelta(seconds=120)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer   ", "Token abc", "bearer"])
def test_an_authorization_header_without_a_bearer_token_is_refused(header: str) -> None:
    with pytest.raises(Unauthenticated):
        bearer_token(header)
