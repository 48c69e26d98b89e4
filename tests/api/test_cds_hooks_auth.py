"""CDS Hooks authentication over HTTP: only a fresh JWT signed by a trusted EHR gets in.

The test EHR's keys (RSA and EC P-384) are generated at test time and its JWK
Set is served on loopback; every refusal is a 401 problem document with a
``WWW-Authenticate: Bearer`` challenge, and no assessment is made.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.interop.cds_hooks.harness import Cds, running_cds
from tests.interop.cds_hooks.hooks import a_record, an_order_sign
from tests.interop.cds_hooks.signing import EhrKeys, hmac_token, unsigned_token


@pytest.fixture(scope="module")
def keys() -> EhrKeys:
    return EhrKeys()


@pytest.fixture(scope="module")
def cds(keys: EhrKeys) -> Iterator[Cds]:
    with running_cds(keys) as harness:
        yield harness


@pytest.fixture(scope="module")
def call() -> dict[str, Any]:
    return an_order_sign(a_record("pediatric"))


def public_pem(keys: EhrKeys) -> str:
    key, _ = keys.private["rsa-1"]
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def an_unknown_key_token(audience: str) -> str:
    stranger = EhrKeys()
    stranger.add_ec("ec-9")
    return stranger.token(audience, kid="ec-9")


def assert_refused(response: Any, because: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    problem = response.json()
    assert problem["status"] == 401
    assert because in problem["detail"]
    assert "cards" not in problem


@pytest.mark.parametrize(
    ("algorithm", "kid"),
    [("ES384", "ec-1"), ("RS384", "rsa-1"), ("RS256", "rsa-1"), ("PS256", "rsa-1")],
)
def test_a_token_signed_by_the_ehr_with_an_asymmetric_key_is_accepted(
    cds: Cds, call: dict[str, Any], algorithm: str, kid: str
) -> None:
    response = cds.call(call, token=cds.token(kid=kid, algorithm=algorithm))

    assert response.status_code == 200, response.text


def test_a_token_for_the_service_base_url_is_accepted_as_audience(
    cds: Cds, call: dict[str, Any]
) -> None:
    response = cds.call(call, token=cds.keys.token(cds.url))

    assert response.status_code == 200, response.text


TokenCase = Callable[[Cds, EhrKeys], str | None]
REFUSALS: dict[str, tuple[TokenCase, str]] = {
    "no token": (lambda cds, keys: None, "no Authorization header"),
    "not a JWT": (lambda cds, keys: "not-a-jwt", "not a JWT"),
    "wrong audience": (
        lambda cds, keys: keys.token("https://other-service.example.org/cds-services/x"),
        "aud is not this service",
    ),
    "expired": (lambda cds, keys: cds.token(lifetime=-120), "expired"),
    "alg none": (lambda cds, keys: unsigned_token(cds.service_url), "algorithm 'none'"),
    "HS256 with the public key as secret": (
        lambda cds, keys: hmac_token(cds.service_url, public_pem(keys)),
        "algorithm 'HS256'",
    ),
    "unknown issuer": (
        lambda cds, keys: cds.token(issuer="https://rogue.example.org"),
        "not trusted",
    ),
    "unknown issuer with a name outside ASCII": (
        lambda cds, keys: cds.token(issuer="https://ehr.exämple.org/\u202e\n"),
        "not trusted",
    ),
    "unknown key id": (lambda cds, keys: an_unknown_key_token(cds.service_url), "no key 'ec-9'"),
    "no jti": (lambda cds, keys: cds.token(drop=("jti",)), "'jti'"),
    "no iat": (lambda cds, keys: cds.token(drop=("iat",)), "'iat'"),
    "no exp": (lambda cds, keys: cds.token(drop=("exp",)), "'exp'"),
    "valid for a day": (lambda cds, keys: cds.token(lifetime=86_400), "valid for more than"),
    "no iss": (lambda cds, keys: cds.token(drop=("iss",)), "no iss"),
    "a header that is not JSON": (
        lambda cds, keys: _segments(b"hello", b'{"iss": "x"}', cds.token()),
        "not a JWT",
    ),
    "claims that are a JSON list": (
        lambda cds, keys: _segments(b'{"alg": "ES384", "kid": "ec-1"}', b"[1]", cds.token()),
        "not a JWT",
    ),
    "four segments": (lambda cds, keys: cds.token() + ".e30", "not a JWT"),
    # The key is chosen from an unverified read that skips characters outside
    # base64url; the verification that follows must still refuse them.
    "a character outside base64url in the claims": (
        lambda cds, keys: _spoiled(cds.token()),
        "not valid",
    ),
}


def _segments(header: bytes, claims: bytes, signed: str) -> str:
    """A token with this header and these claims, and another token's signature."""
    encode = lambda part: base64.urlsafe_b64encode(part).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(header)}.{encode(claims)}.{signed.rsplit('.', 1)[1]}"


def _spoiled(token: str) -> str:
    header, claims, signature = token.split(".")
    return f"{header}.{claims[:10]}!{claims[10:]}.{signature}"


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_call_without_a_valid_token_is_refused_with_401(
    cds: Cds, keys: EhrKeys, call: dict[str, Any], case: str
) -> None:
    make, because = REFUSALS[case]

    response = cds.call(call, token=make(cds, keys))

    assert_refused(response, because)


def test_a_replayed_token_is_refused(cds: Cds, call: dict[str, Any]) -> None:
    token = cds.token()

    first = cds.call(call, token=token)
    again = cds.call(call, token=token)

    assert first.status_code == 200
    assert_refused(again, "already used")


def test_a_token_signed_by_a_key_not_in_the_ehrs_key_set_is_refused(
    cds: Cds, call: dict[str, Any]
) -> None:
    impostor = EhrKeys()

    response = cds.call(call, token=impostor.token(cds.service_url))

    assert_refused(response, "signature does not verify")


def test_a_token_with_a_header_that_is_not_bearer_is_refused(
    cds: Cds, call: dict[str, Any]
) -> None:
    response = cds.client.post(
        cds.service_url, json=call, headers={"Authorization": f"Basic {cds.token()}"}
    )

    assert_refused(response, "must be 'Bearer <JWT>'")


def test_a_rotated_key_is_picked_up_from_the_ehrs_key_set(
    keys: EhrKeys, call: dict[str, Any]
) -> None:
    rotating = EhrKeys()
    with running_cds(rotating) as cds:
        assert cds.call(call).status_code == 200  # the key set is now cached
        rotating.add_ec("ec-2")
        rotating.drop("ec-1")

        response = cds.call(call, token=cds.token(kid="ec-2"))

    assert response.status_code == 200, response.text


def test_the_feedback_endpoint_needs_a_token_too(cds: Cds) -> None:
    body = {
        "feedback": [
            {"card": "x", "outcome": "accepted", "outcomeTimestamp": "2026-11-24T09:00:00Z"}
        ]
    }

    response = cds.send_feedback(body, token=None)

    assert_refused(response, "no Authorization header")
