"""ORU^R01 → Observations: published samples (NIST ELR 2.5.1, HL7 v2.4 GHH LAB) and
synthetic messages. Which is which is said in tests/fixtures/hl7/README.md."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from natalizumab_cds.application.lab_messages import AckCode, ErrorCode
from natalizumab_cds.interop.hl7v2 import Hl7Rejected, read_oru
from tests.interop.hl7v2.messages import an_obx, an_oru, fixture

CLINIC = ZoneInfo("Europe/Berlin")


def _read(raw: bytes):  # type: ignore[no-untyped-def]
    return read_oru(raw, CLINIC)


def _rejection(raw: bytes) -> Hl7Rejected:
    with pytest.raises(Hl7Rejected) as caught:
        _read(raw)
    return caught.value


def test_the_published_nist_sample_is_read_and_its_lead_result_named_as_not_stored() -> None:
    message = _read(fixture("nist_elr_251_case1.hl7"))

    assert message.header.control_id == "NIST-100929110701660"
    assert message.header.sender == "EHR Application|EHR Facility"
    assert message.mrn == "9817566735"
    assert message.observations == ()
    assert message.notes == ("OBX 1: LOINC 10368-9 is not one of the profile's tests, not stored",)


def test_the_published_ghh_lab_sample_with_an_sn_value_is_read() -> None:
    message = _read(fixture("ghh_lab_glucose_v24.hl7"))

    assert (message.header.control_id, message.mrn) == ("CNTRL-3456", "555-44-4444")
    # its OBX-3.3 holds a LOINC name, not the coding system "LN"
    (note,) = message.notes
    assert note.startswith("OBX 1: code 1554-5 (POST 12H CFST:MCNC:PT:SER/PLAS:QN) is not LOINC")


def test_the_adapted_nist_sample_gives_alt_and_ast_observations() -> None:
    alt, ast = _read(fixture("nist_elr_251_case1_adapted_liver.hl7")).observations

    assert alt["code"]["coding"][0]["code"] == "1742-6"
    assert alt["status"] == "final"
    assert alt["valueQuantity"] == {
        "value": 50.0,
        "unit": "U/L",
        "system": "http://unitsofmeasure.org",
        "code": "U/L",
    }
    assert alt["referenceRange"][0]["high"]["value"] == 40
    assert alt["referenceRange"][0]["low"]["value"] == 10
    assert alt["interpretation"][0]["coding"][0]["code"] == "H"
    assert alt["effectiveDateTime"] == "2008-08-15T10:30:00-07:00"
    assert ast["valueQuantity"]["value"] == 30  # 0.5 ukat/L in U/L
    assert ast["referenceRange"][0]["high"]["value"] == 36  # <0.6 ukat/L
    assert "low" not in ast["referenceRange"][0]
    assert "as sent 0.5 ukat/L" in ast["note"][0]["text"]
    assert "subject" not in alt  # the use case adds the patient found by MRN


def test_observation_ids_are_the_same_for_the_same_message_and_differ_across_messages() -> None:
    first = _read(an_oru("SYN-A")).observations[0]["id"]
    again = _read(an_oru("SYN-A")).observations[0]["id"]
    other = _read(an_oru("SYN-B")).observations[0]["id"]

    assert first == again != other
    assert first.startswith("hl7-")
    assert len(first) <= 64


def test_repeated_obx_set_ids_still_give_distinct_observation_ids() -> None:
    results = [an_obx(1), an_obx(1, code="1920-8")]

    ids = [obs["id"] for obs in _read(an_oru(results=results)).observations]

    assert len(set(ids)) == 2


@pytest.mark.parametrize(
    ("code", "value", "units", "expected", "unit"),
    [
        ("1742-6", "0.5", "ukat/L^^UCUM", 30, "U/L"),
        ("26474-7", "2100", "/uL", 2.1, "10*9/L"),
        ("731-0", "2.1", "10\\S\\9/L", 2.1, "10*9/L"),  # 10^9/L, ^ escaped as \S\
        ("742-7", "0.6", "K/uL", 0.6, "10*9/L"),
        ("26515-7", "250", "10*3/uL^^UCUM", 250, "10*9/L"),
        ("3016-3", "2.1", "uIU/mL", 2.1, "m[IU]/L"),
        ("14920-3", "12.87", "pmol/L", 1.0, "ng/dL"),
    ],
)
def test_values_are_converted_into_the_analytes_canonical_unit(
    code: str, value: str, units: str, expected: float, unit: str
) -> None:
    raw = an_oru(results=[an_obx(1, code=code, value=value, units=units, reference="")])

    (observation,) = _read(raw).observations

    assert observation["valueQuantity"]["value"] == pytest.approx(expected)
    assert observation["valueQuantity"]["code"] == unit


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("10-40", 10, 40), ("10 - 40", 10, 40), ("<5", None, 5), ("<=5", None, 5), (">1", 1, None)],
)
def test_reference_ranges_give_low_and_high(text: str, low: float, high: float) -> None:
    (observation,) = _read(an_oru(results=[an_obx(1, reference=text)])).observations

    reference = observation["referenceRange"][0]
    assert reference.get("low", {}).get("value") == low
    assert reference.get("high", {}).get("value") == high
    assert reference["text"] == text


def test_a_time_without_offset_is_local_time_at_the_clinic() -> None:
    (observation,) = _read(an_oru(order_time="20260715083000")).observations

    moment = datetime.fromisoformat(observation["effectiveDateTime"])
    assert moment.utcoffset() == timedelta(hours=2)  # Berlin summer time
    assert moment == datetime(2026, 7, 15, 8, 30, tzinfo=CLINIC)


def test_obx_14_is_the_time_when_present_else_obr_7() -> None:
    results = [an_obx(1, time="202611010700-0030"), an_obx(2)]

    first, second = _read(an_oru(results=results)).observations

    assert datetime.fromisoformat(first["effectiveDateTime"]) == datetime(
        2026, 11, 1, 7, 0, tzinfo=timezone(-timedelta(minutes=30))
    )
    assert second["effectiveDateTime"] == "2026-11-01T08:30:00+01:00"


def test_results_with_status_x_or_d_are_not_stored_and_are_named() -> None:
    message = _read(fixture("synthetic_status_x_and_d.hl7"))

    (corrected,) = message.observations
    assert corrected["status"] == "corrected"
    assert corrected["valueQuantity"]["value"] == 38
    assert message.notes == (
        "OBX 1: 1742-6 has result status X (cannot be obtained), never counts, not stored",
        "OBX 2: 1920-8 has result status D (deleted), never counts, not stored",
    )


def test_a_structured_value_with_a_comparator_keeps_the_comparator() -> None:
    raw = an_oru(results=[an_obx(1, code="3016-3", kind="SN", value="<^0.01", units="mIU/L")])

    (observation,) = _read(raw).observations

    assert observation["valueQuantity"]["comparator"] == "<"
    assert observation["valueQuantity"]["value"] == 0.01


def test_pid_3_prefers_the_identifier_typed_mr() -> None:
    assert _read(fixture("synthetic_monitoring_panel.hl7")).mrn == "MRN0000001"


def test_line_feeds_between_segments_are_taken_as_carriage_returns() -> None:
    raw = an_oru().replace(b"\r", b"\r\n")

    assert len(_read(raw).observations) == 1


def test_iso_8859_1_text_is_read_when_msh_18_says_so() -> None:
    raw = an_oru().replace(b"|2.5.1\r", b"|2.5.1||||||8859/1\r").replace(b"Patient", b"Jos\xe9")

    assert _read(raw).mrn == "MRN0000001"


def _cut_before_obx_11() -> bytes:
    raw = an_oru()
    return raw[: raw.index(b"|10-40|")]


@pytest.mark.parametrize(
    ("raw", "error", "location"),
    [
        pytest.param(b"", ErrorCode.SEGMENT_SEQUENCE, "MSH", id="empty"),
        pytest.param(b"PID|1||X\rOBX|1", ErrorCode.SEGMENT_SEQUENCE, "MSH", id="missing MSH"),
        pytest.param(
            an_oru().replace(b"MSH|^~\\&|", b"MSH|^~\\#|"),
            ErrorCode.DATA_TYPE,
            "MSH^1^2",
            id="wrong encoding characters",
        ),
        pytest.param(
            an_oru().replace(b"MSH|", b"MSH!", 1),
            ErrorCode.DATA_TYPE,
            "MSH^1^2",
            id="wrong field separator",
        ),
        pytest.param(
            fixture("ghh_lab_adapted_adt_a01.hl7"),
            ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
            "MSH^1^9",
            id="ADT instead of ORU",
        ),
        pytest.param(
            an_oru(message_type="ORU^R30"), ErrorCode.UNSUPPORTED_EVENT, "MSH^1^9", id="R30"
        ),
        pytest.param(
            an_oru(control_id=""), ErrorCode.REQUIRED_FIELD_MISSING, "MSH^1^10", id="no MSH-10"
        ),
        pytest.param(
            an_oru(processing_id="T"),
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
            "MSH^1^11",
            id="training message",
        ),
        pytest.param(an_oru(mrn=""), ErrorCode.REQUIRED_FIELD_MISSING, "PID^1^3", id="no PID-3"),
        pytest.param(
            an_oru().split(b"\rPID")[0] + b"\r",
            ErrorCode.SEGMENT_SEQUENCE,
            "PID",
            id="truncated after MSH",
        ),
        pytest.param(
            an_oru()[:60], ErrorCode.REQUIRED_FIELD_MISSING, "MSH^1^10", id="truncated in MSH"
        ),
        pytest.param(
            _cut_before_obx_11(),
            ErrorCode.REQUIRED_FIELD_MISSING,
            "OBX^1^11",
            id="truncated in OBX",
        ),
        pytest.param(
            an_oru() + b"MSH|^~\\&|A|B|C|D|2026||ORU^R01|X|P|2.5.1\r",
            ErrorCode.SEGMENT_SEQUENCE,
            "MSH",
            id="two messages in one",
        ),
        pytest.param(
            an_oru().replace(b"PID|", b"PID|1||OTHER^^^X^MR\rPID|", 1),
            ErrorCode.SEGMENT_SEQUENCE,
            "PID",
            id="two patients",
        ),
        pytest.param(
            an_oru().replace(b"OBR|1|", b"NTE|1|"),
            ErrorCode.SEGMENT_SEQUENCE,
            "OBX^1",
            id="OBX without OBR",
        ),
        pytest.param(b"MSH|^~\\&|\xff\xfe|", ErrorCode.DATA_TYPE, "MSH^1^18", id="not UTF-8"),
    ],
)
def test_messages_outside_the_profile_are_rejected_ar(
    raw: bytes, error: ErrorCode, location: str
) -> None:
    rejection = _rejection(raw)

    assert rejection.code is AckCode.REJECT
    assert (rejection.error, rejection.location) == (error, location)


def test_a_rejection_keeps_the_control_id_when_one_can_be_read() -> None:
    rejection = _rejection(an_oru("SYN-WRONG", message_type="ADT^A01"))

    assert rejection.header is not None
    assert rejection.header.control_id == "SYN-WRONG"


@pytest.mark.parametrize(
    ("obx", "error", "field", "words"),
    [
        (an_obx(1, value="high"), ErrorCode.DATA_TYPE, 5, "not a number"),
        (an_obx(1, value="1e3"), ErrorCode.DATA_TYPE, 5, "not a number"),
        (an_obx(1, value="nan"), ErrorCode.DATA_TYPE, 5, "not a number"),
        (an_obx(1, value=""), ErrorCode.REQUIRED_FIELD_MISSING, 5, "has no value"),
        (an_obx(1, value="35~36"), ErrorCode.DATA_TYPE, 5, "more than one value"),
        (an_obx(1, kind="SN", value="^10^-^20"), ErrorCode.DATA_TYPE, 5, "structured value"),
        (an_obx(1, kind="ST"), ErrorCode.DATA_TYPE, 2, "value type ST"),
        (an_obx(1, units="furlongs"), ErrorCode.TABLE_VALUE_NOT_FOUND, 6, "cannot be converted"),
        (an_obx(1, units=""), ErrorCode.TABLE_VALUE_NOT_FOUND, 6, "has no unit"),
        (an_obx(1, reference="normal"), ErrorCode.DATA_TYPE, 7, "reference range"),
        (an_obx(1, reference="40-10"), ErrorCode.DATA_TYPE, 7, "reference range"),
        (an_obx(1, status="Q"), ErrorCode.TABLE_VALUE_NOT_FOUND, 11, "table 0085"),
        (an_obx(1, time="20261301"), ErrorCode.DATA_TYPE, 14, "not a valid date"),
        (an_obx(1, time="yesterday"), ErrorCode.DATA_TYPE, 14, "not an HL7 timestamp"),
        (an_obx(1, time="20260101+2500"), ErrorCode.DATA_TYPE, 14, "impossible UTC offset"),
    ],
)
def test_results_whose_values_cannot_be_applied_are_answered_ae(
    obx: str, error: ErrorCode, field: int, words: str
) -> None:
    rejection = _rejection(an_oru(results=[obx]))

    assert rejection.code is AckCode.ERROR
    assert (rejection.error, rejection.location) == (error, f"OBX^1^{field}")
    assert words in rejection.reason


def test_a_result_without_any_time_is_answered_ae() -> None:
    rejection = _rejection(an_oru(order_time=""))

    assert rejection.code is AckCode.ERROR
    assert "no observation time" in rejection.reason
