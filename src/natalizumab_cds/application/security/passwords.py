"""Passwords: argon2id hashes, a minimum policy, and random passwords for the demo.

argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id,
64 MiB, 3 passes). Tests pass cheaper parameters; stored hashes carry their
own parameters, so raising the cost later re-hashes each password at its
owner's next sign-in (``needs_rehash``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from natalizumab_cds.application.security.errors import AccountError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 accepts more, but nobody types this much: refuse absurd input early


@dataclass(frozen=True, slots=True)
class Cost:
    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


#: Cheap parameters for tests only (still argon2id).
TEST_COST = Cost(time_cost=1, memory_kib=8, parallelism=1)


class Passwords:
    def __init__(self, cost: Cost = Cost()) -> None:
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
        # Verified when the username is unknown, so both answers take as long.
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        if len(password) > MAX_LENGTH:
            return False
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def check_policy(username: str, password: str) -> None:
    """Raises ``AccountError`` for a password too short, too long, or equal to the username."""
    if len(password) < MIN_LENGTH:
        raise AccountError(f"password: must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise AccountError(f"password: must have at most {MAX_LENGTH} characters")
    if password.strip().casefold() == username.casefold():
        raise AccountError("password: must not be the username")


def random_password() -> str:
    """A fresh random password (about 130 bits), for demo accounts."""
    return secrets.token_urlsafe(16)
