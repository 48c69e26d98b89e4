"""Who is at risk: children, older adults, pregnancy, breastfeeding."""

from __future__ import annotations

from datetime import date

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec
from natalizumab_cds.domain.rules.rule import Context, fire
from natalizumab_cds.domain.timeline import StatusKind

PEDIATRIC = RuleSpec(
    id="population.pediatric",
    title="Patient under 18",
    citation=Citation(
        "Protocol text",
        "High-Risk Populations",
        "safety under 18 years not established (EU SmPC: do not give under 18)",
        "Children and the elderly: The safety in patients under 18 years of age has not "
        "been established, and data on populations over 65 years of age are limited.",
    ),
    overridable=True,
)
ELDERLY = RuleSpec(
    id="population.elderly",
    title="Patient 65 or older",
    citation=Citation(
        "Protocol text",
        "High-Risk Populations",
        "data over 65 years limited",
        "Children and the elderly: ... data on populations over 65 years of age are limited.",
    ),
)
PREGNANCY = RuleSpec(
    id="population.pregnancy",
    title="Pregnant",
    citation=Citation(
        "Protocol text",
        "High-Risk Populations",
        "pregnancy, evaluate the necessity of treatment",
        "Pregnancy: Animal studies have shown that it may affect fetal development "
        "(e.g., thrombocytopenia), so the necessity of treatment needs to be evaluated.",
    ),
    overridable=True,
)
LACTATION = RuleSpec(
    id="population.lactation",
    title="Breastfeeding",
    citation=Citation(
        "Protocol text",
        "High-Risk Populations",
        "discontinue the drug or stop breastfeeding",
        "Lactation: Whether the drug is excreted in breast milk is not yet clear; it is "
        "recommended to discontinue the drug or terminate breastfeeding.",
    ),
)


def age_on(birth: date, day: date) -> int:
    """Completed years; someone born on 29 February turns a year older on 1 March."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def pediatric(ctx: Context) -> list[Finding]:
    patient = ctx.timeline.patient
    if patient.birth_date is None:
        # Age cannot be checked: say so and do not pass silently.
        return fire(
            PEDIATRIC,
            Effect.CAUTION,
            "Birth date not recorded: age limits (under 18, 65 or older) cannot be checked",
            evidence=[patient.id],
        )
    youngest = patient.latest_possible_birth
    assert youngest is not None
    # A partial birth date is judged by the youngest age it allows: never guess older.
    age = age_on(youngest, ctx.today)
    limit = int(ctx.protocol.number("pediatric_age"))
    if age >= limit:
        return []
    return fire(
        PEDIATRIC,
        Effect.HOLD,
        f"Age {age} on {ctx.today} ({_born(patient.birth_date, youngest)}) is under {limit}",
        evidence=[patient.id],
    )


def _born(earliest: date, latest: date) -> str:
    if earliest == latest:
        return f"born {earliest}"
    return f"birth date recorded only as {earliest} to {latest}; youngest age used"


def elderly(ctx: Context) -> list[Finding]:
    birth = ctx.timeline.patient.birth_date
    if birth is None:
        return []
    age = age_on(birth, ctx.today)
    limit = int(ctx.protocol.number("elderly_age"))
    if age < limit:
        return []
    latest = ctx.timeline.patient.latest_possible_birth or birth
    born = f"born {birth}" if latest == birth else f"birth date recorded only from {birth}"
    return fire(
        ELDERLY,
        Effect.CAUTION,
        f"Age {age} on {ctx.today} ({born}) is {limit} or older: limited data",
        evidence=[ctx.timeline.patient.id],
    )


def pregnancy(ctx: Context) -> list[Finding]:
    latest = ctx.timeline.latest_status(StatusKind.PREGNANCY, ctx.at)
    if latest is None or latest.value != "pregnant":
        return []
    return fire(
        PREGNANCY,
        Effect.HOLD,
        f"Pregnancy status 'pregnant' recorded on {ctx.day_of(latest.at)}: "
        "a physician must document the benefit-risk evaluation",
        evidence=[latest.id],
        data_at=latest.at,
    )


def lactation(ctx: Context) -> list[Finding]:
    latest = ctx.timeline.latest_status(StatusKind.BREASTFEEDING, ctx.at)
    if latest is None or latest.value != "true":
        return []
    return fire(
        LACTATION,
        Effect.HOLD,
        f"Breastfeeding recorded on {ctx.day_of(latest.at)}: stop the drug or stop breastfeeding",
        evidence=[latest.id],
        data_at=latest.at,
    )
