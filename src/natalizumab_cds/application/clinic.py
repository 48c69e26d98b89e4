"""The clinic service's use cases in one object, built once by bootstrap.

Entry points (the REST API, the command line) receive a ``Clinic`` and call its
use cases; they never see the database or the record format directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from natalizumab_cds.application.assessing import ClinicContext
from natalizumab_cds.application.decisions import ClinicianDecisions
from natalizumab_cds.application.importing import ImportRecords
from natalizumab_cds.application.infusion_day import InfusionDay
from natalizumab_cds.application.patient_summary import PatientSummaries
from natalizumab_cds.application.patients import PatientQueries
from natalizumab_cds.application.ports import Database
from natalizumab_cds.application.safety_report import ClinicSafetyReport
from natalizumab_cds.application.worklist import ClinicWorklist


@dataclass(frozen=True, slots=True)
class Health:
    protocol_name: str
    protocol_version: str
    database_reachable: bool


@dataclass(frozen=True, slots=True)
class Clinic:
    context: ClinicContext
    database: Database
    importer: ImportRecords
    patients: PatientQueries
    decisions: ClinicianDecisions
    worklist: ClinicWorklist
    infusion_day: InfusionDay
    safety: ClinicSafetyReport
    summaries: PatientSummaries

    @classmethod
    def build(cls, database: Database, context: ClinicContext) -> Clinic:
        return cls(
            context=context,
            database=database,
            importer=ImportRecords(database, context),
            patients=PatientQueries(database, context),
            decisions=ClinicianDecisions(database, context),
            worklist=ClinicWorklist(database, context),
            infusion_day=InfusionDay(database, context),
            safety=ClinicSafetyReport(database, context),
            summaries=PatientSummaries(
                PatientQueries(database, context), InfusionDay(database, context), context
            ),
        )

    def health(self) -> Health:
        protocol = self.context.protocol
        return Health(protocol.name, protocol.version, self.database.reachable())
