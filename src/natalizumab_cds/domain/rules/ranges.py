"""Rules that compare the latest result with its own reference range (CBC, thyroid)."""

from __future__ import annotations

from collections.abc import Iterable

from natalizumab_cds.domain.findings import Citation, Effect, Finding, RuleSpec, Severity
from natalizumab_cds.domain.rules.rule import Context, fire, newest, number
from natalizumab_cds.domain.timeline import ANALYTE_NAMES, Analyte, Result, quantity_text

_CBC_QUOTE = (
    "Complete blood count: Monitor the increase in lymphocytes and monocytes (a drug "
    "effect); changes in neutrophils indicate possible infection."
)
NEUTROPHILS = RuleSpec(
    id="blood.neutrophils-abnormal",
    title="Neutrophils outside range or cannot be judged",
    citation=Citation(
        "Protocol text",
        "Complete blood count",
        "neutrophil change may indicate infection",
        _CBC_QUOTE,
    ),
)
LYMPHOCYTES_MONOCYTES = RuleSpec(
    id="blood.lymphocytes-monocytes-raised",
    title="Lymphocytes or monocytes raised (expected drug effect)",
    citation=Citation(
        "Protocol text",
        "Complete blood count",
        "raised lymphocytes and monocytes are a drug effect",
        _CBC_QUOTE,
    ),
)
PLATELETS = RuleSpec(
    id="blood.platelets-low",
    title="Platelets below range or cannot be judged",
    citation=Citation(
        "US PI",
        "5.7 Thrombocytopenia",
        "thrombocytopenia reported; discontinue if suspected",
        "Cases of thrombocytopenia, including immune thrombocytopenic purpura, have been "
        "reported ... discontinue TYSABRI if thrombocytopenia is suspected.",
    ),
)
THYROID = RuleSpec(
    id="thyroid.abnormal",
    title="TSH or free T4 outside range or cannot be judged",
    citation=Citation(
        "Protocol text",
        "Thyroid function",
        "monitor TSH and free T4 (thyroiditis ≈ 6 %)",
        "Thyroid function: Regularly monitor TSH and free T4 (the incidence of thyroiditis "
        "is approximately 6%).",
    ),
)

#: The words of a result the rule could not place in or out of its range.
UNJUDGED = "cannot be judged"


def _range_text(result: Result) -> str:
    low = number(result.low) if result.low is not None else "…"
    high = number(result.high) if result.high is not None else "…"
    return f"range {low}–{high}"


def _reading(ctx: Context, result: Result) -> str:
    """``Neutrophils 0.9 ×10⁹/L on 2026-10-28``."""
    value = quantity_text(f"{result.comparator}{number(result.value)}", result.unit)
    return f"{ANALYTE_NAMES[result.analyte]} {value} on {ctx.day_of(result.at)}"


def _describe(ctx: Context, result: Result, verdict: str) -> str:
    return f"{_reading(ctx, result)} is {verdict} ({_range_text(result)})"


def side_of_range(result: Result, *, low: bool, high: bool) -> str:
    """'below', 'above', 'within' or 'unknown' for the checked sides of the range.

    A bounded value ("<2.0", ">400") is only placed outside the range when every value
    it allows is outside; otherwise it is 'unknown' - never silently 'within'.
    """
    value, comparator = result.value, result.comparator
    floor = result.low if low else None
    ceiling = result.high if high else None
    if comparator in ("<", "<=", ">", ">="):
        strict = comparator in ("<", ">")
        if (
            comparator[0] == "<"
            and floor is not None
            and (value < floor or (strict and value == floor))
        ):
            return "below"
        if (
            comparator[0] == ">"
            and ceiling is not None
            and (value > ceiling or (strict and value == ceiling))
        ):
            return "above"
        return "within" if floor is None and ceiling is None else "unknown"
    if floor is not None and value < floor:
        return "below"
    if ceiling is not None and value > ceiling:
        return "above"
    return "within"


def _out_of_range(
    ctx: Context, analytes: Iterable[Analyte], *, low: bool, high: bool
) -> tuple[list[str], list[Result]]:
    """Latest results outside (the checked sides of) their ranges, or without a range."""
    texts, used = [], []
    for analyte in analytes:
        latest = ctx.timeline.latest_result(analyte, ctx.at)
        if latest is None:
            continue
        checked_bounds = [b for b, on in ((latest.low, low), (latest.high, high)) if on]
        if all(b is None for b in checked_bounds):
            texts.append(f"{_reading(ctx, latest)} has no reference range: {UNJUDGED}")
            used.append(latest)
            continue
        side = side_of_range(latest, low=low, high=high)
        if side != "within":
            verdict = {"below": "below range", "above": "above range"}.get(
                side, f"a bound that may or may not be in range: {UNJUDGED}"
            )
            texts.append(_describe(ctx, latest, verdict))
            used.append(latest)
    return texts, used


def _finding(
    spec: RuleSpec,
    effect: Effect,
    texts: list[str],
    used: list[Result],
    quiet: Severity = Severity.INFO,
    suggestions: Iterable[str] = (),
) -> list[Finding]:
    if not texts:
        return []
    if any(UNJUDGED in t for t in texts):
        suggestions = [*suggestions, "Record the lab's reference range, or repeat the test"]
    return fire(
        spec,
        effect,
        "; ".join(texts),
        evidence=[r.id for r in used],
        data_at=newest(*(r.at for r in used)),
        quiet=quiet,
        suggestions=suggestions,
    )


def neutrophils_abnormal(ctx: Context) -> list[Finding]:
    texts, used = _out_of_range(ctx, [Analyte.NEUTROPHILS], low=True, high=True)
    return _finding(NEUTROPHILS, Effect.CAUTION, texts, used, suggestions=["Look for an infection"])


def lymphocytes_monocytes_raised(ctx: Context) -> list[Finding]:
    texts, used = _out_of_range(ctx, [Analyte.LYMPHOCYTES, Analyte.MONOCYTES], low=False, high=True)
    # Only a raised count is this finding; a missing range is not worth a note here.
    kept = [(t, r) for t, r in zip(texts, used, strict=True) if "above range" in t]
    if not kept:
        return []
    return _finding(
        LYMPHOCYTES_MONOCYTES,
        Effect.NONE,
        [t + ": expected drug effect, not a reason to hold" for t, _ in kept],
        [r for _, r in kept],
    )


def platelets_low(ctx: Context) -> list[Finding]:
    texts, used = _out_of_range(ctx, [Analyte.PLATELETS], low=True, high=False)
    return _finding(
        PLATELETS, Effect.CAUTION, texts, used, suggestions=["Consider thrombocytopenia"]
    )


def thyroid_abnormal(ctx: Context) -> list[Finding]:
    texts, used = _out_of_range(ctx, [Analyte.TSH, Analyte.FREE_T4], low=True, high=True)
    return _finding(THYROID, Effect.CAUTION, texts, used, suggestions=["Assess for thyroiditis"])
