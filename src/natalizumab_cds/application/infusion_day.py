"""Infusion day: open a visit, then screen, clear, prepare, infuse, observe, discharge.

Each use case is one transaction (``visit_steps.StepRunner``): the domain step
(``domain/infusion.py``) decides, at the clinic clock's "now", whether the step
is allowed; a refusal raises ``WorkflowRefused(rule, reason)`` and leaves the
visit and the patient's record as they were. What a step adds to the record
goes in through the same writer as an import, in the same transaction:

- screening: the answers as observations, so the assessment sees them; a
  "yes" that holds the infusion (neurological symptoms, active infection) is
  taken back only by a physician (``screening_holds``);
- clearance and start: the assessment is run at that moment (an acknowledged
  caution is kept in the record as an acknowledgement); new medicines named at
  the screening must be reviewed, and never be a prohibited one
  (``domain/screening_medicines.py``);
- start, end, reaction: the natalizumab MedicationAdministration (in progress,
  completed, stopped); the next assessment's dosing rules count a completed one;
- reaction: the allergy to natalizumab, so ``hypersensitivity.prior-reaction``
  fires from then on.

``expected_version`` is the version of the visit the clinician saw; when given,
a visit changed since then is refused with ``VisitConflict``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import uuid4

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.errors import UnknownPatient
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.recording import with_retries
from natalizumab_cds.application.records import PatientEntry
from natalizumab_cds.application.screening_holds import (
    Screener,
    check_withdrawals,
    screener_name,
)
from natalizumab_cds.application.visit_steps import (
    StepRunner,
    StepScope,
    acknowledgement,
    checked,
)
from natalizumab_cds.application.visit_view import VisitView, view_of
from natalizumab_cds.application.visits import (
    Bag,
    PumpSetting,
    ReactionReport,
    ScreeningAnswers,
    UnknownVisit,
)
from natalizumab_cds.domain import infusion
from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.infusion_events import (
    Cancellation,
    Clearance,
    Discharge,
    InfusionEnd,
    InfusionStart,
    Reaction,
    Screening,
    stamp,
)
from natalizumab_cds.domain.infusion_rules import WORKFLOW_OUT_OF_ORDER
from natalizumab_cds.domain.infusion_visit import Visit, VisitState
from natalizumab_cds.domain.preparation import Preparation, Storage, StorageMove
from natalizumab_cds.domain.screening_medicines import check_new_medicines

#: States in which a visit is over; a patient has at most one visit not in them.
FINISHED = frozenset({VisitState.DISCHARGED, VisitState.CANCELLED})


class InfusionDay:
    def __init__(self, database: Database, context: ClinicContext) -> None:
        self._database = database
        self._context = context
        self._format = context.format
        self._runner = StepRunner(database, context)

    def open(self, patient_id: str) -> VisitView:
        """A new visit for a patient on file who has no other visit under way."""

        def transaction() -> VisitView:
            with self._database.writing() as uow:
                if patient_id not in uow.records.lock([patient_id]):
                    raise UnknownPatient(patient_id)
                for other in uow.visits.of_patient(patient_id):
                    if other.visit.state not in FINISHED:
                        raise WorkflowRefused(
                            WORKFLOW_OUT_OF_ORDER.id,
                            f"visit {other.visit.id} of this patient is still "
                            f"{other.visit.state} (opened {stamp(other.visit.opened_at)}); "
                            "finish or cancel it before opening another",
                        )
                at = self._context.now()
                visit = Visit(id=f"visit-{uuid4().hex[:12]}", patient=patient_id, opened_at=at)
                return view_of(uow.visits.add(visit, at), at, self._context.protocol)

        return with_retries(transaction)

    def show(self, visit_id: str) -> VisitView:
        with self._database.reading() as uow:
            stored = uow.visits.get(visit_id)
        if stored is None:
            raise UnknownVisit(visit_id)
        return view_of(stored, self._context.now(), self._context.protocol)

    def of_patient(self, patient_id: str) -> list[VisitView]:
        """The patient's visits, newest first."""
        at = self._context.now()
        with self._database.reading() as uow:
            if uow.records.patient(patient_id) is None:
                raise UnknownPatient(patient_id)
            stored = uow.visits.of_patient(patient_id)
        return [view_of(s, at, self._context.protocol) for s in stored]

    def of_day(self, day: date | None = None) -> list[tuple[VisitView, PatientEntry | None]]:
        """Visits opened on ``day`` (default: today, clinic time), oldest first, with patients."""
        start = datetime.combine(day or self._context.today(), time.min, self._context.tz)
        at = self._context.now()
        with self._database.reading() as uow:
            stored = uow.visits.opened_between(start, start + timedelta(days=1))
            patients = {pid: uow.records.patient(pid) for pid in {s.visit.patient for s in stored}}
        return [(view_of(s, at, self._context.protocol), patients[s.visit.patient]) for s in stored]

    def screen(
        self,
        visit_id: str,
        by: Screener,
        answers: ScreeningAnswers,
        expected_version: int | None = None,
    ) -> VisitView:
        """Record the answers; taking back a holding "yes" needs a physician
        (``screening_holds``: ``by`` is the person, or only a name)."""

        def step(s: StepScope) -> Visit:
            screening = Screening(
                at=s.at,
                screened_by=screener_name(by),
                neurological_symptoms=answers.neurological_symptoms,
                active_infection=answers.active_infection,
                pregnant=answers.pregnant,
                breastfeeding=answers.breastfeeding,
                new_medicines=answers.new_medicines,
                new_medicines_detail=answers.new_medicines_detail,
            )
            after = infusion.record_screening(s.visit, screening, self._context.protocol)
            check_withdrawals(self._days_screening(s), screening, by, self._context.tz)
            return after

        return self._runner.run(visit_id, expected_version, step, self._format.screening_resources)

    def _days_screening(self, s: StepScope) -> Screening | None:
        """The patient's latest screening this clinic day, at this visit or another.

        The rules read the day's latest answer whichever visit gave it, so a "yes"
        given at a visit since cancelled still holds, and a nurse may not lift it by
        screening "no" at a new visit the same day."""
        tz = self._context.tz
        today = s.at.astimezone(tz).date()
        screenings = [
            v.visit.screening
            for v in s.uow.visits.of_patient(s.visit.patient)
            if v.visit.id != s.visit.id and v.visit.screening is not None
        ]
        if s.visit.screening is not None:
            screenings.append(s.visit.screening)
        same_day = [x for x in screenings if x.at.astimezone(tz).date() == today]
        return max(same_day, key=lambda x: x.at, default=None)

    def clear(
        self,
        visit_id: str,
        by: str,
        acknowledge: bool = False,
        expected_version: int | None = None,
        *,
        medicines_reviewed: bool = False,
    ) -> VisitView:
        """Clear the patient on the assessment at this moment (a caution needs acknowledging;
        new medicines named at the screening need ``medicines_reviewed``)."""
        protocol = self._context.protocol

        def step(s: StepScope) -> Visit:
            screening = s.visit.screening
            reviewed = medicines_reviewed and screening is not None and screening.new_medicines
            if screening is not None:  # refused on its own, not as the assessment's refusal
                check_new_medicines(screening, reviewed, protocol)
            return checked(
                s,
                lambda decision: infusion.clear(
                    s.visit,
                    Clearance(s.at, by, decision, acknowledgement(s, by, acknowledge), reviewed),
                    protocol,
                ),
            )

        return self._runner.run(visit_id, expected_version, step)

    def prepare(self, visit_id: str, bag: Bag, expected_version: int | None = None) -> VisitView:
        def step(s: StepScope) -> Visit:
            diluted_at = s.moment(bag.diluted_at, "diluted_at")  # a future one: a slip
            preparation = Preparation(
                vial_lot=bag.vial_lot,
                vial_expiry=bag.vial_expiry,
                dose_mg=bag.dose_mg,
                diluent=bag.diluent,
                volume_ml=bag.volume_ml,
                diluted_at=diluted_at,
                storage=(StorageMove(diluted_at, bag.location),),
                prepared_by=bag.prepared_by,
                checked_by=bag.checked_by,
                checked_at=s.moment(bag.checked_at, "checked_at"),
                frozen=bag.frozen,
                shaken=bag.shaken,
            )
            return infusion.prepare(s.visit, preparation, self._context.protocol, self._context.tz)

        return self._runner.run(visit_id, expected_version, step)

    def move(
        self,
        visit_id: str,
        location: Storage,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> VisitView:
        """The bag went into the refrigerator or out to room temperature."""
        return self._runner.run(
            visit_id,
            expected_version,
            lambda s: infusion.move_preparation(
                s.visit, StorageMove(s.moment(at), location), self._context.protocol
            ),
        )

    def start(
        self, visit_id: str, by: str, pump: PumpSetting, expected_version: int | None = None
    ) -> VisitView:
        """Start the infusion; the assessment is run again at this moment."""
        return self._runner.run(
            visit_id,
            expected_version,
            lambda s: checked(
                s,
                lambda decision: infusion.start_infusion(
                    s.visit,
                    InfusionStart(
                        at=s.at,
                        started_by=by,
                        method=pump.method,
                        decision=decision,
                        found_frozen=pump.found_frozen,
                        found_shaken=pump.found_shaken,
                        rate_ml_per_hour=pump.rate_ml_per_hour,
                        planned_duration=pump.planned_duration,
                    ),
                    self._context.protocol,
                ),
            ),
            lambda v: [self._format.administration_resource(v)],
        )

    def end(
        self,
        visit_id: str,
        by: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> VisitView:
        return self._runner.run(
            visit_id,
            expected_version,
            lambda s: infusion.end_infusion(
                s.visit, InfusionEnd(s.moment(at), by), self._context.protocol
            ),
            lambda v: [self._format.administration_resource(v)],
        )

    def react(
        self, visit_id: str, by: str, report: ReactionReport, expected_version: int | None = None
    ) -> VisitView:
        """A reaction stops the infusion and goes into the patient's allergies."""
        return self._runner.run(
            visit_id,
            expected_version,
            lambda s: infusion.record_reaction(
                s.visit,
                Reaction(
                    at=s.moment(report.at),
                    recorded_by=by,
                    symptoms=report.symptoms,
                    severity=report.severity,
                    treatment=report.treatment,
                    description=report.description,
                ),
                self._context.protocol,
            ),
            lambda v: [self._format.administration_resource(v), self._format.reaction_resource(v)],
        )

    def discharge(
        self,
        visit_id: str,
        by: str,
        at: datetime | None = None,
        expected_version: int | None = None,
    ) -> VisitView:
        return self._runner.run(
            visit_id,
            expected_version,
            lambda s: infusion.discharge(
                s.visit, Discharge(s.moment(at), by), self._context.protocol
            ),
        )

    def cancel(
        self, visit_id: str, by: str, reason: str, expected_version: int | None = None
    ) -> VisitView:
        return self._runner.run(
            visit_id,
            expected_version,
            lambda s: infusion.cancel(
                s.visit, Cancellation(s.at, by, reason), self._context.protocol
            ),
        )
