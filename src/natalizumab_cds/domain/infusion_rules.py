"""The infusion-day workflow rules: stable ids and what each rests on.

A refused step raises ``WorkflowRefused(rule, reason)`` with one of these ids.
The first eight are the catalogue's (CLINICAL_RULES.md, "Infusion-day workflow
rules"); the last two are the product's own, added for steps the catalogue
takes for granted:

- ``preparation.double-check``: the preparation is checked by a second person.
- ``workflow.out-of-order``: a step recorded in a state that does not allow it
  (e.g. ending an infusion that never started, a second preparation once the
  infusion runs), or dated before the step recorded before it.
"""

from __future__ import annotations

from natalizumab_cds.domain.findings import Citation, RuleSpec

_STABILITY_QUOTE = (
    "Stability: After dilution, the drug can be stored at room temperature for ≤ 8 hours "
    "and refrigerated for ≤ 24 hours; freezing or shaking should be avoided."
)
_DILUTION_QUOTE = (
    "Dilution requirements: 300mg of the drug needs to be diluted with 100mL of 0.9% "
    "sodium chloride; the use of other solvents is prohibited."
)
_OPERATION_QUOTE = (
    "Operational specifications: The infusion time should be ≥ 1 hour, and the patient "
    "should be observed for 1 hour after the infusion is completed. Intravenous push or "
    "rapid infusion is prohibited."
)

PREPARATION_DOSE = RuleSpec(
    id="preparation.dose",
    title="The dose is 300 mg",
    citation=Citation("Protocol text", "Dilution requirements", "300 mg", _DILUTION_QUOTE),
)
PREPARATION_DILUENT = RuleSpec(
    id="preparation.diluent",
    title="Diluted in exactly 100 mL of 0.9 % sodium chloride",
    citation=Citation(
        "Protocol text",
        "Dilution requirements",
        "100 mL of 0.9 % sodium chloride; other solvents prohibited",
        _DILUTION_QUOTE,
    ),
)
PREPARATION_EXPIRED = RuleSpec(
    id="preparation.expired",
    title="Usable for 24 h after dilution, at most 8 h of it at room temperature",
    citation=Citation(
        "Protocol text",
        "Stability",
        "≤ 8 h at room temperature, ≤ 24 h refrigerated (US PI: refrigerate, infuse within "
        "48 h; EU SmPC: within 24 h at 2–8 °C)",
        _STABILITY_QUOTE,
    ),
)
PREPARATION_FROZEN_OR_SHAKEN = RuleSpec(
    id="preparation.frozen-or-shaken",
    title="A frozen or shaken preparation is discarded",
    citation=Citation(
        "Protocol text", "Stability", "freezing or shaking must be avoided", _STABILITY_QUOTE
    ),
)
PREPARATION_DOUBLE_CHECK = RuleSpec(
    id="preparation.double-check",
    title="A second person checks the preparation",
    citation=Citation(
        "Product",
        "Infusion-day workflow",
        "the person who checks a preparation is not the person who made it",
    ),
)
ADMINISTRATION_TOO_FAST = RuleSpec(
    id="administration.too-fast",
    title="The infusion runs at least 60 minutes; no IV push or bolus",
    citation=Citation(
        "Protocol text",
        "Operational specifications",
        "infusion ≥ 1 hour; IV push or rapid infusion prohibited",
        _OPERATION_QUOTE,
    ),
)
ADMINISTRATION_REQUIRES_CLEARANCE = RuleSpec(
    id="administration.requires-clearance",
    title="An infusion starts only when the assessment allows it",
    citation=Citation(
        "Product",
        "Infusion-day workflow",
        "the assessment at the start is proceed, or caution acknowledged by a clinician",
    ),
)
OBSERVATION_INCOMPLETE = RuleSpec(
    id="observation.incomplete",
    title="Discharge at least 60 minutes after the infusion ends",
    citation=Citation(
        "Protocol text",
        "Operational specifications",
        "observe 1 hour after every infusion (US PI: infusions 1–12)",
        _OPERATION_QUOTE,
    ),
)
REACTION_HYPERSENSITIVITY = RuleSpec(
    id="reaction.hypersensitivity",
    title="A reaction during or within 2 h of the infusion stops it for good",
    citation=Citation(
        "Protocol text",
        "Allergic reactions",
        "stop the drug and give emergency treatment (label: never re-treat)",
        "Allergic reactions: Approximately 1.3% of patients experience severe systemic "
        "reactions, most of which occur within 2 hours of infusion. Symptoms include "
        "urticaria, hypotension, dyspnea, etc. Immediate drug discontinuation and "
        "emergency treatment are required.",
    ),
)
WORKFLOW_OUT_OF_ORDER = RuleSpec(
    id="workflow.out-of-order",
    title="Infusion-day steps happen in order",
    citation=Citation(
        "Product",
        "Infusion-day workflow",
        "screen, clear, prepare, infuse, observe, discharge; each step dated after the last",
    ),
)

WORKFLOW_RULES: dict[str, RuleSpec] = {
    spec.id: spec
    for spec in (
        PREPARATION_DOSE,
        PREPARATION_DILUENT,
        PREPARATION_EXPIRED,
        PREPARATION_FROZEN_OR_SHAKEN,
        PREPARATION_DOUBLE_CHECK,
        ADMINISTRATION_TOO_FAST,
        ADMINISTRATION_REQUIRES_CLEARANCE,
        OBSERVATION_INCOMPLETE,
        REACTION_HYPERSENSITIVITY,
        WORKFLOW_OUT_OF_ORDER,
    )
}
