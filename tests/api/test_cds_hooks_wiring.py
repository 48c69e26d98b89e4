"""CDS Hooks in the real clinic app (``create_app``): settings, SQL ports, on SQLite and PostgreSQL.

The EHR is registered through the settings (trusted issuer → its JWK Set URL);
the replay cache and the feedback log are the clinic database's tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from natalizumab_cds.api.app import create_app
from natalizumab_cds.api.cds_hooks import FEEDBACK_PATH, SERVICE_PATH
from natalizumab_cds.application.clinic import Clinic
from natalizumab_cds.application.security.passwords import Cost, Passwords
from natalizumab_cds.bootstrap import security_for
from natalizumab_cds.config import get_settings
from natalizumab_cds.persistence.cds_hooks_store import SqlFeedbackLog
from natalizumab_cds.persistence.engine import database_engine
from tests.interop.cds_hooks.harness import jwks_endpoint
from tests.interop.cds_hooks.hooks import a_patient_view, a_record, an_order_sign
from tests.interop.cds_hooks.servers import LiveApp
from tests.interop.cds_hooks.signing import ISSUER, EhrKeys


@pytest.fixture
def ehr() -> EhrKeys:
    return EhrKeys()


@pytest.fixture
def app_url(clinic: Clinic, ehr: EhrKeys, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with jwks_endpoint(ehr) as jwks:
        monkeypatch.setenv("NTZ_CDS_HOOKS_TRUSTED_ISSUERS", json.dumps({ISSUER: jwks.url}))
        get_settings.cache_clear()
        security = security_for(
            clinic, passwords=Passwords(Cost(time_cost=1, memory_kib=8, parallelism=1))
        )
        try:
            with LiveApp(create_app(clinic, security=security)) as server:
                yield server.url
        finally:
            get_settings.cache_clear()


def signed(ehr: EhrKeys, url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ehr.token(url)}"}


def test_the_clinic_app_answers_an_ehrs_hook_call_without_a_user_sign_in(
    app_url: str, ehr: EhrKeys
) -> None:
    with httpx.Client() as client:
        discovery = client.get(app_url + "/cds-services")
        response = client.post(
            app_url + SERVICE_PATH,
            json=an_order_sign(a_record("pregnant")),
            headers=signed(ehr, app_url + SERVICE_PATH),
        )

    assert discovery.status_code == 200
    assert response.status_code == 200, response.text
    rules = {c["source"]["topic"]["code"] for c in response.json()["cards"]}
    assert "population.pregnancy" in rules


def test_a_token_replayed_against_the_clinic_app_is_refused(app_url: str, ehr: EhrKeys) -> None:
    headers = signed(ehr, app_url + SERVICE_PATH)
    call = a_patient_view(a_record("routine-proceed"))

    with httpx.Client() as client:
        first = client.post(app_url + SERVICE_PATH, json=call, headers=headers)
        again = client.post(app_url + SERVICE_PATH, json=call, headers=headers)

    assert first.status_code == 200, first.text
    assert again.status_code == 401
    assert "already used" in again.json()["detail"]


def test_feedback_sent_to_the_clinic_app_is_kept_in_the_clinic_database(
    app_url: str, ehr: EhrKeys, database_url: str
) -> None:
    body = {
        "feedback": [
            {
                "card": "0b6c5f1e-0000-5000-8000-000000000001",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "s-1"}],
                "outcomeTimestamp": "2026-11-24T09:10:00Z",
            }
        ]
    }

    with httpx.Client() as client:
        response = client.post(
            app_url + FEEDBACK_PATH, json=body, headers=signed(ehr, app_url + FEEDBACK_PATH)
        )

    assert response.status_code == 200, response.text
    engine = database_engine(database_url)
    try:
        [stored] = SqlFeedbackLog(engine).for_card("0b6c5f1e-0000-5000-8000-000000000001")
    finally:
        engine.dispose()
    assert stored.accepted_suggestions == ("s-1",)
    assert stored.client == ISSUER
