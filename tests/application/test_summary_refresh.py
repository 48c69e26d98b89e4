"""The summary catch-up: what is behind is rebuilt soon, again while some is found."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from natalizumab_cds.application.summary_refresh import BACKGROUND_NICENESS, SummaryCatchUp


class Behind:
    """A fake ``catch_up``: each call rebuilds the next count of ``waves`` (then 0)."""

    def __init__(self, *waves: int, failures: int = 0) -> None:
        self.waves = list(waves)
        self.failures = failures
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> int:
        self.release.wait(10)
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unreachable")
        return self.waves.pop(0) if self.waves else 0


def test_it_rounds_again_at_once_while_it_finds_summaries_behind() -> None:
    behind = Behind(1000, 1000, 7)
    catch_up = SummaryCatchUp(behind, interval=30).start()
    try:
        assert catch_up.wait_rounds(1, timeout=5)  # no 30 s pause between the waves
    finally:
        catch_up.close()

    assert behind.waves == []
    assert behind.calls >= 4


def test_when_nothing_is_behind_it_waits_before_looking_again() -> None:
    behind = Behind()
    catch_up = SummaryCatchUp(behind, interval=0.05).start()
    try:
        assert catch_up.wait_rounds(3, timeout=5)
        calls = behind.calls
    finally:
        catch_up.close()

    assert 3 <= calls < 50  # looked every 50 ms, not in a busy loop


def test_a_failed_round_is_tried_again() -> None:
    behind = Behind(3, failures=2)
    catch_up = SummaryCatchUp(behind, interval=0.01, retry=0.01).start()
    try:
        assert catch_up.wait_rounds(1, timeout=5)
    finally:
        catch_up.close()

    assert behind.waves == []


def test_closing_looks_once_more_for_changes_made_just_before() -> None:
    behind = Behind()
    catch_up = SummaryCatchUp(behind, interval=30).start()
    assert catch_up.wait_rounds(1, timeout=5)
    behind.waves.append(5)  # committed while it waits out its interval

    catch_up.close()

    assert behind.waves == []


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_in_the_background_its_thread_has_the_lowest_priority() -> None:
    behind = Behind()
    behind.release.clear()
    catch_up = SummaryCatchUp(behind, background=True).start()
    try:
        native_id = catch_up.native_id
        assert native_id is not None
        for _ in range(100):  # the thread lowers its own priority as it starts
            if os.getpriority(os.PRIO_PROCESS, native_id) == BACKGROUND_NICENESS:
                break
            threading.Event().wait(0.01)
        assert os.getpriority(os.PRIO_PROCESS, native_id) == BACKGROUND_NICENESS
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != BACKGROUND_NICENESS
    finally:
        behind.release.set()
        catch_up.close()
