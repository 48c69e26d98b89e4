"""Who may do what: the one permission table, Role × Action → allowed.

Every entry point (REST route, web form, command) names the ``Action`` it
performs and asks ``require`` before calling a use case; the audit trail
records the same action word. A role not listed for an action is refused.
docs/security.md prints this table; a test walks every cell of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from natalizumab_cds.application.security.errors import Forbidden


class Role(StrEnum):
    PHYSICIAN = "physician"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    ADMINISTRATOR = "administrator"
    READ_ONLY = "read-only"


class Action(StrEnum):
    READ_PATIENT = "read-patient-record"
    READ_WORKLIST = "read-worklist"
    IMPORT_RECORDS = "import-records"
    RECORD_LAB_RESULTS = "record-lab-results"
    RECORD_CLINICAL_RESULTS = "record-clinical-results"  # antibody test, MRI read, relapse
    RESOLVE_LAB_MESSAGES = "resolve-lab-messages"
    RECORD_SCREENING = "record-screening"
    # answer "no" where this visit's screening said "yes" to neurological
    # symptoms or active infection (a hold that needs a physician's evaluation)
    WITHDRAW_SCREENING_HOLD = "withdraw-screening-hold"
    RECORD_ADMINISTRATION = "record-administration"
    RECORD_OBSERVATION = "record-observation"
    RECORD_REACTION = "record-reaction"
    PREPARE_INFUSION = "prepare-infusion"
    CHECK_PREPARATION = "check-preparation"
    ACKNOWLEDGE_CAUTION = "acknowledge-caution"
    OVERRIDE_FINDING = "override-finding"
    EXPORT_FHIR = "export-fhir"
    SEND_CDS_FEEDBACK = "send-cds-feedback"
    MANAGE_USERS = "manage-users"
    READ_AUDIT = "read-audit"
    VERIFY_AUDIT = "verify-audit"


_CLINICIANS = frozenset({Role.PHYSICIAN, Role.NURSE})
_CARE_TEAM = frozenset({Role.PHYSICIAN, Role.NURSE, Role.PHARMACIST})
_READERS = _CARE_TEAM | {Role.READ_ONLY}
_ADMIN = frozenset({Role.ADMINISTRATOR})

#: Action → the roles allowed to take it. Everything else is refused.
ALLOWED: Mapping[Action, frozenset[Role]] = {
    Action.READ_PATIENT: _READERS,
    Action.READ_WORKLIST: _READERS,
    Action.IMPORT_RECORDS: _CLINICIANS | _ADMIN,  # administrators run bulk loads
    Action.RECORD_LAB_RESULTS: _CLINICIANS,
    Action.RECORD_CLINICAL_RESULTS: _CLINICIANS,
    Action.RESOLVE_LAB_MESSAGES: _CLINICIANS,  # dead letters hold patient data
    Action.RECORD_SCREENING: _CLINICIANS,
    Action.WITHDRAW_SCREENING_HOLD: frozenset({Role.PHYSICIAN}),
    Action.RECORD_ADMINISTRATION: _CLINICIANS,
    Action.RECORD_OBSERVATION: _CLINICIANS,
    Action.RECORD_REACTION: _CLINICIANS,
    Action.PREPARE_INFUSION: frozenset({Role.PHARMACIST}),
    # A second person; the infusion domain refuses the one who prepared the bag.
    Action.CHECK_PREPARATION: frozenset({Role.PHARMACIST, Role.NURSE}),
    Action.ACKNOWLEDGE_CAUTION: _CLINICIANS,
    Action.OVERRIDE_FINDING: frozenset({Role.PHYSICIAN}),
    Action.EXPORT_FHIR: _CLINICIANS,
    Action.SEND_CDS_FEEDBACK: _CARE_TEAM,
    Action.MANAGE_USERS: _ADMIN,
    Action.READ_AUDIT: _ADMIN,
    Action.VERIFY_AUDIT: _ADMIN,
}


def allowed(role: Role, action: Action) -> bool:
    return role in ALLOWED[action]


class Credential(StrEnum):
    """How a principal proved who they are."""

    SESSION = "session"
    TOKEN = "token"
    COMMAND_LINE = "command-line"
    CO_SIGNATURE = "co-signature"  # a second person's password at someone else's session


@dataclass(frozen=True, slots=True)
class Principal:
    """Someone (a person, or a system holding an API token) acting in the clinic."""

    user_id: int
    username: str
    role: Role
    credential: Credential = Credential.SESSION

    def may(self, action: Action) -> bool:
        return allowed(self.role, action)

    def require(self, action: Action) -> None:
        """Raises ``Forbidden`` naming the action unless the role allows it."""
        if not self.may(action):
            raise Forbidden(self.username, self.role.value, action.value)


#: Who acts when an operator runs ``ntz`` on the server itself (has shell access).
def operator(username: str = "ntz-operator") -> Principal:
    return Principal(0, username, Role.ADMINISTRATOR, Credential.COMMAND_LINE)
