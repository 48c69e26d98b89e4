"""CDS Hooks over HTTP when the prefetch is not enough: fetch from the EHR, or answer 412.

The EHR's FHIR server is a real HTTP server on loopback holding the same
synthetic record; a slow one proves the fetch is bounded in time. Never an
all-clear card on partial data.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.interop.cds_hooks.harness import Cds, running_cds
from tests.interop.cds_hooks.hooks import a_record, an_order_sign, prefetch_of
from tests.interop.cds_hooks.servers import FhirRecordServer
from tests.interop.cds_hooks.signing import EhrKeys

ACCESS_TOKEN = "ehr-access-token-for-ntz"
FETCH_BOUND = 1.0


@pytest.fixture(scope="module")
def cds() -> Iterator[Cds]:
    with running_cds(EhrKeys(), fetch_timeout=FETCH_BOUND) as harness:
        yield harness


def cards_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def a_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_keys_missing_from_the_prefetch_are_fetched_from_the_ehr_with_its_access_token(
    cds: Cds,
) -> None:
    record = a_record("liver-elevated")
    complete = cards_of(cds.call(an_order_sign(record)))

    with FhirRecordServer(record, access_token=ACCESS_TOKEN) as fhir:
        partial = prefetch_of(record, leave_out=("observations", "conditions"))
        call = an_order_sign(
            record, prefetch=partial, fhir_server=fhir.base, access_token=ACCESS_TOKEN
        )
        fetched = cards_of(cds.call(call))

    assert fetched == complete
    assert sorted(fhir.paths()) == ["/fhir/Condition", "/fhir/Observation"]
    assert all(h["authorization"] == f"Bearer {ACCESS_TOKEN}" for _, _, h in fhir.requests)
    observation_query = next(q for p, q, _ in fhir.requests if p == "/fhir/Observation")
    assert "http://loinc.org|1742-6" in observation_query["code"][0]


def test_a_null_prefetch_value_or_an_operation_outcome_counts_as_missing(cds: Cds) -> None:
    record = a_record("pregnant")
    prefetch = prefetch_of(record)
    prefetch["observations"] = None
    prefetch["allergies"] = {"resourceType": "OperationOutcome", "issue": []}

    with FhirRecordServer(record) as fhir:
        cards = cards_of(cds.call(an_order_sign(record, prefetch=prefetch, fhir_server=fhir.base)))

    assert sorted(fhir.paths()) == ["/fhir/AllergyIntolerance", "/fhir/Observation"]
    assert any(c["source"].get("topic", {}).get("code") == "population.pregnancy" for c in cards)


def test_with_no_prefetch_at_all_the_whole_record_is_fetched_page_by_page(cds: Cds) -> None:
    record = a_record("liver-elevated")
    complete = cards_of(cds.call(an_order_sign(record)))

    with FhirRecordServer(record, page_size=10) as fhir:
        fetched = cards_of(cds.call(an_order_sign(record, prefetch={}, fhir_server=fhir.base)))

    assert fetched == complete
    assert "/fhir/Patient/p0" in fhir.paths()
    assert fhir.paths().count("/fhir/Observation") > 3


def test_a_prefetched_searchset_with_a_next_page_is_completed_from_the_ehr(cds: Cds) -> None:
    record = a_record("liver-elevated")
    complete = cards_of(cds.call(an_order_sign(record)))
    with FhirRecordServer(record, page_size=5) as fhir:
        prefetch = prefetch_of(record)
        first_page = fhir.route("/fhir/Observation", {"patient": ["p0"]}, {})[1]
        prefetch["observations"] = first_page

        fetched = cards_of(
            cds.call(an_order_sign(record, prefetch=prefetch, fhir_server=fhir.base))
        )

    assert fetched == complete
    assert set(fhir.paths()) == {"/fhir/Observation"}


def test_missing_data_and_no_fhir_server_is_412_never_an_all_clear(cds: Cds) -> None:
    record = a_record("routine-proceed")
    call = an_order_sign(record, prefetch=prefetch_of(record, leave_out=("medicationStatements",)))

    response = cds.call(call)

    assert response.status_code == 412
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 412
    assert "medicationStatements" in problem["detail"]
    assert "no fhirServer" in problem["detail"]
    assert "cards" not in problem


def test_an_unreachable_fhir_server_is_412(cds: Cds) -> None:
    record = a_record("routine-proceed")
    server = f"http://127.0.0.1:{a_closed_port()}/fhir"
    call = an_order_sign(
        record, prefetch=prefetch_of(record, leave_out=("conditions",)), fhir_server=server
    )

    response = cds.call(call)

    assert response.status_code == 412
    assert "could not be reached" in response.json()["detail"]


@pytest.mark.parametrize("status", [401, 403, 404, 500, 503])
def test_a_fhir_server_answering_with_an_error_is_412(cds: Cds, status: int) -> None:
    record = a_record("routine-proceed")
    with FhirRecordServer(record, fail_with=status) as fhir:
        call = an_order_sign(
            record, prefetch=prefetch_of(record, leave_out=("allergies",)), fhir_server=fhir.base
        )
        response = cds.call(call)

    assert response.status_code == 412
    assert f"HTTP {status}" in response.json()["detail"]


def test_a_slow_fhir_server_is_412_within_the_time_bound(cds: Cds) -> None:
    record = a_record("routine-proceed")
    with FhirRecordServer(record, delay_seconds=5.0) as fhir:
        call = an_order_sign(
            record, prefetch=prefetch_of(record, leave_out=("conditions",)), fhir_server=fhir.base
        )
        started = time.monotonic()
        response = cds.call(call)
        elapsed = time.monotonic() - started

    assert response.status_code == 412
    assert f"within {FETCH_BOUND:g} s" in response.json()["detail"]
    assert elapsed < FETCH_BOUND + 1.0


def test_a_trickling_fhir_server_cannot_stretch_the_bound_page_by_page(cds: Cds) -> None:
    record = a_record("liver-elevated")
    with FhirRecordServer(record, page_size=2, delay_seconds=0.1) as fhir:
        call = an_order_sign(
            record, prefetch=prefetch_of(record, leave_out=("observations",)), fhir_server=fhir.base
        )
        started = time.monotonic()
        response = cds.call(call)
        elapsed = time.monotonic() - started

    assert response.status_code == 412
    assert elapsed < FETCH_BOUND + 1.0


def test_the_access_token_is_never_sent_to_a_plain_http_server_on_the_network(cds: Cds) -> None:
    record = a_record("routine-proceed")
    call = an_order_sign(
        record,
        prefetch=prefetch_of(record, leave_out=("conditions",)),
        fhir_server="http://ehr.example.org/fhir",
        access_token=ACCESS_TOKEN,
    )

    response = cds.call(call)

    assert response.status_code == 412
    assert "must use https" in response.json()["detail"]


def test_a_next_link_to_another_server_is_refused(cds: Cds) -> None:
    record = a_record("routine-proceed")
    prefetch = prefetch_of(record)
    prefetch["observations"]["link"] = [
        {"relation": "next", "url": "https://elsewhere.example.org/fhir/Observation?page=2"}
    ]
    with FhirRecordServer(record) as fhir:
        response = cds.call(an_order_sign(record, prefetch=prefetch, fhir_server=fhir.base))

    assert response.status_code == 412
    assert "is not on the FHIR server" in response.json()["detail"]
