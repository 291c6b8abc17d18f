"""Unit tests for litellm/buffered_stream/responses.py: Responses API events into the non-streaming response."""

from __future__ import annotations

import json
from typing import Any

import pytest

from litellm.buffered_stream.assemblers import StreamFailed
from litellm.buffered_stream.responses import ResponsesAssembler

Json = dict[str, Any]

FINAL: Json = {
    "id": "resp_1",
    "object": "response",
    "status": "completed",
    "output": [{"type": "message", "content": [{"type": "output_text", "text": "Hello"}]}],
    "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
}


def event(kind: str, named: bool = True, **fields: Any) -> bytes:
    data = json.dumps({"type": kind, **fields})
    return (f"event: {kind}\n" if named else "").encode() + f"data: {data}\n\n".encode()


def stream(*terminal: bytes, named: bool = True) -> bytes:
    started = {**FINAL, "status": "in_progress", "output": [], "usage": None}
    return b"".join(
        [
            event("response.created", named, response=started),
            event("response.output_item.added", named, output_index=0),
            event("response.output_text.delta", named, output_index=0, delta="Hel"),
            event("response.output_text.delta", named, output_index=0, delta="lo"),
            *terminal,
        ]
    )


def assemble(data: bytes, step: int | None = None) -> Json:
    assembler = ResponsesAssembler()
    pieces = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        assembler.feed(piece)
    return assembler.finish()


def test_the_answer_is_the_completed_events_response() -> None:
    assert assemble(stream(event("response.completed", response=FINAL))) == FINAL


@pytest.mark.parametrize("step", [1, 7, 64])
def test_bytes_may_arrive_in_pieces_of_any_size(step: int) -> None:
    assert assemble(stream(event("response.completed", response=FINAL)), step) == FINAL


def test_events_without_event_lines_are_read_by_their_type() -> None:
    data = stream(event("response.completed", named=False, response=FINAL), named=False)
    assert assemble(data) == FINAL


def test_incomplete_is_an_answer_with_its_status() -> None:
    incomplete = {**FINAL, "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    assert assemble(stream(event("response.incomplete", response=incomplete))) == incomplete


def test_failed_is_an_error_with_the_backends_message() -> None:
    failed = {**FINAL, "status": "failed", "error": {"code": "server_error", "message": "model crashed"}}
    with pytest.raises(StreamFailed) as raised:
        assemble(stream(event("response.failed", response=failed)))
    assert raised.value.status_code == 500
    assert "model crashed" in raised.value.message
    assert raised.value.body["error"]["message"] == "model crashed"
    assert raised.value.body["error"]["code"] == "server_error"


@pytest.mark.parametrize(
    "error",
    [
        event("error", code="rate_limit_exceeded", message="slow down"),
        b'data: {"error": {"message": "slow down", "type": "server_error"}}\n\n',
    ],
    ids=["error-event", "untyped-error"],
)
def test_error_event_is_an_error(error: bytes) -> None:
    with pytest.raises(StreamFailed) as raised:
        assemble(stream(error, event("response.completed", response=FINAL)))
    assert raised.value.status_code == 500
    assert "slow down" in raised.value.message


def test_stream_without_terminal_event_is_never_an_answer() -> None:
    with pytest.raises(StreamFailed) as raised:
        assemble(stream())
    assert raised.value.status_code == 502
    assert "truncated" in raised.value.message


@pytest.mark.parametrize(
    "broken",
    [
        b"event: response.output_text.delta\ndata: {not json\n\n",
        b"event: response.completed\ndata: {not json\n\n",
        event("response.completed", response="not an object"),
    ],
    ids=["delta", "terminal", "terminal-without-response"],
)
def test_malformed_events_fail_the_stream(broken: bytes) -> None:
    with pytest.raises(StreamFailed):
        assemble(stream(broken, event("response.completed", response=FINAL)) if b"delta" in broken else stream(broken))


def test_a_terminal_event_cut_before_its_blank_line_still_counts() -> None:
    data = stream(event("response.completed", response=FINAL))
    assert assemble(data.rstrip(b"\n")) == FINAL


def test_error_body_is_openai_shaped() -> None:
    assert ResponsesAssembler.error_body("why")["error"]["message"] == "why"
