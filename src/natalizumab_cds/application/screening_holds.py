"""Who may take back a screening "yes" that holds the infusion.

A "yes" to new or worsening neurological symptoms holds the infusion
(``pml.suspected``: withhold at the first sign of PML), and so does a "yes" to
an active infection (``infection.active``). Both rules read the day's latest
answer, so a later screening answering "no" would lift the hold. Once a
visit's screening said "yes" to either, a later screening at that visit that
answers "no" may be recorded only by a physician, who has evaluated the
patient (``Action.WITHDRAW_SCREENING_HOLD``). Anyone else is refused under the
hold's rule id and nothing is recorded: a physician re-screens, or the visit
is cancelled with its reason. The withdrawal stays on the visit
(``Screening.withdrawn``): what was said, by whom, and who took it back.

``Screener`` is who asks: a ``Principal`` (the API's caller, the page's
signed-in person, the account a command's ``--by`` names) whose role the
permission table judges, or only a name, which never takes back a hold.
"""

from __future__ import annotations

from datetime import tzinfo

from natalizumab_cds.application.security.permissions import Action, Principal
from natalizumab_cds.domain.errors import WorkflowRefused
from natalizumab_cds.domain.findings import RuleSpec
from natalizumab_cds.domain.infusion_events import Screening, withdrawals
from natalizumab_cds.domain.rules.infection import ACTIVE, PML_SUSPECTED

Screener = Principal | str

#: The answers whose "yes" holds the infusion: the rule, and the question in words.
HOLDING_ANSWERS: dict[str, tuple[RuleSpec, str]] = {
    "neurological_symptoms": (PML_SUSPECTED, "new or worsening neurological symptoms"),
    "active_infection": (ACTIVE, "an active infection"),
}


def screener_name(by: Screener) -> str:
    return by.username if isinstance(by, Principal) else by


def may_withdraw_holds(by: Screener) -> bool:
    return isinstance(by, Principal) and by.may(Action.WITHDRAW_SCREENING_HOLD)


def check_withdrawals(
    earlier: Screening | None, later: Screening, by: Screener, tz: tzinfo
) -> None:
    """Refuse ``later`` if it answers "no" to a holding "yes" of ``earlier`` and ``by``
    is not a physician."""
    if may_withdraw_holds(by):
        return
    for withdrawal in withdrawals(earlier, later):
        if withdrawal.question not in HOLDING_ANSWERS:
            continue
        rule, question = HOLDING_ANSWERS[withdrawal.question]
        when = withdrawal.answered_at.astimezone(tz).strftime("%H:%M %Z")
        raise WorkflowRefused(
            rule.id,
            f"the screening at {when} by {withdrawal.answered_by} answered yes to {question} "
            f"({rule.citation.statement}); only a physician who has evaluated the patient "
            "may record a screening that answers no: a physician must re-screen the patient, "
            "or cancel the visit with its reason",
            f"screening.{withdrawal.question}",
        )
