"""One merge engine, through the real proxy: chunk shapes where the wire path and the stream accumulator once
disagreed, a multi-megabyte single event, and errors that name the backend's malformed event.

``oai`` and ``azure`` calls take the wire path (``OpenAIChatAssembler``); ``nim`` calls take the generic
path (the stream accumulator). Each buffered answer is compared with the native (``stream: false``) answer
the same fake backend gives.
"""

from __future__ import annotations

import time

import openai
import pytest

from tests.e2e.conftest import BUFFERED, HI

BOTH_ENGINES = ["oai", "azure", "nim"]


def calls(completion: openai.types.chat.ChatCompletion) -> list[tuple[str, str, str]]:
    return [(c.id, c.function.name, c.function.arguments) for c in completion.choices[0].message.tool_calls]


def native_and_buffered(proxy, model: str) -> tuple[openai.types.chat.ChatCompletion, ...]:
    client = proxy.client()
    native = client.chat.completions.create(model=model, messages=HI)
    buffered = client.chat.completions.with_raw_response.create(model=model, messages=HI, extra_body=BUFFERED)
    assert buffered.headers.get("x-litellm-buffered-stream") == "true"
    return native, buffered.parse()


@pytest.mark.parametrize("prefix", BOTH_ENGINES)
def test_parallel_calls_sent_complete_at_one_index_stay_apart(proxy, prefix):
    native, buffered = native_and_buffered(proxy, f"{prefix}/tools_same_index")
    assert (
        calls(buffered)
        == calls(native)
        == [
            ("call_a0", "get_weather", '{"city": "Paris", "unit": "c"}'),
            ("call_b0", "get_time", '{"tz": "Europe/Paris"}'),
        ]
    )
    assert buffered.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("prefix", BOTH_ENGINES)
def test_tool_call_id_and_name_split_across_fragments_are_joined(proxy, prefix):
    native, buffered = native_and_buffered(proxy, f"{prefix}/tools_split_id")
    assert calls(buffered) == calls(native) == [("call_9f2c", "get_weather", '{"city": "Paris"}')]


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("prefix", ["oai", "azure"])
def test_content_filter_event_changes_nothing_in_the_answer(proxy, prefix, where):
    """The proxy answers with the model group's name; test_buffered_stream_sdk checks the backend's model."""
    native, buffered = native_and_buffered(proxy, f"{prefix}/text+tokens=4+filter={where}")
    assert (buffered.model, buffered.created) == (native.model, native.created)
    assert buffered.choices[0].message.content == native.choices[0].message.content
    assert buffered.choices[0].finish_reason == native.choices[0].finish_reason == "stop"


def test_one_multi_megabyte_event_costs_about_what_the_native_answer_costs(proxy):
    """16 MB of text in ONE event, written in 16 KB pieces: assembling it must stay linear."""
    model = f"oai/text+size={16 * 1024 * 1024}+write={16 * 1024}"
    client = proxy.client(timeout=120)
    client.chat.completions.create(model=model, messages=HI)  # warm up both paths once
    client.chat.completions.create(model=model, messages=HI, extra_body=BUFFERED)
    timings = {}
    for label, extra in (("native", None), ("buffered", BUFFERED)):
        started = time.monotonic()
        completion = client.chat.completions.create(model=model, messages=HI, extra_body=extra)
        timings[label] = time.monotonic() - started
        assert len(completion.choices[0].message.content) == 16 * 1024 * 1024
    # Quadratic line buffering cost ~12x the native answer here; linear costs about the same.
    assert timings["buffered"] < 3 * timings["native"] + 1.0, timings


@pytest.mark.parametrize("prefix", ["oai", "ollama", "claude"])
def test_malformed_event_is_a_bad_gateway_naming_the_event(proxy, prefix):
    with pytest.raises(openai.APIStatusError) as raised:
        proxy.client().chat.completions.create(
            model=f"{prefix}/text+tokens=12+fault=malformed+at=4", messages=HI, extra_body=BUFFERED
        )
    assert raised.value.status_code == 502
    message = str(raised.value)
    assert "malformed" in message and "(#5 of the stream)" in message and "{this is not json" in message
    assert "a bug in litellm" not in proxy.log()
