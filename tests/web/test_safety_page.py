"""How the safety report prints its figures."""

from __future__ import annotations

import pytest

from natalizumab_cds.web.safety_page import percent, rate


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.0, "1.00"),
        (0.2345, "0.23"),
        # 5 infections in 1,190 patient-years, and the ends of its interval:
        # "0.00" would read as none at all.
        (5 / 1189.5, "0.0042"),
        (0.001365, "0.0014"),
        (0.0098, "0.0098"),
        (0.0, "0.00"),
        (None, "—"),
    ],
)
def test_a_rare_rate_keeps_two_significant_digits(value: float | None, shown: str) -> None:
    assert rate(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.987, "98.7 %"),
        (0.013, "1.3 %"),
        (1 / 296, "0.34 %"),
        (0.00004, "0.0040 %"),
        (0.0, "0.0 %"),
        (None, "—"),
    ],
)
def test_a_small_share_keeps_two_significant_digits(value: float | None, shown: str) -> None:
    assert percent(value) == shown
