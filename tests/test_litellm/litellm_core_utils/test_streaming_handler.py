"""CustomStreamWrapper with the bounded chunk log: what it logs is what upstream logged."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from stream_corpus import CASES, DELIBERATE_DIFFERENCES, MESSAGES, MODEL, drive_cut_stream, drive_wrapper
from upstream_reference import scrub, upstream

import litellm
from litellm.exceptions import MidStreamFallbackError
from litellm.litellm_core_utils.litellm_logging import Logging
from litellm.litellm_core_utils.stream_accumulator import StreamChunkLog
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices
from litellm.utils import ModelResponseListIterator

PARITY_CASES = sorted(set(CASES) - DELIBERATE_DIFFERENCES)
CLOCK_FIELDS = frozenset({"created", "created_at", "expires_at"})
# The sync wrapper stamps cost from executor threads racing the end-of-stream build: upstream's own runs
# disagree with each other on these, so they are left out of the sync comparison.
RACY_SYNC_FIELDS = CLOCK_FIELDS | {"cost", "response_cost"}


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("name", PARITY_CASES)
def test_logged_streaming_response_is_unchanged(name: str, mode: str) -> None:
    expected = upstream(f"{mode} " + " ".join(CASES))[name]
    actual = drive_wrapper(name, mode)
    assert actual["logged"] is not None, "the success callback never saw a complete_streaming_response"
    ignored = RACY_SYNC_FIELDS if mode == "sync" else CLOCK_FIELDS
    assert scrub(actual, ignored) == scrub(expected, ignored)


@pytest.mark.parametrize("mode", ["sync-cut", "async-cut"])
@pytest.mark.parametrize("name", PARITY_CASES)
def test_partial_usage_billed_on_failure_is_unchanged(name: str, mode: str) -> None:
    expected = upstream(f"{mode} " + " ".join(CASES))[name]
    actual = drive_cut_stream(name, mode)
    assert actual["error"] is not None
    assert actual == expected


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_logged_n_choices_stay_separate(mode: str) -> None:
    logged = drive_wrapper("n_choices", mode)["logged"]["response"]
    assert [c["message"]["content"] for c in logged["choices"]] == ["first answer here", "second one, longer"]


def _wrapper(chunks: list[Any]) -> CustomStreamWrapper:
    call_id = str(uuid.uuid4())
    logging_obj = Logging(
        model=MODEL,
        messages=MESSAGES,
        stream=True,
        call_type="completion",
        start_time=time.time(),
        litellm_call_id=call_id,
        function_id=call_id,
    )
    logging_obj.update_environment_variables(
        model=MODEL, user=None, optional_params={}, litellm_params={"litellm_call_id": call_id}
    )
    return CustomStreamWrapper(
        completion_stream=ModelResponseListIterator(model_responses=chunks),
        model=MODEL,
        custom_llm_provider="cached_response",
        logging_obj=logging_obj,
    )


def _chunk(content: str | None, finish_reason: str | None = None) -> ModelResponseStream:
    return ModelResponseStream(
        id="chatcmpl-1",
        model=MODEL,
        choices=[StreamingChoices(index=0, delta=Delta(content=content), finish_reason=finish_reason)],
    )


def test_wrapper_holds_three_chunks_whatever_the_stream_length() -> None:
    chunks = [_chunk(f"token {i} ") for i in range(2000)] + [_chunk(None, "stop")]
    wrapper = _wrapper(chunks)
    returned = list(wrapper)
    assert isinstance(wrapper.chunks, StreamChunkLog)
    assert len(wrapper.chunks) >= 2000
    assert wrapper.chunks.held == 3
    built = litellm.stream_chunk_builder(chunks=wrapper.chunks, messages=MESSAGES)
    assert built is not None
    assert built.choices[0].message.content == "".join(f"token {i} " for i in range(2000))
    assert len(returned) >= 2000


async def test_async_wrapper_holds_three_chunks() -> None:
    chunks = [_chunk(f"t{i} ") for i in range(500)] + [_chunk(None, "stop")]
    wrapper = _wrapper(chunks)
    returned = [item async for item in wrapper]
    assert isinstance(wrapper.chunks, StreamChunkLog) and wrapper.chunks.held == 3
    assert len(returned) >= 500


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_repetition_check_still_raises(mode: str) -> None:
    limit = litellm.REPEATED_STREAMING_CHUNK_LIMIT
    wrapper = _wrapper([_chunk("same words again")] * (limit + 5))
    with pytest.raises((litellm.InternalServerError, MidStreamFallbackError), match="repeating"):
        if mode == "sync":
            list(wrapper)
        else:
            [item async for item in wrapper]


def test_full_retention_keeps_a_plain_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(litellm, "stream_chunk_retention", "full", raising=False)
    chunks = [_chunk(f"w{i} ") for i in range(20)] + [_chunk(None, "stop")]
    wrapper = _wrapper(chunks)
    list(wrapper)
    assert type(wrapper.chunks) is list and len(wrapper.chunks) >= 20
    built = litellm.stream_chunk_builder(chunks=wrapper.chunks, messages=MESSAGES)
    assert built is not None and built.choices[0].message.content == "".join(f"w{i} " for i in range(20))


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_response_uptil_now_is_the_content_so_far(mode: str) -> None:
    chunks = [_chunk(f"t{i} ") for i in range(600)] + [_chunk(None, "stop")]
    wrapper = _wrapper(chunks)
    if mode == "sync":
        list(wrapper)
    else:
        [item async for item in wrapper]
    assert wrapper.response_uptil_now == "".join(f"t{i} " for i in range(600))
    wrapper.response_uptil_now = "reset"
    assert wrapper.response_uptil_now == "reset"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_post_call_rules_still_read_the_content_so_far(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def rule(text: str) -> bool:
        seen.append(text)
        return "t3 " not in text

    monkeypatch.setattr(litellm, "post_call_rules", [rule])
    wrapper = _wrapper([_chunk(f"t{i} ") for i in range(6)] + [_chunk(None, "stop")])
    with pytest.raises(Exception, match="post-call-rule"):
        if mode == "sync":
            list(wrapper)
        else:
            [item async for item in wrapper]
    assert seen[:4] == ["t0 ", "t0 t1 ", "t0 t1 t2 ", "t0 t1 t2 t3 "]
