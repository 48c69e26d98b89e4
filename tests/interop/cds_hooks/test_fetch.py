"""Fetching missing prefetch keys from a FHIR server on loopback, below HTTP of the service."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from natalizumab_cds.interop.cds_hooks.errors import DataUnavailable
from natalizumab_cds.interop.cds_hooks.fetch import FhirFetcher
from natalizumab_cds.interop.cds_hooks.prefetch import Record, read_prefetch
from tests.interop.cds_hooks.hooks import a_record
from tests.interop.cds_hooks.servers import FhirRecordServer, JsonServer

RECORD = a_record("liver-elevated")


def fetch_all(server: str, fetcher: FhirFetcher | None = None) -> Record:
    record = Record("p0")
    pending = read_prefetch({}, record)
    asyncio.run((fetcher or FhirFetcher(2.0)).complete(record, pending, server, "token"))
    return record


def test_the_whole_record_is_fetched_from_the_fhir_server() -> None:
    with FhirRecordServer(RECORD, page_size=7) as fhir:
        record = fetch_all(fhir.base)

    assert sorted(r["id"] for r in record.resources()) == sorted(r["id"] for r in RECORD)


def test_more_pages_than_allowed_is_unavailable_data() -> None:
    with (
        FhirRecordServer(RECORD, page_size=1) as fhir,
        pytest.raises(DataUnavailable, match="pages"),
    ):
        fetch_all(fhir.base, FhirFetcher(5.0, max_pages=3))


def test_an_answer_bigger_than_allowed_is_unavailable_data() -> None:
    with FhirRecordServer(RECORD) as fhir, pytest.raises(DataUnavailable, match="exceeds"):
        fetch_all(fhir.base, FhirFetcher(5.0, max_bytes=1000))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>", "not JSON"),
        ([1, 2], "not a FHIR resource"),
        ({"resourceType": "Observation"}, "expected a"),
    ],
)
def test_an_answer_that_is_not_the_fhir_asked_for_is_unavailable_data(
    body: Any, reason: str
) -> None:
    server = JsonServer(lambda path, query, headers: (200, body))
    with server, pytest.raises(DataUnavailable, match=reason):
        fetch_all(server.url + "/fhir")


def test_a_fhir_server_that_is_not_a_url_is_unavailable_data() -> None:
    with pytest.raises(DataUnavailable):
        fetch_all("ht!tp://[::1")
