"""The report's 95 % intervals match published values (Wilson 1927; Garwood 1936 tables)."""

from __future__ import annotations

import pytest

from natalizumab_cds.domain.confidence import garwood, poisson_cdf, wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 77, 0.0023, 0.0700),
        (13, 1000, 0.0076, 0.0221),
    ],
)
def test_wilson_score_interval_matches_known_values(
    k: int, n: int, low: float, high: float
) -> None:
    interval = wilson(k, n)
    assert interval is not None
    assert interval.low == pytest.approx(low, abs=1e-4)
    assert interval.high == pytest.approx(high, abs=1e-4)


def test_wilson_has_no_interval_without_trials_and_refuses_impossible_counts() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValueError, match="outside"):
        wilson(3, 2)


@pytest.mark.parametrize(
    ("k", "low", "high"),
    [
        (0, 0.0, 3.6889),
        (1, 0.0253, 5.5716),
        (2, 0.2422, 7.2247),
        (10, 4.7954, 18.3904),
        (100, 81.36, 121.63),  # tables give two decimals
    ],
)
def test_garwood_exact_poisson_interval_matches_chi_square_tables(
    k: int, low: float, high: float
) -> None:
    interval = garwood(k, 1.0)
    assert interval is not None
    tolerance = 1e-3 if k < 100 else 1e-2
    assert interval.low == pytest.approx(low, abs=tolerance)
    assert interval.high == pytest.approx(high, abs=tolerance)


def test_garwood_scales_with_the_exposure() -> None:
    per_year = garwood(4, 2.0)
    assert per_year is not None
    whole = garwood(4, 1.0)
    assert whole is not None
    assert per_year.high == pytest.approx(whole.high / 2)
    assert garwood(3, 0.0) is None


def test_poisson_distribution_function_at_known_points() -> None:
    assert poisson_cdf(0, 1.0) == pytest.approx(0.367879, abs=1e-6)
    assert poisson_cdf(2, 3.0) == pytest.approx(0.423190, abs=1e-6)
