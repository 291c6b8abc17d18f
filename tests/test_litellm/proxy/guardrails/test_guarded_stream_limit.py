"""max_guarded_stream_chunks: a post_call guardrail holds at most that many chunks of a stream, then stops it."""

from __future__ import annotations

import pytest

import litellm
from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.proxy._types import UserAPIKeyAuth
from litellm.proxy.guardrails.guarded_stream_limit import (
    DEFAULT_MAX_GUARDED_STREAM_CHUNKS,
    MAX_GUARDED_STREAM_CHUNKS_ENV,
    GuardedStreamLimit,
    GuardedStreamTooLongError,
    max_guarded_stream_chunks,
)
from litellm.proxy.guardrails.guardrail_hooks.unified_guardrail.unified_guardrail import UnifiedLLMGuardrails
from litellm.types.guardrails import GuardrailEventHooks
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices


@pytest.fixture(autouse=True)
def _no_setting(monkeypatch):
    monkeypatch.setattr(litellm, "max_guarded_stream_chunks", None, raising=False)
    monkeypatch.delenv(MAX_GUARDED_STREAM_CHUNKS_ENV, raising=False)


class AllowAll(CustomGuardrail):
    async def apply_guardrail(self, inputs, request_data, input_type, logging_obj=None):
        return inputs


def chunks(count: int):
    async def stream():
        for i in range(count):
            finish = "stop" if i == count - 1 else None
            yield ModelResponseStream(
                id="chatcmpl-1",
                model="m",
                choices=[StreamingChoices(index=0, delta=Delta(content=f"w{i} "), finish_reason=finish)],
            )

    return stream()


async def guarded(count: int) -> list:
    guard = AllowAll(guardrail_name="allow-all", event_hook=GuardrailEventHooks.post_call, default_on=True)
    hook = UnifiedLLMGuardrails().async_post_call_streaming_iterator_hook(
        user_api_key_dict=UserAPIKeyAuth(),
        response=chunks(count),
        request_data={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        guardrail_to_apply=guard,
    )
    return [item async for item in hook]


def test_default_and_settings(monkeypatch):
    assert max_guarded_stream_chunks() == DEFAULT_MAX_GUARDED_STREAM_CHUNKS
    monkeypatch.setenv(MAX_GUARDED_STREAM_CHUNKS_ENV, "7")
    assert max_guarded_stream_chunks() == 7
    monkeypatch.setattr(litellm, "max_guarded_stream_chunks", 0)
    assert max_guarded_stream_chunks() == 0


@pytest.mark.parametrize("bad", ["many", "-1", "1.5"])
def test_a_bad_setting_is_named(monkeypatch, bad):
    monkeypatch.setenv(MAX_GUARDED_STREAM_CHUNKS_ENV, bad)
    with pytest.raises(ValueError, match="max_guarded_stream_chunks"):
        max_guarded_stream_chunks()


def test_the_limit_counts_held_chunks(monkeypatch):
    monkeypatch.setattr(litellm, "max_guarded_stream_chunks", 3)
    limit = GuardedStreamLimit("a test")
    for _ in range(3):
        limit.hold()
    with pytest.raises(GuardedStreamTooLongError) as raised:
        limit.hold()
    assert raised.value.status_code == 500
    assert "max_guarded_stream_chunks=3" in raised.value.message and "a test" in raised.value.message


def test_zero_means_no_bound(monkeypatch):
    monkeypatch.setattr(litellm, "max_guarded_stream_chunks", 0)
    limit = GuardedStreamLimit("a test")
    for _ in range(DEFAULT_MAX_GUARDED_STREAM_CHUNKS + 1):
        limit.hold()


async def test_a_guarded_stream_within_the_bound_is_served_to_its_end(monkeypatch):
    monkeypatch.setattr(litellm, "max_guarded_stream_chunks", 20)
    served = await guarded(20)
    assert served[-1].choices[0].finish_reason == "stop"
    assert served[-1].choices[0].delta.content == "w19 "


async def test_a_guarded_stream_past_the_bound_is_stopped_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(litellm, "max_guarded_stream_chunks", 20)
    with pytest.raises(GuardedStreamTooLongError, match="the post_call guardrail 'allow-all'"):
        await guarded(21)
