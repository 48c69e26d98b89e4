"""The safety report's counts: one aggregate query over the summary rows, one over the dues.

Each patient's share was worked out when their summary was rebuilt
(``domain/safety.py``); here SQL only adds up, so the report costs the same
whether the clinic has a hundred patients or a hundred thousand, and no
record is read. ``CASE WHEN flag THEN 1 ELSE 0 END`` sums booleans the same
way on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, Connection, case, func, select

from natalizumab_cds.application.safety_counts import SafetyCounts
from natalizumab_cds.persistence.tables import monitoring_dues, patient_summaries

#: The next dose is not a monitoring test; it has its own row in ``monitoring_dues``.
NOT_MONITORING = "infusion"


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def safety_counts(connection: Connection, today: date) -> SafetyCounts:
    s = patient_summaries.c
    treated = s.treated.is_(True)
    totals = connection.execute(
        select(
            func.count(),
            _count(treated),
            _count(treated & s.severe_reaction.is_(True)),
            func.coalesce(func.sum(case((treated, s.exposure_days), else_=0.0)), 0.0),
            func.coalesce(func.sum(case((treated, s.infections), else_=0)), 0),
            _count(treated & s.thyroid_tested.is_(True)),
            _count(treated & s.thyroid_abnormal.is_(True)),
            _count(s.antibody_tested.is_(True)),
            _count(s.antibody_positive.is_(True)),
            _count(s.antibody_persistent.is_(True)),
        ).where(s.treated.is_not(None))
    ).one()
    d = monitoring_dues.c
    dues = connection.execute(
        select(func.count(), _count(d.due >= today)).where(d.item != NOT_MONITORING)
    ).one()
    return SafetyCounts(
        patients=int(totals[0]),
        treated=int(totals[1]),
        severe_reactions=int(totals[2]),
        exposure_days=float(totals[3]),
        infections=int(totals[4]),
        thyroid_tested=int(totals[5]),
        thyroid_abnormal=int(totals[6]),
        antibody_tested=int(totals[7]),
        antibody_positive=int(totals[8]),
        antibody_persistent=int(totals[9]),
        monitoring_items=int(dues[0]),
        monitoring_on_time=int(dues[1]),
    )


def serum_levels(connection: Connection) -> list[tuple[float, bool]]:
    """(latest level on treatment, ever antibody-positive) of each treated patient with a level."""
    s = patient_summaries.c
    rows = connection.execute(
        select(s.serum_level, s.antibody_positive).where(
            s.treated.is_(True), s.serum_level.is_not(None)
        )
    )
    return [(float(level), bool(positive)) for level, positive in rows]
