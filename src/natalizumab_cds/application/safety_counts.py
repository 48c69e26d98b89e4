"""The clinic's safety counts as SQL adds them up over the summary rows (see ``safety_report``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SafetyCounts:
    """Sums over every patient's summary row (``domain/safety.py`` defines each fact)."""

    patients: int  # patients with a summary counted for safety
    treated: int
    severe_reactions: int  # treated patients with a severe reaction
    exposure_days: float  # on-treatment days of all treated patients together
    infections: int  # infections on treatment, all treated patients together
    thyroid_tested: int  # treated patients with a TSH or free T4 on treatment
    thyroid_abnormal: int
    antibody_tested: int
    antibody_positive: int
    antibody_persistent: int
    monitoring_items: int  # monitoring due rows (the next infusion excluded)
    monitoring_on_time: int  # of them, not overdue today
