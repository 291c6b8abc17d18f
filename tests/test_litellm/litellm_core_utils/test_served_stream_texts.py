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


# Text the stream-through lane wrote to the client directly (never a chunk): (choice index, text).
Direct = tuple[int, str]


def feed(served: ServedStreamTexts, items: list[object]) -> None:
    for item in items:
        if isinstance(item, tuple):
            served.add_text(*item)
        else:
            served.add(item)


def as_chunks(items: list[object]) -> list[object]:
    """The stream as upstream served it: each directly written text a chat chunk holding only that text."""
    return [chat(item) if isinstance(item, tuple) else item for item in items]


DIRECT_CASES: dict[str, list[object]] = {
    "only direct text": [(0, "Hello"), (0, " world")],
    "direct text between chunks": [chat((0, "")), (0, "a"), chat((0, "b")), (0, "c"), chat((0, None))],
    "direct text first": [(0, "a"), chat((0, "b"))],
    "an empty direct text counts as text": [chat((0, None)), (0, "")],
    "direct text for choice 1 only": [(1, "x")],
    "direct text and n=2 chunks": [chat((0, "a"), (1, "b")), (1, "c"), (0, "d"), chat((0, "e"), (1, None))],
    "direct text after a raw frame": [b'data: {"x": 1}\n\n', (0, "lost")],
    "a raw frame after direct text": [(0, "a"), b"data: [DONE]\n\n"],
}


@pytest.mark.parametrize("name", list(DIRECT_CASES))
def test_directly_written_text_counts_as_a_chat_chunk_holding_only_it(name: str) -> None:
    items = DIRECT_CASES[name]
    served = ServedStreamTexts()
    feed(served, items)
    assert served.texts() == served_stream_output_texts(as_chunks(items))


def test_directly_written_text_follows_the_chunk_before_it_with_that_chunks_edits() -> None:
    """The held chunk is folded before the text, as it stands then: edits made to it until the text came count."""
    first = chat((0, "original"))
    served = ServedStreamTexts()
    served.add(first)
    first.choices[0].delta.content = "edited"
    served.add_text(0, " direct")
    served.add(chat((0, " last")))
    assert served.texts() == ("edited direct last",)


def test_directly_written_text_keeps_no_chunk() -> None:
    served = ServedStreamTexts()
    served.add(chat((0, "a")))
    served.add_text(0, "b")
    assert not isinstance(served._held, ModelResponseStream)  # the chunk was folded when the text came
    for i in range(600):
        served.add_text(0, f"w{i} ")
    assert served.texts() == ("ab" + "".join(f"w{i} " for i in range(600)),)
