"""95 % confidence intervals for the safety report, in the standard library only.

- A proportion (k of n): the Wilson score interval, which stays inside [0, 1]
  and behaves for small n and for k = 0 or k = n (unlike the Wald interval).
- A rate (k events over an exposure): the exact Poisson interval of Garwood
  (1936). Its bounds are usually written with chi-square quantiles,
  ``chi2(α/2, 2k) / 2`` and ``chi2(1 − α/2, 2k + 2) / 2``; for even degrees of
  freedom the chi-square distribution function *is* a Poisson tail, so each
  bound is the mean μ at which the Poisson tail equals α/2, found here by
  bisection (no SciPy needed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Interval:
    low: float
    high: float


def wilson(successes: int, trials: int, level: float = LEVEL) -> Interval | None:
    """The Wilson score interval of ``successes / trials``; None when there are no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} outside 0..{trials}")
    z = NormalDist().inv_cdf(1 - (1 - level) / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Interval(low, high)


def poisson_cdf(k: int, mean: float) -> float:
    """P(X ≤ k) for X ~ Poisson(mean), summed in log space."""
    if mean <= 0:
        return 1.0
    log_mean = math.log(mean)
    return math.fsum(math.exp(i * log_mean - mean - math.lgamma(i + 1)) for i in range(k + 1))


def garwood(events: int, exposure: float, level: float = LEVEL) -> Interval | None:
    """The exact Poisson interval of the rate ``events / exposure``; None with no exposure."""
    if exposure <= 0:
        return None
    if events < 0:
        raise ValueError(f"events {events} is negative")
    alpha = 1 - level
    # lower: the mean at which P(X >= k) = α/2, i.e. cdf(k - 1) = 1 - α/2 (0 when k = 0)
    low = 0.0 if events == 0 else _mean_where(events - 1, 1 - alpha / 2)
    # upper: the mean at which P(X <= k) = α/2
    high = _mean_where(events, alpha / 2)
    return Interval(low / exposure, high / exposure)


def _mean_where(k: int, cdf_value: float) -> float:
    """The Poisson mean μ with P(X ≤ k | μ) = ``cdf_value`` (the cdf falls as μ grows)."""
    low, high = 0.0, max(1.0, 2.0 * (k + 1))
    while poisson_cdf(k, high) > cdf_value:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if poisson_cdf(k, middle) > cdf_value:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2
