"""Unit tests for litellm/buffered_stream/usage.py: the tokenizer's estimate of a usage-less answer."""

from __future__ import annotations

import pytest

from litellm.buffered_stream.usage import ESTIMATED_FIELD, estimate_body, lacks_usage, mark_estimated
from litellm.types.utils import Usage

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "Tell me a story about a fox"}]}


def body(message: dict) -> dict:
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
    }


@pytest.mark.parametrize(
    ("usage", "lacking"),
    [
        (None, True),
        ({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, True),
        (Usage(), True),
        ({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, False),
        (Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5), False),
    ],
)
def test_lacks_usage(usage: object, lacking: bool) -> None:
    assert lacks_usage(usage) is lacking


def test_text_answer_is_counted() -> None:
    usage = estimate_body(REQUEST, body({"content": "Once upon a time there was a fox"}))
    assert usage["prompt_tokens"] > 5 and usage["completion_tokens"] >= 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_tool_calls_and_reasoning_count_too() -> None:
    plain = estimate_body(REQUEST, body({"content": None}))
    tools = estimate_body(
        REQUEST,
        body(
            {
                "content": None,
                "tool_calls": [
                    {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"city": "Paris"}'}}
                ],
            }
        ),
    )
    reasoning = estimate_body(REQUEST, body({"content": "hi", "reasoning_content": "let me think about it"}))
    assert tools["completion_tokens"] > plain["completion_tokens"]
    assert reasoning["completion_tokens_details"]["reasoning_tokens"] > 0


def test_mark_estimated() -> None:
    metadata: dict = {}
    mark_estimated(metadata)
    mark_estimated(None)
    assert metadata == {ESTIMATED_FIELD: True}
