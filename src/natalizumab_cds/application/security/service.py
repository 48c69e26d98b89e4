"""People and trust in one object, built once by bootstrap, and the clinic as someone acts in it.

``acting(clinic, principal, action)`` is how every entry point reaches the
clinic's use cases on someone's behalf: the permission table is asked first,
and the returned clinic's database records every read and change in the audit
trail under that principal and action.
"""

from __future__ import annotations

from dataclasses import dataclass

from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.ports import Clock
from natalizumab_cds.application.security.accounts import Accounts
from natalizumab_cds.application.security.audit_verify import AuditTrailQueries
from natalizumab_cds.application.security.audited import AuditedDatabase
from natalizumab_cds.application.security.passwords import Passwords, random_password
from natalizumab_cds.application.security.permissions import Action, Principal, Role
from natalizumab_cds.application.security.ports import SecurityDatabase
from natalizumab_cds.application.security.signin import SessionPolicy, SignIn


@dataclass(frozen=True, slots=True)
class Security:
    sign_in: SignIn
    accounts: Accounts
    audit: AuditTrailQueries

    @classmethod
    def build(
        cls,
        database: SecurityDatabase,
        clock: Clock,
        passwords: Passwords | None = None,
        policy: SessionPolicy | None = None,
    ) -> Security:
        hasher = passwords or Passwords()
        return cls(
            sign_in=SignIn(database, hasher, clock, policy or SessionPolicy()),
            accounts=Accounts(database, hasher, clock),
            audit=AuditTrailQueries(database, clock),
        )


def acting(clinic: Clinic, principal: Principal, action: Action, *, checked: bool = True) -> Clinic:
    """The clinic's use cases for ``principal`` taking ``action``, audited.

    Raises ``Forbidden`` if the role may not take the action. ``checked=False``
    is for the operator at the server's command line, who holds the database
    anyway: the table is not asked, but the trail still records what was done.
    """
    if checked:
        principal.require(action)
    audited = AuditedDatabase(clinic.database, principal, action, clinic.context.clock)
    return Clinic.build(audited, clinic.context)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    password: str


def create_demo_accounts(security: Security, admin: Principal) -> list[DemoAccount]:
    """One account per role with a random password, for the demo clinic only.

    Accounts that already exist are left alone (and not listed): a demo restarted
    on the same database keeps the passwords printed the first time.
    """
    existing = {account.username for account in security.accounts.listed(admin)}
    created = []
    for role in Role:
        username = f"demo-{role.value}"
        if username in existing:
            continue
        password = random_password()
        security.accounts.add(admin, username, role, password)
        created.append(DemoAccount(username, role, password))
    return created
