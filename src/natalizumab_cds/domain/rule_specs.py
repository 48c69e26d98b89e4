"""Every rule a finding can come from, by id: the catalogue's and the monitoring items'."""

from __future__ import annotations

from natalizumab_cds.domain.findings import RuleSpec
from natalizumab_cds.domain.rules.catalogue import SPECS
from natalizumab_cds.domain.schedule import OVERDUE_SPECS

ALL_SPECS: dict[str, RuleSpec] = {**SPECS, **{s.id: s for s in OVERDUE_SPECS.values()}}


def rule_title(rule: str) -> str:
    """The rule's title ("ALT or AST raised"), or its id when the rule is unknown."""
    spec = ALL_SPECS.get(rule)
    return spec.title if spec is not None else rule
