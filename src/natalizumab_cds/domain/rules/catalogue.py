"""Every pre-infusion rule, listed explicitly, in the catalogue's order."""

from __future__ import annotations

from natalizumab_cds.domain.findings import RuleSpec
from natalizumab_cds.domain.rules import (
    activity,
    antibody,
    dosing,
    hypersensitivity,
    immunosuppression,
    infection,
    liver,
    population,
    ranges,
)
from natalizumab_cds.domain.rules.rule import Rule

RULES: tuple[Rule, ...] = (
    Rule(population.PEDIATRIC, population.pediatric),
    Rule(population.ELDERLY, population.elderly),
    Rule(population.PREGNANCY, population.pregnancy),
    Rule(population.LACTATION, population.lactation),
    Rule(hypersensitivity.PRIOR_REACTION, hypersensitivity.prior_reaction),
    Rule(immunosuppression.CONCURRENT, immunosuppression.concurrent),
    Rule(infection.ACTIVE, infection.active),
    Rule(infection.OPPORTUNISTIC, infection.opportunistic),
    Rule(infection.PML_SUSPECTED, infection.pml_suspected),
    Rule(liver.BASELINE_MISSING, liver.baseline_missing),
    Rule(liver.ELEVATED, liver.elevated),
    Rule(ranges.NEUTROPHILS, ranges.neutrophils_abnormal),
    Rule(ranges.LYMPHOCYTES_MONOCYTES, ranges.lymphocytes_monocytes_raised),
    Rule(ranges.PLATELETS, ranges.platelets_low),
    Rule(ranges.THYROID, ranges.thyroid_abnormal),
    Rule(antibody.POSITIVE_UNCONFIRMED, antibody.positive_unconfirmed),
    Rule(antibody.PERSISTENT, antibody.persistent),
    Rule(antibody.LOW_DRUG_LEVEL, antibody.low_drug_level),
    Rule(dosing.TOO_SOON, dosing.too_soon),
    Rule(dosing.RESTART_AFTER_GAP, dosing.restart_after_gap),
    Rule(activity.MRI_ACTIVITY, activity.mri_activity),
    Rule(activity.EDSS_WORSENING, activity.edss_worsening),
    Rule(activity.RELAPSE_RECENT, activity.relapse_recent),
    Rule(activity.NEDA3, activity.neda3),
)

SPECS: dict[str, RuleSpec] = {rule.spec.id: rule.spec for rule in RULES}
OVERRIDABLE: frozenset[str] = frozenset(rule.spec.id for rule in RULES if rule.spec.overridable)
