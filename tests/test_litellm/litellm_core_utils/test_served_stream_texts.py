"""ServedStreamTexts answers what upstream's served_stream_output_texts answers for the whole list of chunks."""

from __future__ import annotations

import json

import pytest

from litellm.litellm_core_utils.served_output_texts import served_stream_output_texts
from litellm.litellm_core_utils.served_stream_texts import ServedStreamTexts
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices


def chat(*deltas: tuple[int, str | None]) -> ModelResponseStream:
    return ModelResponseStream(
        id="chatcmpl-1",
        model="m",
        choices=[StreamingChoices(index=index, delta=Delta(content=content)) for index, content in deltas],
    )


def sse(event: dict) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


ANTHROPIC = [
    sse(
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude",
                "content": [],
                "stop_reason": None,
                "usage": {"input_tokens": 3, "output_tokens": 1},
            },
        }
    ),
    sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Héllo "}}),
    sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "world"}}),
    sse({"type": "content_block_stop", "index": 0}),
    sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
    sse({"type": "message_stop"}),
]


def cases() -> dict[str, list[object]]:
    long_text = [chat((0, f"w{i} ")) for i in range(1000)]
    return {
        "empty": [],
        "one chunk": [chat((0, "hi"))],
        "text": [chat((0, "")), chat((0, "Hello")), chat((0, None)), chat((0, " world"))],
        "long text (blocks)": long_text,
        "no content at all": [chat((0, None)), chat((0, None))],
        "only empty strings": [chat((0, "")), chat((0, ""))],
        "n=2 interleaved": [chat((0, "a"), (1, "b")), chat((1, "c")), chat((0, "d"))],
        "choice 1 only": [chat((1, "x")), chat((1, "y"))],
        "choice 2 without text": [chat((0, "a"), (2, None))],
        "no choices": [ModelResponseStream(id="c", model="m", choices=[])],
        "anthropic bytes": ANTHROPIC,
        "anthropic str frames": [frame.decode() for frame in ANTHROPIC],
        "anthropic split mid-character": [b"".join(ANTHROPIC)[:200], b"".join(ANTHROPIC)[200:]],
        "raw frames, not anthropic": [b'data: {"x": 1}\n\n', b"data: [DONE]\n\n"],
        "chat then a raw frame": [chat((0, "hi")), b"data: [DONE]\n\n"],
        "chat then an object": [chat((0, "hi")), {"choices": []}],
        "invalid utf-8": [b"\xff\xfe"],
    }


@pytest.mark.parametrize("name", list(cases()))
def test_texts_equal_upstreams_answer_for_the_whole_list(name: str) -> None:
    chunks = cases()[name]
    served = ServedStreamTexts()
    for chunk in chunks:
        served.add(chunk)
    assert served.texts() == served_stream_output_texts(chunks)


def test_a_chunk_is_folded_one_step_late_so_later_edits_count() -> None:
    """The proxy's per-chunk hooks run on a chunk after it was yielded; upstream read the list at the end."""
    chunks = [chat((0, "original")), chat((0, " second"))]
    served = ServedStreamTexts()
    served.add(chunks[0])
    chunks[0].choices[0].delta.content = "edited"
    served.add(chunks[1])
    chunks[1].choices[0].delta.content = " last"
    assert served.texts() == served_stream_output_texts(chunks) == ("edited last",)


def test_texts_can_be_asked_more_than_once() -> None:
    served = ServedStreamTexts()
    served.add(chat((0, "a")))
    assert served.texts() == ("a",)
    served.add(chat((0, "b")))
    assert served.texts() == ("ab",)
    assert served.texts() == ("ab",)


def test_keeps_no_chunk() -> None:
    served = ServedStreamTexts()
    for i in range(600):
        served.add(chat((0, f"w{i} ")))
    held = [value for value in (served._held,) if isinstance(value, ModelResponseStream)]
    assert len(held) == 1  # only the chunk not folded yet
    assert served.texts() == ("".join(f"w{i} " for i in range(600)),)
