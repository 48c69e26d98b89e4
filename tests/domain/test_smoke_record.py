"""The well-monitored reference record proceeds: the base every rule test builds on."""

from natalizumab_cds.domain.findings import Decision
from tests.domain.builders import a_timeline, a_well_monitored_record, assess_at


def test_a_well_monitored_patient_proceeds_with_every_item_in_date() -> None:
    result = assess_at(a_timeline(**a_well_monitored_record()))
    assert result.decision is Decision.PROCEED
    assert result.rules_fired == {"activity.neda3"}
    assert {e.status.value for e in result.monitoring} <= {"ok", "due-soon"}
