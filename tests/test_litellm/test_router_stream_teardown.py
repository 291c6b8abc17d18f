"""A stream served through the Router is freed by reference counting as soon as it is finished and dropped.

The Router wraps every stream in a fallback-aware wrapper. Upstream defined that wrapper's class inside the call,
closing over the stream: a class is a reference cycle, so each finished stream (wrapper, logging object, response,
accumulated text) stayed allocated until the next full garbage collection, which a proxy holding about a million
long-lived objects runs rarely. These tests run with the cyclic collector off: what they free, refcounting freed.
"""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Iterator

import pytest

import litellm
from litellm import Router
from litellm.router import FallbackStreamWrapper, SyncFallbackStreamWrapper

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def router() -> Router:
    return Router(
        model_list=[
            {
                "model_name": "m",
                "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-test", "mock_response": "a b c d"},
            }
        ]
    )


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _read_async(router: Router) -> tuple[str, type, weakref.ref]:
    stream = await router.acompletion(model="m", messages=MESSAGES, stream=True)
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
    return text, type(stream), weakref.ref(stream.logging_obj)


def _read_sync(router: Router) -> tuple[str, type, weakref.ref]:
    stream = router.completion(model="m", messages=MESSAGES, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    return text, type(stream), weakref.ref(stream.logging_obj)


def _freed_within(ref: weakref.ref, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while ref() is not None and time.monotonic() < deadline:
        time.sleep(0.05)  # success logging may still hold the request for a moment, in a thread
    return ref() is None


@pytest.mark.asyncio
async def test_async_stream_is_freed_without_the_cyclic_collector(router: Router, no_cyclic_gc: None) -> None:
    text, wrapper_type, logging_ref = await _read_async(router)
    assert text == "a b c d"
    assert wrapper_type is FallbackStreamWrapper  # one class for every stream, not one per call
    deadline = time.monotonic() + 10
    while logging_ref() is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # the success handlers run as tasks after the last chunk
    assert logging_ref() is None, "the finished stream's request state is still allocated"


def test_sync_stream_is_freed_without_the_cyclic_collector(router: Router, no_cyclic_gc: None) -> None:
    text, wrapper_type, logging_ref = _read_sync(router)
    assert text == "a b c d"
    assert wrapper_type is SyncFallbackStreamWrapper
    assert _freed_within(logging_ref, 10), "the finished stream's request state is still allocated"


def test_the_wrappers_keep_the_inner_streams_attributes(router: Router) -> None:
    stream = router.completion(model="m", messages=MESSAGES, stream=True)
    assert stream.model == "gpt-4o-mini"
    assert stream.custom_llm_provider == "openai"
    assert stream._hidden_params.get("model_id")
    assert litellm.stream_chunk_builder(chunks=list(stream)).choices[0].message.content == "a b c d"
