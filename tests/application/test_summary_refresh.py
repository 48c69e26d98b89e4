"""The summary refresher: changes reported from any thread are summarised soon, together."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from natalizumab_cds.application.summary_refresh import SummaryRefresher


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.failures = failures
        self.release = threading.Event()
        self.release.set()

    def __call__(self, patient_ids: Sequence[str]) -> int:
        self.release.wait(10)
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        self.calls.append(list(patient_ids))
        return len(patient_ids)


def test_changes_are_summarised_once_each_and_together() -> None:
    recorder = Recorder()
    refresher = SummaryRefresher(recorder, gather_seconds=0.05)
    try:
        refresher.changed(["p2", "p1"])
        refresher.changed(["p1", "p3"])

        assert refresher.wait_idle(10)
    finally:
        refresher.close()

    assert sorted(p for call in recorder.calls for p in call) == ["p1", "p2", "p3"]
    assert recorder.calls[0] == sorted(recorder.calls[0])


def test_a_failed_refresh_is_tried_again() -> None:
    recorder = Recorder(failures=2)
    refresher = SummaryRefresher(recorder, gather_seconds=0.01, retry_seconds=0.01)
    try:
        refresher.changed(["p1"])

        assert refresher.wait_idle(10)
    finally:
        refresher.close()

    assert recorder.calls == [["p1"]]


def test_changes_reported_during_a_refresh_are_not_lost() -> None:
    recorder = Recorder()
    recorder.release.clear()
    refresher = SummaryRefresher(recorder, gather_seconds=0.01)
    try:
        refresher.changed(["p1"])
        refresher.changed(["p2"])  # may land in the first round or the next
        assert not refresher.wait_idle(0.1)  # the first round is held up
        recorder.release.set()

        assert refresher.wait_idle(10)
    finally:
        refresher.close()

    assert sorted(p for call in recorder.calls for p in call) == ["p1", "p2"]


def test_closing_summarises_what_is_pending_first() -> None:
    recorder = Recorder()
    refresher = SummaryRefresher(recorder, gather_seconds=5.0)

    refresher.changed(["p9"])
    refresher.close()

    assert recorder.calls == [["p9"]]
