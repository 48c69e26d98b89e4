"""A test EHR's signing keys (generated at test time) and the JWTs it sends.

``EhrKeys`` holds an RSA and an EC P-384 key pair under key ids; ``jwks()`` is
the public JWK Set the EHR publishes, ``token()`` a CDS Hooks authentication
JWT with sensible defaults that a test overrides claim by claim.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://ehr.example.org"
CLIENT_ID = "ehr-cds-client"
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class EhrKeys:
    def __init__(self) -> None:
        self.private: dict[str, tuple[SigningKey, str]] = {}
        self.add_rsa("rsa-1")
        self.add_ec("ec-1")

    def add_rsa(self, kid: str) -> None:
        self.private[kid] = (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA")

    def add_ec(self, kid: str) -> None:
        self.private[kid] = (ec.generate_private_key(ec.SECP384R1()), "EC")

    def drop(self, kid: str) -> None:
        del self.private[kid]

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, (key, _) in self.private.items():
            public_key = key.public_key()
            text = (
                RSAAlgorithm.to_jwk(public_key)
                if isinstance(public_key, rsa.RSAPublicKey)
                else ECAlgorithm.to_jwk(public_key)
            )
            public = json.loads(text)
            keys.append({**public, "kid": kid, "use": "sig"})
        return {"keys": keys}

    def token(
        self,
        audience: str | list[str],
        *,
        kid: str = "ec-1",
        algorithm: str | None = None,
        issuer: str = ISSUER,
        lifetime: int = 300,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        key, kty = self.private[kid]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer,
            "sub": CLIENT_ID,
            "aud": audience,
            "exp": now + lifetime,
            "iat": now,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        for claim in drop:
            payload.pop(claim, None)
        chosen = algorithm or ("ES384" if kty == "EC" else "RS384")
        return jwt.encode(payload, key, algorithm=chosen, headers={"kid": kid})


def unsigned_token(audience: str) -> str:
    """A token with ``alg: none`` (no signature at all)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]


def hmac_token(audience: str, secret: str) -> str:
    """A token signed with HS256 using ``secret`` (e.g. the EHR's public key text).

    Built by hand: PyJWT itself refuses to use a PEM key as an HMAC secret, which
    is exactly the key-confusion attack the service must also refuse.
    """
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "exp": now + 300,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
