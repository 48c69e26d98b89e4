"""``ntz visit …``: an infusion day from the terminal, one command per step.

Each command is one step on the clinic database, audited as the operator at
this server; ``--by`` names the clinician who took it (for a screening that
takes back a holding "yes", an active physician account: the role is that
account's). A step a rule refuses
prints ``refused (rule.id): reason`` on stderr and exits 1; a visit changed by
someone else meanwhile prints ``conflict: …`` and exits 1; invalid input exits
2 (as every ``ntz`` command). Screening answers have no defaults: each must be
given, yes or no.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

import orjson
import typer

from natalizumab_cds import bootstrap
from natalizumab_cds.api.visit_schemas import VisitOut
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.infusion_day import InfusionDay
from natalizumab_cds.application.screening_holds import Screener
from natalizumab_cds.application.security.permissions import Action, Credential, Principal
from natalizumab_cds.application.visit_view import VisitView
from natalizumab_cds.application.visits import (
    Bag,
    PumpSetting,
    ReactionReport,
    ScreeningAnswers,
    VisitConflict,
)
from natalizumab_cds.cli.app import app
from natalizumab_cds.cli.database import DatabaseUrl
from natalizumab_cds.cli.moments import parse_at
from natalizumab_cds.cli.visit_text import render_refusal, render_visit
from natalizumab_cds.domain.errors import InvalidInput, WorkflowRefused
from natalizumab_cds.domain.infusion_events import Method, ReactionSeverity, Symptom
from natalizumab_cds.domain.preparation import Storage

visit_app = typer.Typer(help="Infusion day: screen, clear, prepare, infuse, observe.")
app.add_typer(visit_app, name="visit", no_args_is_help=True)


class YesNo(StrEnum):
    YES = "yes"
    NO = "no"


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


VisitId = Annotated[str, typer.Argument(help="The visit id (ntz visit open prints it)")]
By = Annotated[str | None, typer.Option("--by", help="Who takes the step (default: you)")]
At = Annotated[
    str | None, typer.Option(help="When it happened, if not now (ISO 8601; no offset = UTC)")
]


@contextmanager
def _infusion_day(database_url: str | None, action: Action) -> Iterator[tuple[Clinic, InfusionDay]]:
    clinic = bootstrap.clinic_service(database_url, upgrade=True)
    try:
        yield clinic, bootstrap.as_operator(clinic, action).infusion_day
    finally:
        clinic.database.close()


def _step(
    database_url: str | None, action: Action, work: Callable[[InfusionDay], VisitView]
) -> None:
    """Run one step and print the visit, or print why it was refused and exit 1."""
    _step_in(database_url, action, lambda _, day: work(day))


def _step_in(
    database_url: str | None,
    action: Action,
    work: Callable[[Clinic, InfusionDay], VisitView],
) -> None:
    """``_step`` for a step that also needs the clinic (e.g. to look an account up)."""
    with _infusion_day(database_url, action) as (clinic, day):
        try:
            view = work(clinic, day)
        except WorkflowRefused as refusal:
            sys.stderr.write(render_refusal(refusal))
            raise typer.Exit(1) from None
        except VisitConflict as conflict:
            sys.stderr.write(f"conflict: {conflict}\n")
            raise typer.Exit(1) from None
        sys.stdout.write(render_visit(view, clinic.context.tz))


def _by(given: str | None) -> str:
    return given or bootstrap.operator_principal().username


def _screener(clinic: Clinic, given: str | None) -> Screener:
    """Who screens: the active account ``--by`` names, with its role; else just the name.

    Only a physician may take back a screening "yes" that holds the infusion, so
    the role is that of the account on file, never assumed; a name with no
    active account (or the operator, without ``--by``) takes back no hold.
    """
    if not given:
        return bootstrap.operator_principal()
    accounts = bootstrap.security_for(clinic).accounts.listed(bootstrap.operator_principal())
    for account in accounts:
        if account.username == given.strip() and account.active:
            return Principal(account.id, account.username, account.role, Credential.COMMAND_LINE)
    return given


@visit_app.command("open")
def open_visit(
    patient: Annotated[str, typer.Argument(help="The patient id")],
    database_url: DatabaseUrl = None,
) -> None:
    """Open today's visit for a patient (refused while another visit is under way)."""
    _step(database_url, Action.RECORD_SCREENING, lambda day: day.open(patient))


@visit_app.command("show")
def show(
    visit: VisitId,
    format: Annotated[Format, typer.Option("--format")] = Format.TEXT,
    database_url: DatabaseUrl = None,
) -> None:
    """The visit now: its steps, the bag's clocks, observation left, what may come next."""
    with _infusion_day(database_url, Action.READ_PATIENT) as (clinic, day):
        view = day.show(visit)
    if format is Format.JSON:
        out = VisitOut.of(view).model_dump(mode="json")
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_visit(view, clinic.context.tz))


@visit_app.command("screen")
def screen(
    visit: VisitId,
    neuro: Annotated[YesNo, typer.Option("--neuro", help="New or worsening neurological symptoms")],
    infection: Annotated[YesNo, typer.Option("--infection", help="Active infection")],
    pregnant: Annotated[YesNo, typer.Option("--pregnant")],
    breastfeeding: Annotated[YesNo, typer.Option("--breastfeeding")],
    new_medicines: Annotated[
        str, typer.Option("--new-medicines", help="'no', or the new medicines' names")
    ],
    by: By = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Record the screening answers (they go into the record for the assessment).

    Answering no where this visit's screening said yes to neurological symptoms
    or an active infection takes back a hold: --by must name an active
    physician account.
    """
    medicines = new_medicines.strip()
    answers = ScreeningAnswers(
        neurological_symptoms=neuro is YesNo.YES,
        active_infection=infection is YesNo.YES,
        pregnant=pregnant is YesNo.YES,
        breastfeeding=breastfeeding is YesNo.YES,
        new_medicines=medicines.lower() != "no",
        new_medicines_detail="" if medicines.lower() == "no" else medicines,
    )
    _step_in(
        database_url,
        Action.RECORD_SCREENING,
        lambda clinic, day: day.screen(visit, _screener(clinic, by), answers),
    )


@visit_app.command("clear")
def clear(
    visit: VisitId,
    acknowledge: Annotated[
        bool, typer.Option("--acknowledge", help="Acknowledge a caution decision")
    ] = False,
    medicines_reviewed: Annotated[
        bool,
        typer.Option(
            "--medicines-reviewed",
            help="The new medicines named at the screening were reviewed against the "
            "prohibited list",
        ),
    ] = False,
    by: By = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Clear the patient on the assessment run now (proceed, or caution acknowledged)."""
    action = Action.ACKNOWLEDGE_CAUTION if acknowledge else Action.RECORD_SCREENING
    _step(
        database_url,
        action,
        lambda day: day.clear(visit, _by(by), acknowledge, medicines_reviewed=medicines_reviewed),
    )


@visit_app.command("prepare")
def prepare(
    visit: VisitId,
    lot: Annotated[str, typer.Option("--lot", help="Vial lot number")],
    expiry: Annotated[str, typer.Option("--expiry", help="Vial expiry date, YYYY-MM-DD")],
    diluted_at: Annotated[str, typer.Option("--diluted-at", help="ISO 8601 (no offset = UTC)")],
    prepared_by: Annotated[str, typer.Option("--prepared-by")],
    checked_by: Annotated[str, typer.Option("--checked-by", help="The second person")],
    dose: Annotated[float, typer.Option("--dose", help="mg")] = 300,
    diluent: Annotated[str, typer.Option("--diluent")] = "0.9% sodium chloride",
    volume: Annotated[float, typer.Option("--volume", help="mL")] = 100,
    stored: Annotated[Storage, typer.Option("--stored", help="Where the bag went")] = (
        Storage.ROOM_TEMPERATURE
    ),
    checked_at: At = None,
    frozen: Annotated[bool, typer.Option("--frozen")] = False,
    shaken: Annotated[bool, typer.Option("--shaken")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Record the diluted bag and its double check (replaces an unused earlier bag)."""
    try:
        vial_expiry = date.fromisoformat(expiry)
    except ValueError:
        raise InvalidInput(f"--expiry: {expiry!r} is not a date (YYYY-MM-DD)") from None
    bag = Bag(
        vial_lot=lot,
        vial_expiry=vial_expiry,
        dose_mg=dose,
        diluent=diluent,
        volume_ml=volume,
        diluted_at=parse_at(diluted_at),
        prepared_by=prepared_by,
        checked_by=checked_by,
        location=stored,
        checked_at=parse_at(checked_at) if checked_at else None,
        frozen=frozen,
        shaken=shaken,
    )
    _step(database_url, Action.PREPARE_INFUSION, lambda day: day.prepare(visit, bag))


@visit_app.command("move")
def move(
    visit: VisitId,
    to: Annotated[Storage, typer.Option("--to", help="refrigerator or room-temperature")],
    at: At = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The bag went into the refrigerator, or out to room temperature."""
    moment = parse_at(at) if at else None
    _step(database_url, Action.CHECK_PREPARATION, lambda day: day.move(visit, to, moment))


@visit_app.command("start")
def start(
    visit: VisitId,
    rate: Annotated[float | None, typer.Option("--rate", help="mL/h")] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Planned, in minutes")
    ] = None,
    method: Annotated[Method, typer.Option("--method")] = Method.INFUSION,
    found_frozen: Annotated[bool, typer.Option("--found-frozen")] = False,
    found_shaken: Annotated[bool, typer.Option("--found-shaken")] = False,
    by: By = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Start the infusion (the assessment is run again now)."""
    pump = PumpSetting(
        rate_ml_per_hour=rate,
        planned_duration=None if duration is None else timedelta(minutes=duration),
        method=method,
        found_frozen=found_frozen,
        found_shaken=found_shaken,
    )
    _step(database_url, Action.RECORD_ADMINISTRATION, lambda day: day.start(visit, _by(by), pump))


@visit_app.command("end")
def end(visit: VisitId, at: At = None, by: By = None, database_url: DatabaseUrl = None) -> None:
    """The infusion ended (it goes into the record as a completed administration)."""
    moment = parse_at(at) if at else None
    _step(database_url, Action.RECORD_ADMINISTRATION, lambda day: day.end(visit, _by(by), moment))


@visit_app.command("react")
def react(
    visit: VisitId,
    symptom: Annotated[list[Symptom], typer.Option("--symptom", help="Repeat for each")],
    severity: Annotated[ReactionSeverity, typer.Option("--severity")],
    treatment: Annotated[str, typer.Option("--treatment", help="Emergency treatment given")],
    description: Annotated[str, typer.Option("--description", help="Needed for 'other'")] = "",
    at: At = None,
    by: By = None,
    database_url: DatabaseUrl = None,
) -> None:
    """A reaction: the infusion stops and natalizumab goes into the patient's allergies."""
    report = ReactionReport(
        symptoms=frozenset(symptom),
        severity=severity,
        treatment=treatment,
        description=description,
        at=parse_at(at) if at else None,
    )
    _step(database_url, Action.RECORD_REACTION, lambda day: day.react(visit, _by(by), report))


@visit_app.command("discharge")
def discharge(
    visit: VisitId, at: At = None, by: By = None, database_url: DatabaseUrl = None
) -> None:
    """Discharge the patient after the observation period."""
    moment = parse_at(at) if at else None
    _step(
        database_url,
        Action.RECORD_OBSERVATION,
        lambda day: day.discharge(visit, _by(by), moment),
    )


@visit_app.command("cancel")
def cancel(
    visit: VisitId,
    reason: Annotated[str, typer.Option("--reason")],
    by: By = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Call the visit off before the infusion starts."""
    _step(database_url, Action.RECORD_SCREENING, lambda day: day.cancel(visit, _by(by), reason))
