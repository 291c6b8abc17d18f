"""Unit tests for litellm/buffered_stream/completion.py: what the chat wrappers do inside other endpoints' calls."""

from __future__ import annotations

from typing import Any

import pytest

from litellm.buffered_stream.client import buffering, in_buffered_call, mark_served
from litellm.buffered_stream.completion import _inherits_buffering, buffered_acompletion, buffered_completion


class Recorder:
    def __init__(self, serve: bool = False) -> None:
        self.serve = serve
        self.calls: list[dict[str, Any]] = []

    def record(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(dict(kwargs))
        if self.serve and in_buffered_call():
            mark_served()
        return {"answer": True}


@pytest.mark.parametrize(
    ("kwargs", "inside", "expected"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"stream": True}, True, False),
        ({"buffered_stream": False}, True, False),
    ],
)
def test_a_chat_call_inherits_buffering_only_inside_a_buffered_call(kwargs, inside, expected) -> None:
    if inside:
        with buffering():
            assert _inherits_buffering(kwargs) is expected
    else:
        assert _inherits_buffering(kwargs) is expected


async def test_chat_completion_made_for_a_buffered_call_is_buffered_and_counted() -> None:
    recorder = Recorder(serve=True)

    async def acompletion(**kwargs: Any) -> Any:
        return recorder.record(kwargs)

    with buffering() as call:
        await buffered_acompletion(acompletion)(model="openai/m", messages=[], api_base="http://x")
    [sent] = recorder.calls
    assert sent["metadata"] == {"buffered_stream": True}
    assert call.served == 1


async def test_chat_completion_outside_a_buffered_call_is_untouched() -> None:
    recorder = Recorder()

    async def acompletion(**kwargs: Any) -> Any:
        return recorder.record(kwargs)

    await buffered_acompletion(acompletion)(model="openai/m", messages=[])
    assert recorder.calls == [{"model": "openai/m", "messages": []}]


def test_sync_text_completion_is_served_natively_without_the_switch() -> None:
    recorder = Recorder()
    buffered_completion(lambda **kwargs: recorder.record(kwargs))(
        model="openai/m", messages=[], text_completion=True, buffered_stream=True
    )
    [sent] = recorder.calls
    assert "buffered_stream" not in sent and "stream" not in sent and "metadata" not in sent
