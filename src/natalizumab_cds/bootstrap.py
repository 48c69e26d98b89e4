"""The one place that wires settings, protocol, database and use cases together."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.exporting import PatientExports
from natalizumab_cds.application.importing import Progress
from natalizumab_cds.application.lab_feed import LabFeed
from natalizumab_cds.application.ports import Clock, Database
from natalizumab_cds.application.protocol_source import load_protocol_from, packaged_protocol
from natalizumab_cds.application.records import ImportReport
from natalizumab_cds.application.security.audited import AuditedDatabase
from natalizumab_cds.application.security.passwords import Passwords
from natalizumab_cds.application.security.permissions import Action, Principal, operator
from natalizumab_cds.application.security.service import Security, acting
from natalizumab_cds.application.security.signin import SessionPolicy
from natalizumab_cds.config import get_settings
from natalizumab_cds.domain.protocol import Protocol
from natalizumab_cds.interop.cds_hooks.fetch import FhirFetcher
from natalizumab_cds.interop.cds_hooks.keys import KeySets
from natalizumab_cds.interop.cds_hooks.service import CdsHooksService
from natalizumab_cds.interop.cds_hooks.tokens import TokenVerifier
from natalizumab_cds.interop.fhir.export import FhirExporter
from natalizumab_cds.interop.fhir.record_format import FhirRecordFormat
from natalizumab_cds.interop.fhir.synthetic import demo_clinic
from natalizumab_cds.interop.hl7v2 import Hl7Endpoint, OruReader
from natalizumab_cds.persistence import migrate
from natalizumab_cds.persistence.backup import BackupReport, backup_sqlite
from natalizumab_cds.persistence.cds_hooks_store import SqlFeedbackLog, SqlReplayCache
from natalizumab_cds.persistence.database import SqlDatabase
from natalizumab_cds.persistence.engine import database_engine
from natalizumab_cds.persistence.hl7_store import SqlLabFeedDatabase
from natalizumab_cds.persistence.security_store import SqlSecurityDatabase


@lru_cache(maxsize=1)
def active_protocol() -> Protocol:
    """The institution's protocol folder if configured, else the packaged default.

    Loaded and validated once; a broken file stops start-up with the entry named.
    """
    folder = get_settings().protocol_dir
    return load_protocol_from(folder) if folder else packaged_protocol()


def clinic_tz() -> ZoneInfo:
    return get_settings().tz


# -- the clinic service ------------------------------------------------------------

#: Same seed, same demo clinic (dated relative to the day it is created).
DEMO_SEED = 2026
DEMO_PATIENTS = 300


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def upgrade_database(database_url: str | None = None) -> None:
    """Apply the schema migrations to the configured (or given) database."""
    engine = database_engine(database_url or get_settings().database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def backup_database(database_url: str | None, destination: Path) -> BackupReport:
    """A checked copy of the configured (or given) SQLite database in a new file."""
    return backup_sqlite(database_url or get_settings().database_url, destination)


def clinic_service(
    database_url: str | None = None, *, clock: Clock | None = None, upgrade: bool = False
) -> Clinic:
    """The clinic's use cases over the configured database (migrated first if asked)."""
    engine = database_engine(database_url or get_settings().database_url)
    if upgrade:
        migrate.upgrade(engine)
    protocol = active_protocol()
    context = ClinicContext(
        FhirRecordFormat(protocol), protocol, clinic_tz(), clock or SystemClock()
    )
    return Clinic.build(SqlDatabase(engine), context)


def load_demo_clinic(
    clinic: Clinic,
    patients: int = DEMO_PATIENTS,
    seed: int = DEMO_SEED,
    on_progress: Progress | None = None,
) -> ImportReport | None:
    """Fill an empty clinic with synthetic patients dated up to now; None if not empty."""
    if clinic.patients.search(None, 1, 1).total:
        return None
    bundles = demo_clinic(patients, seed, clinic.context.now())
    sources = ((f"synthetic patient {index}", bundle) for index, bundle in enumerate(bundles))
    return clinic.importer.many(sources, on_progress)


def security_for(clinic: Clinic, *, passwords: Passwords | None = None) -> Security:
    """Accounts, sign-in, tokens and the audit trail on the clinic's database.

    Session limits and sign-in throttling come from the settings; ``passwords``
    lets tests use cheap argon2id parameters.
    """
    if not isinstance(clinic.database, SqlDatabase):
        raise TypeError("people and trust need the clinic's SQL database")
    settings = get_settings()
    policy = SessionPolicy(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_absolute_hours),
        window=timedelta(minutes=settings.sign_in_window_minutes),
        max_failures_per_user=settings.sign_in_max_failures_per_user,
        max_failures_per_client=settings.sign_in_max_failures_per_client,
    )
    database = SqlSecurityDatabase(clinic.database)
    return Security.build(database, clinic.context.clock, passwords, policy)


def operator_principal() -> Principal:
    """Whoever runs ``ntz`` on this server, as ``os:<login name>`` in the audit trail."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        user = "unknown"
    return operator(f"os:{user}")


def as_operator(clinic: Clinic, action: Action) -> Clinic:
    """The clinic for the operator at this server's command line, audited."""
    return acting(clinic, operator_principal(), action, checked=False)


def patient_exports(clinic: Clinic) -> PatientExports:
    """Exporting a patient's record and assessment (FHIR R4) from the clinic's database."""
    return PatientExports(clinic.database, clinic.context, FhirExporter())


# -- the HL7 v2 lab feed -------------------------------------------------------------

#: Who the audit trail names for results that arrive over MLLP.
MLLP_ACTOR = "hl7-mllp-listener"


def lab_feed(
    clinic: Clinic,
    actor: Principal | None = None,
    action: Action = Action.RECORD_LAB_RESULTS,
    on_changed: Callable[[Sequence[str]], object] | None = None,
) -> LabFeed:
    """Lab results (HL7 v2 ORU^R01) into the clinic's records, audited under ``actor``.

    ``clinic`` is the process's clinic (not a request's audited view); ``actor``
    defaults to the MLLP listener. Times without an offset are read in the
    clinic's time zone (settings). The summaries of the records a message
    changed are rebuilt by ``on_changed`` after the commit; by default at once,
    before the answer. The MLLP listener passes a function that does nothing:
    its parent process's ``SummaryCatchUp`` finds those summaries behind.
    """
    if not isinstance(clinic.database, SqlDatabase):
        raise TypeError("the lab feed needs the clinic's SQL database")
    who = actor or operator(MLLP_ACTOR)

    def audited(database: Database) -> Database:
        return AuditedDatabase(database, who, action, clinic.context.clock)

    database = SqlLabFeedDatabase(clinic.database, clinic.context, audited)
    return LabFeed(
        OruReader(clinic.context.tz),
        database,
        clock=clinic.context.now,
        on_changed=on_changed or clinic.worklist.refresh_records,
    )


def hl7_endpoint(
    clinic: Clinic,
    actor: Principal | None = None,
    on_changed: Callable[[Sequence[str]], object] | None = None,
) -> Hl7Endpoint:
    """The endpoint the MLLP listener and ``POST /hl7`` share (``on_changed``: see ``lab_feed``)."""
    limit = get_settings().max_message_bytes
    return Hl7Endpoint(lab_feed(clinic, actor, on_changed=on_changed), clinic.context.now, limit)


def cds_hooks_service(clinic: Clinic | None = None) -> CdsHooksService:
    """The CDS Hooks service: trusted EHRs from the settings, its ports on the clinic database.

    With ``clinic`` (the API's), the replay cache and the feedback log share its
    database engine; otherwise an engine for the configured database is made.
    """
    settings = get_settings()
    database = clinic.database if clinic is not None else None
    engine = (
        database.engine
        if isinstance(database, SqlDatabase)
        else database_engine(settings.database_url)
    )
    key_sets = KeySets(
        settings.cds_hooks_issuers,
        timeout_seconds=settings.fhir_fetch_timeout_seconds,
        max_age_seconds=settings.cds_hooks_jwks_max_age_seconds,
        min_refresh_seconds=settings.cds_hooks_jwks_min_refresh_seconds,
    )
    verifier = TokenVerifier(
        key_sets,
        SqlReplayCache(engine),
        leeway_seconds=settings.cds_hooks_clock_skew_seconds,
        max_lifetime_seconds=settings.cds_hooks_max_token_lifetime_seconds,
    )
    clock = clinic.context.now if clinic is not None else SystemClock().now
    return CdsHooksService(
        active_protocol(),
        clinic_tz(),
        verifier,
        FhirFetcher(
            settings.fhir_fetch_timeout_seconds, max_bytes=settings.cds_hooks_max_body_bytes
        ),
        SqlFeedbackLog(engine),
        clock=clock,
        audience=settings.cds_hooks_audience,
        max_body_bytes=settings.cds_hooks_max_body_bytes,
    )
