"""Unit tests for litellm/buffered_stream/text_completion.py: text completion chunks into one text_completion."""

from __future__ import annotations

import json
from typing import Any

import pytest

from litellm.buffered_stream.assemblers import StreamFailed
from litellm.buffered_stream.text_completion import TextCompletionAssembler

Json = dict[str, Any]
BASE: Json = {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m"}


def chunk(index: int = 0, text: str = "", finish_reason: str | None = None, **extra: Any) -> Json:
    return {
        **BASE,
        "choices": [{"index": index, "text": text, "logprobs": None, "finish_reason": finish_reason}],
        **extra,
    }


def sse(*events: Json | str) -> bytes:
    return "".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events).encode()


def assemble(data: bytes) -> Json:
    assembler = TextCompletionAssembler()
    for i in range(0, len(data), 5):
        assembler.feed(data[i : i + 5])
    return assembler.finish()


USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_text_concatenates_and_usage_comes_from_the_usage_chunk() -> None:
    body = assemble(
        sse(
            chunk(text="Hel"),
            chunk(text="lo 🎉", finish_reason="stop"),
            {**BASE, "choices": [], "usage": USAGE},
            "[DONE]",
        )
    )
    assert body == {
        **BASE,
        "choices": [{"index": 0, "text": "Hello 🎉", "logprobs": None, "finish_reason": "stop"}],
        "usage": USAGE,
    }


def test_choices_are_assembled_apart_and_in_index_order() -> None:
    body = assemble(sse(chunk(1, "b"), chunk(0, "a"), chunk(1, "B", "length"), chunk(0, "A", "stop"), "[DONE]"))
    assert [(c["index"], c["text"], c["finish_reason"]) for c in body["choices"]] == [
        (0, "aA", "stop"),
        (1, "bB", "length"),
    ]


def test_logprobs_lists_extend() -> None:
    def with_logprobs(text: str, offset: int, finish: str | None = None) -> Json:
        logprobs = {"tokens": [text], "token_logprobs": [-0.5], "top_logprobs": [{text: -0.5}], "text_offset": [offset]}
        doc = chunk(text=text, finish_reason=finish)
        doc["choices"][0]["logprobs"] = logprobs
        return doc

    body = assemble(sse(with_logprobs("a", 0), with_logprobs("bc", 1, "stop"), "[DONE]"))
    assert body["choices"][0]["logprobs"] == {
        "tokens": ["a", "bc"],
        "token_logprobs": [-0.5, -0.5],
        "top_logprobs": [{"a": -0.5}, {"bc": -0.5}],
        "text_offset": [0, 1],
    }


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (sse(chunk(text="trunc"), "[DONE]"), "finish_reason"),
        (sse({**BASE, "choices": [], "usage": USAGE}), "without any choice"),
        (sse(chunk(text="a"), "{broken", chunk(finish_reason="stop")), "unparseable"),
        (sse(chunk(text="a"), {"error": {"message": "model crashed"}}), "model crashed"),
    ],
    ids=["no-finish", "no-choice", "malformed", "error"],
)
def test_a_stream_that_cannot_be_a_complete_answer_fails(data: bytes, words: str) -> None:
    with pytest.raises(StreamFailed) as raised:
        assemble(data)
    assert words in raised.value.message
    assert raised.value.status_code == 502
