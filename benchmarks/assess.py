"""Read-and-assess speed, beside orjson.loads and fhir.resources validation of the same bytes.

Run: .venv/bin/python benchmarks/assess.py [--patients 10000] [--validate-sample 300]

Prints, for a 10-year patient (about 130 infusions, 600 results) and for a batch
of synthetic patients: time to read the bundle (JSON parse), to build the
timeline, to evaluate; each as a ratio to ``orjson.loads`` of the same bytes and
to a full ``fhir.resources`` (R4B) model validation of the same bundle. All in
one run, on this machine. For the batch, validation is timed on a sample of
bundles and scaled per patient (validating 10,000 bundles would take minutes).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterable
from datetime import UTC, datetime

import orjson
from fhir.resources.R4B.bundle import Bundle

from natalizumab_cds.application.protocol_source import packaged_protocol
from natalizumab_cds.domain.assessment import assess
from natalizumab_cds.interop.fhir.reader import read_bundle
from natalizumab_cds.interop.fhir.synthetic import synthesize, ten_year_patient

AT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
PROTOCOL = packaged_protocol()


def stages(blobs: Iterable[bytes], sample: int) -> tuple[dict[str, float], int, int]:
    """Seconds per stage summed over a stream of bundles, and fhir.resources on a sample.

    Each bundle is parsed, built and evaluated one at a time so a large batch
    never sits in memory; the baseline ``orjson.loads`` runs on the same bytes
    right before. Returns the totals, the count and the validation sample size.
    """
    totals = dict.fromkeys(
        ("orjson.loads", "read (parse)", "build timeline", "evaluate", "fhir.resources validate"),
        0.0,
    )
    count = validated = 0
    clock = time.perf_counter
    for blob in blobs:
        t0 = clock()
        orjson.loads(blob)
        t1 = clock()
        parsed = orjson.loads(blob)  # what read_bundle does first with bytes
        t2 = clock()
        timeline = read_bundle(parsed, PROTOCOL)
        t3 = clock()
        assess(timeline, PROTOCOL, AT)
        t4 = clock()
        totals["orjson.loads"] += t1 - t0
        totals["read (parse)"] += t2 - t1
        totals["build timeline"] += t3 - t2
        totals["evaluate"] += t4 - t3
        if validated < sample:
            t5 = clock()
            Bundle.model_validate(parsed)
            totals["fhir.resources validate"] += clock() - t5
            validated += 1
        count += 1
    totals["fhir.resources validate"] *= count / validated
    totals["read+build+evaluate"] = (
        totals["read (parse)"] + totals["build timeline"] + totals["evaluate"]
    )
    return totals, count, validated


def report(title: str, blobs: Iterable[bytes], sample: int, repeat: int = 1) -> None:
    runs = [stages(blobs, sample) for _ in range(repeat)] if repeat > 1 else [stages(blobs, sample)]
    figures, count, used = min(runs, key=lambda r: r[0]["read+build+evaluate"])
    validate = figures["fhir.resources validate"]
    base = figures["orjson.loads"]
    print(f"\n## {title}: {count} patient(s)")
    print(f"{'stage':<26}{'total ms':>12}{'per patient µs':>16}{'× orjson':>10}{'÷ fhir.res':>12}")
    for name, seconds in figures.items():
        mark = "*" if name.startswith("fhir") and used < count else ""
        print(
            f"{name + mark:<26}{seconds * 1e3:>12.2f}{seconds / count * 1e6:>16.1f}"
            f"{seconds / base:>10.2f}{validate / seconds:>12.1f}"
        )
    if used < count:
        print(f"* fhir.resources validation timed on {used} bundles and scaled to {count}")
    whole = figures["read+build+evaluate"]
    per_eval_ms = figures["evaluate"] / count * 1e3
    print(
        f"goals: evaluate {per_eval_ms:.3f} ms/patient (< 1 ms: {_met(per_eval_ms < 1)}); "
        f"whole path {whole / base:.1f} × orjson.loads (< 10: {_met(whole / base < 10)}); "
        f"{validate / whole:.1f} × faster than fhir.resources (≥ 5: {_met(validate / whole >= 5)})"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--validate-sample", type=int, default=300)
    args = parser.parse_args()
    long_record = orjson.dumps(ten_year_patient(seed=1, anchor=AT))
    resources = len(orjson.loads(long_record)["entry"])
    print(f"# natalizumab-cds assess benchmark ({time.strftime('%Y-%m-%d')})")
    print(f"10-year patient: {resources} resources, {len(long_record) / 1e3:.0f} kB")
    report("10-year patient (best of 20)", [long_record], sample=1, repeat=20)
    print("\ngenerating the batch (not timed) ...")
    batch = [orjson.dumps(b) for b in synthesize(args.patients, seed=1, anchor=AT)]
    print(
        f"batch: {sum(len(b) for b in batch) / 1e6:.0f} MB of JSON, "
        f"mean {statistics.mean(len(b) for b in batch) / 1e3:.1f} kB per patient"
    )
    report("batch of synthetic patients", batch, sample=args.validate_sample)


if __name__ == "__main__":
    main()
