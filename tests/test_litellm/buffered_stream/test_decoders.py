"""Unit tests for litellm/buffered_stream/decoders.py: lines, SSE and NDJSON, fed in pieces of any size."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from litellm.buffered_stream.decoders import LineDecoder, NDJSONDecoder, SSEDecoder, dumps, loads


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given positions (any order, duplicates allowed)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


def feed_all(decoder: Any, chunks: list[bytes]) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    out.extend(decoder.flush())
    return out


def bytewise(decoder: Any, data: bytes) -> list[Any]:
    return feed_all(decoder, [data[i : i + 1] for i in range(len(data))])


# ---------------------------------------------------------------------------------------------
# LineDecoder
# ---------------------------------------------------------------------------------------------


def test_line_decoder_splits_lf_crlf_and_cr() -> None:
    assert feed_all(LineDecoder(), [b"a\nb\r\nc\rd\n"]) == [b"a", b"b", b"c", b"d"]


def test_line_decoder_keeps_unfinished_tail_until_flush() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"one\ntw") == [b"one"]
    assert decoder.feed(b"o") == []
    assert decoder.flush() == [b"two"]
    assert decoder.flush() == []


def test_line_decoder_empty_feed_is_noop() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"") == []
    assert decoder.flush() == []


def test_line_decoder_crlf_split_between_cr_and_lf_is_one_line_break() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"a\r") == []
    assert decoder.feed(b"\nb\r\n") == [b"a", b"b"]
    assert decoder.flush() == []


def test_line_decoder_lone_cr_at_end_of_stream_ends_the_line() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"a\r") == []
    assert decoder.flush() == [b"a"]


def test_line_decoder_cr_followed_by_other_byte_is_a_line_break() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"a\r") == []
    assert decoder.feed(b"b\n") == [b"a", b"b"]


def test_line_decoder_blank_lines_are_kept() -> None:
    assert feed_all(LineDecoder(), [b"a\r\n\r\nb\n\n"]) == [b"a", b"", b"b", b""]


# ---------------------------------------------------------------------------------------------
# SSEDecoder
# ---------------------------------------------------------------------------------------------


def test_sse_single_event() -> None:
    assert feed_all(SSEDecoder(), [b'data: {"a":1}\n\n']) == [("", b'{"a":1}')]


def test_sse_multi_line_data_joined_with_newline() -> None:
    assert feed_all(SSEDecoder(), [b"data: one\ndata: two\ndata:three\n\n"]) == [("", b"one\ntwo\nthree")]


def test_sse_comments_and_unknown_fields_are_skipped() -> None:
    stream = b": keep-alive\nid: 7\nretry: 100\ndata: x\n\n:another comment\n\n"
    assert feed_all(SSEDecoder(), [stream]) == [("", b"x")]


def test_sse_event_field_applies_to_one_event_only() -> None:
    stream = b"event: message_start\ndata: a\n\ndata: b\n\n"
    assert feed_all(SSEDecoder(), [stream]) == [("message_start", b"a"), ("", b"b")]


def test_sse_event_without_data_is_not_dispatched_and_does_not_leak() -> None:
    stream = b"event: ping\n\ndata: b\n\n"
    assert feed_all(SSEDecoder(), [stream]) == [("", b"b")]


def test_sse_crlf_line_endings() -> None:
    stream = b"event: e\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"
    assert feed_all(SSEDecoder(), [stream]) == [("e", b"a\nb"), ("", b"c")]


def test_sse_only_one_leading_space_is_stripped() -> None:
    assert feed_all(SSEDecoder(), [b"data:  two spaces\n\n"]) == [("", b" two spaces")]


def test_sse_value_may_contain_colons() -> None:
    assert feed_all(SSEDecoder(), [b'data: {"a": "b:c"}\n\n']) == [("", b'{"a": "b:c"}')]


def test_sse_unterminated_event_is_returned_by_flush_only() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: last\ndata: tail") == []
    assert decoder.flush() == [("last", b"tail")]
    assert decoder.flush() == []


def test_sse_unterminated_event_with_final_newline_is_flushed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.flush() == [("", b"a")]


def test_sse_multi_line_event_split_inside_crlf() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [("", b"a\nb")]


def test_sse_event_field_split_inside_crlf_is_kept() -> None:
    assert bytewise(SSEDecoder(), b"event: content_block_delta\r\ndata: x\r\n\r\n") == [("content_block_delta", b"x")]


# ---------------------------------------------------------------------------------------------
# NDJSONDecoder
# ---------------------------------------------------------------------------------------------


def test_ndjson_lines_and_blank_lines_skipped() -> None:
    assert feed_all(NDJSONDecoder(), [b'{"a":1}\n\n  \n{"b":2}\r\n']) == [b'{"a":1}', b'{"b":2}']


def test_ndjson_unterminated_last_line_is_flushed() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"a":1}\n{"done":') == [b'{"a":1}']
    assert decoder.feed(b"true}") == []
    assert decoder.flush() == [b'{"done":true}']


def test_ndjson_whitespace_only_tail_is_dropped() -> None:
    decoder = NDJSONDecoder()
    decoder.feed(b'{"a":1}\n   ')
    assert decoder.flush() == []


# ---------------------------------------------------------------------------------------------
# json helpers
# ---------------------------------------------------------------------------------------------


def test_dumps_loads_round_trip_unicode() -> None:
    doc = {"text": "héllo 世界 🎉", "n": [1, 2.5, None, True]}
    assert loads(dumps(doc)) == doc


# ---------------------------------------------------------------------------------------------
# Split anywhere: the decoded result never depends on where the bytes were cut
# ---------------------------------------------------------------------------------------------

SSE_SAMPLE = (
    ": comment\r\n"
    "event: message_start\r\n"
    'data: {"text": "héllo 世界 🎉"}\r\n'
    "\r\n"
    "data: line one\r\n"
    "data: line two — ü\r\n"
    "\r\n"
    "event: e\n"
    "data:no-space\n"
    "\n"
    "data: cr only\r"
    "\r"
    "data: [DONE]\n"
    "\n"
    "data: unterminated 🎉"
).encode()

NDJSON_SAMPLE = '{"message":{"content":"héllo"}}\r\n\n{"message":{"content":"世界 🎉"}}\n{"done":true}'.encode()

cut_lists = st.lists(st.integers(min_value=0, max_value=400), max_size=40)


@settings(max_examples=300, deadline=None)
@given(cuts=cut_lists)
def test_sse_split_anywhere(cuts: list[int]) -> None:
    expected = feed_all(SSEDecoder(), [SSE_SAMPLE])
    assert feed_all(SSEDecoder(), pieces(SSE_SAMPLE, cuts)) == expected


@settings(max_examples=300, deadline=None)
@given(cuts=cut_lists)
def test_ndjson_split_anywhere(cuts: list[int]) -> None:
    expected = feed_all(NDJSONDecoder(), [NDJSON_SAMPLE])
    assert feed_all(NDJSONDecoder(), pieces(NDJSON_SAMPLE, cuts)) == expected


def test_sse_sample_decodes_as_expected() -> None:
    assert feed_all(SSEDecoder(), [SSE_SAMPLE]) == [
        ("message_start", '{"text": "héllo 世界 🎉"}'.encode()),
        ("", "line one\nline two — ü".encode()),
        ("e", b"no-space"),
        ("", b"cr only"),
        ("", b"[DONE]"),
        ("", "unterminated 🎉".encode()),
    ]


def test_sse_sample_byte_by_byte() -> None:
    assert bytewise(SSEDecoder(), SSE_SAMPLE) == feed_all(SSEDecoder(), [SSE_SAMPLE])


line_texts = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=12),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(lines=line_texts, ending=st.sampled_from(["\n", "\r\n", "\r"]), cuts=cut_lists)
def test_line_decoder_split_anywhere_any_line_ending(lines: list[str], ending: str, cuts: list[int]) -> None:
    data = "".join(line + ending for line in lines).encode()
    assert feed_all(LineDecoder(), pieces(data, cuts)) == [line.encode() for line in lines]


# ---------------------------------------------------------------------------------------------
# Cost: a line (an SSE event, an NDJSON document) of any size costs time linear in its size
# ---------------------------------------------------------------------------------------------

READ = 16 * 1024


def _feed_time(decoder: Any, size: int) -> float:
    """Seconds to feed one unfinished event of ``size`` bytes in ``READ``-byte reads (best of 5)."""
    reads = [b"data: " + b"x" * (READ - 6)] + [b"x" * READ] * (size // READ - 1)
    best = float("inf")
    for _ in range(5):
        fresh = type(decoder)()
        started = time.perf_counter()
        for data in reads:
            fresh.feed(data)
        best = min(best, time.perf_counter() - started)
    return best


def test_one_multi_megabyte_event_in_small_reads_costs_linear_time() -> None:
    """8x the size must cost about 8x the time (a buffer copied on every read costs ~64x).

    Only the reads before the event ends are timed: the final join is one copy whose cost depends on
    the allocator (fresh pages for large sizes), not on the decoder.
    """
    small, large = 2 * 1024 * 1024, 16 * 1024 * 1024
    ratio = _feed_time(SSEDecoder(), large) / max(_feed_time(SSEDecoder(), small), 1e-6)
    assert ratio < 24, f"16 MB cost {ratio:.0f}x what 2 MB cost: the decoder is not linear"
    decoder = SSEDecoder()
    events = [event for data in (b"data: ", b"y" * large, b"\n", b"\n") for event in decoder.feed(data)]
    assert events == [("", b"y" * large)]
