"""``FrameReader``: MLLP frames cut out of bytes however the network splits them."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natalizumab_cds.interop.hl7v2.mllp import FrameReader, OutsideFrames, Oversized, frame

LIMIT = 64


def _read_all(chunks: list[bytes], limit: int = LIMIT) -> list[bytes | Oversized]:
    reader = FrameReader(limit)
    found: list[bytes | Oversized] = []
    for chunk in chunks:
        found += reader.feed(chunk)
        if found and isinstance(found[-1], Oversized):
            break
    return found


def test_frames_in_one_piece_give_their_messages_in_order() -> None:
    data = frame(b"MSH|one\r") + frame(b"MSH|two\r")

    assert _read_all([data]) == [b"MSH|one\r", b"MSH|two\r"]


def test_a_frame_split_anywhere_gives_the_same_message() -> None:
    data = frame(b"MSH|split\r")
    for cut in range(1, len(data)):
        assert _read_all([data[:cut], data[cut:]]) == [b"MSH|split\r"], cut


def test_an_end_block_split_between_two_reads_is_still_found() -> None:
    assert _read_all([b"\x0bMSH|x\x1c", b"\r"]) == [b"MSH|x"]


def test_a_half_frame_gives_nothing_until_its_end_arrives() -> None:
    reader = FrameReader(LIMIT)

    assert reader.feed(b"\x0bMSH|half") == []
    assert reader.in_frame
    assert reader.feed(b"\x1c\r") == [b"MSH|half"]
    assert not reader.in_frame


def test_bytes_between_frames_are_skipped_and_a_restart_keeps_the_last_frame() -> None:
    data = b"\r\n" + frame(b"A") + b"\n" + b"\x0bABANDONED" + frame(b"B")

    assert _read_all([data]) == [b"A", b"B"]


def test_a_message_of_exactly_the_limit_is_read_and_one_byte_more_is_oversized() -> None:
    assert _read_all([frame(b"x" * LIMIT)]) == [b"x" * LIMIT]

    (too_big,) = _read_all([frame(b"y" * (LIMIT + 1))])
    assert too_big == Oversized(b"y" * LIMIT)


def test_an_endless_frame_is_oversized_as_soon_as_its_end_can_no_longer_fit() -> None:
    reader = FrameReader(LIMIT)

    assert reader.feed(b"\x0b" + b"z" * (LIMIT + 1)) == []  # "\x1c\r" could still end it
    assert reader.feed(b"z") == [Oversized(b"z" * LIMIT)]


def test_too_many_bytes_outside_any_frame_are_refused() -> None:
    reader = FrameReader(LIMIT)
    reader.feed(b"\n" * LIMIT)

    with pytest.raises(OutsideFrames):
        reader.feed(b"\n")


@settings(max_examples=200, deadline=None)
@given(
    messages=st.lists(
        st.binary(max_size=LIMIT).map(lambda b: b.replace(b"\x0b", b"").replace(b"\x1c", b"")),
        min_size=1,
        max_size=5,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_any_split_of_a_stream_gives_its_messages(messages: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(message) for message in messages)
    points = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    chunks = [stream[start:end] for start, end in pairwise(points)]

    assert _read_all(chunks) == messages
