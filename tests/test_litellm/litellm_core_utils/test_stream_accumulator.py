"""StreamAccumulator / StreamChunkLog: parity with upstream's stream_chunk_builder, and the deliberate fixes."""

from __future__ import annotations

import binascii
from typing import Any

import pytest
from stream_corpus import CASES, DELIBERATE_DIFFERENCES, MESSAGES, assemble, build_chunks
from upstream_reference import upstream

import litellm
from litellm.litellm_core_utils.stream_accumulator import (
    StreamAccumulator,
    StreamAssemblyError,
    StreamChunkLog,
    new_stream_chunk_log,
    stream_chunk_retention,
)
from litellm.litellm_core_utils.streaming_handler import calculate_total_usage
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices, Usage

ALL_CASES = " ".join(CASES)
PARITY_CASES = sorted(set(CASES) - DELIBERATE_DIFFERENCES)


@pytest.mark.parametrize("name", PARITY_CASES)
def test_assembled_response_and_usage_equal_upstream(name: str) -> None:
    expected = upstream(ALL_CASES)[name]
    actual = assemble(name)
    assert actual["built"] == expected["built"]
    assert actual["total_usage"] == expected["total_usage"]


@pytest.mark.parametrize("name", PARITY_CASES)
def test_chunk_log_builds_what_the_list_builds(name: str) -> None:
    log = StreamChunkLog()
    for item in build_chunks(CASES[name]()):
        log.append(item)
    from stream_corpus import normalise

    from_log = normalise(log.build(messages=MESSAGES))
    from_list = normalise(litellm.stream_chunk_builder(chunks=build_chunks(CASES[name]()), messages=MESSAGES))
    assert from_log == from_list
    assert log.total_usage() == calculate_total_usage(chunks=build_chunks(CASES[name]()))


def _message(result: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return result["built"]["response"]["choices"][index]["message"]


def test_n_choices_stay_separate() -> None:
    """Deliberate difference: upstream keeps only choice 0 (or joins all choices into it)."""
    ours = assemble("n_choices")
    theirs = upstream(ALL_CASES)["n_choices"]
    assert [c["index"] for c in ours["built"]["response"]["choices"]] == [0, 1]
    assert _message(ours, 0)["content"] == "first answer here"
    assert _message(ours, 1)["content"] == "second one, longer"
    assert ours["built"]["response"]["choices"][1]["finish_reason"] == "length"
    assert len(theirs["built"]["response"]["choices"]) == 1


def test_parallel_calls_at_one_index_keep_their_own_id_name_and_arguments() -> None:
    """Deliberate difference: upstream fuses them into one call with both argument strings."""
    ours = _message(assemble("same_index_parallel_calls"))["tool_calls"]
    theirs = _message(upstream(ALL_CASES)["same_index_parallel_calls"])["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in ours] == [
        ("call_1", "get_weather", '{"city": "Paris"}'),
        ("call_2", "get_weather", '{"city": "Rome"}'),
    ]
    assert len(theirs) == 1 and theirs[0]["function"]["arguments"] == '{"city": "Paris"}{"city": "Rome"}'


def test_later_usage_chunk_does_not_reset_cached_tokens() -> None:
    """Deliberate difference: a later prompt_tokens_details without cached_tokens erased them upstream."""
    ours = assemble("usage_details_then_partial")
    theirs = upstream(ALL_CASES)["usage_details_then_partial"]
    assert ours["built"]["response"]["usage"]["prompt_tokens_details"]["cached_tokens"] == 1536
    assert ours["total_usage"]["prompt_tokens_details"]["cached_tokens"] == 1536
    assert theirs["built"]["response"]["usage"]["prompt_tokens_details"]["cached_tokens"] is None


def test_parallel_tool_calls_split_across_chunks() -> None:
    calls = _message(assemble("parallel_tool_calls"))["tool_calls"]
    assert [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        ("call_a", "get_weather", '{"city": "Paris", "unit": "c"}'),
        ("call_b", "get_time", '{"tz": "Europe/Paris"}'),
    ]


def test_thinking_blocks_in_order_with_signatures() -> None:
    blocks = _message(assemble("thinking_blocks"))["thinking_blocks"]
    assert blocks == [
        {"type": "thinking", "thinking": "First thought.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "REDACTED=="},
        {"type": "thinking", "thinking": "Second thought.", "signature": "sig-2"},
    ]


def _text_chunk(content: str | None, model: str = "gpt-4o-mini", **kwargs: Any) -> ModelResponseStream:
    return ModelResponseStream(
        id="chatcmpl-1",
        created=1700000000,
        model=model,
        choices=[StreamingChoices(index=0, delta=Delta(content=content), finish_reason=kwargs.pop("finish", None))],
        **kwargs,
    )


def test_chunk_log_is_a_bounded_list() -> None:
    log = StreamChunkLog()
    assert isinstance(log, list) and not log and len(log) == 0
    chunks = [_text_chunk(f"part{i} ") for i in range(10)]
    for item in chunks:
        log.append(item)
    assert len(log) == 10 and bool(log)
    assert log[0] is chunks[0] and log[-1] is chunks[9] and log[-2] is chunks[8] and log[9] is chunks[9]
    with pytest.raises(IndexError, match="stream_chunk_retention"):
        log[4]
    with pytest.raises(IndexError):
        log[10]
    assert log.held == 3 and log[-2:] == [chunks[8], chunks[9]]
    assert log.accumulator.count == 9  # the last chunk is folded one step late


def test_copies_of_the_log_are_independent_and_not_double_counted() -> None:
    import copy

    log = StreamChunkLog()
    for word in ("a", "b", "c", "d"):
        log.append(_text_chunk(word))
    for twin in (copy.copy(log), copy.deepcopy(log)):
        assert len(twin) == 4
        built = twin.build(messages=MESSAGES)
        assert built is not None and built.choices[0].message.content == "abcd"
    deep = copy.deepcopy(log)
    deep.append(_text_chunk("e"))
    assert len(deep) == 5 and len(log) == 4
    assert log.build(messages=MESSAGES).choices[0].message.content == "abcd"


def test_in_place_edit_after_yield_is_logged_as_upstream_logs_it() -> None:
    """The proxy rewrites chunk.model after a chunk was yielded; folding one step late still sees it."""
    log = StreamChunkLog()
    full: list[Any] = []
    for i in range(5):
        item = _text_chunk(f"w{i} ", model="azure/gpt-4o-mini")
        log.append(item)
        full.append(item)
        item.model = "my-alias"  # what the consumer does before asking for the next chunk
    built = log.build(messages=MESSAGES)
    assert built is not None and built.model == "my-alias"
    assert built.model_dump() == litellm.stream_chunk_builder(chunks=full, messages=MESSAGES).model_dump()


def test_total_usage_sees_the_held_chunk_without_folding_it() -> None:
    log = StreamChunkLog()
    log.append(_text_chunk("a"))
    log.append(_text_chunk("b", usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)))
    assert log.total_usage().total_tokens == 5
    assert log.accumulator.count == 1


def test_partial_response_at_any_moment() -> None:
    accumulator = StreamAccumulator()
    assert accumulator.build() is None
    for word in ("Hel", "lo", " wor"):
        accumulator.add(_text_chunk(word))
    partial = accumulator.partial(messages=MESSAGES)
    assert partial is not None and partial.choices[0].message.content == "Hello wor"
    accumulator.add(_text_chunk("ld", finish="stop"))
    final = accumulator.build(messages=MESSAGES)
    assert final is not None and final.choices[0].message.content == "Hello world"
    assert final.choices[0].finish_reason == "stop"


def test_a_chunk_that_cannot_be_folded_fails_the_build_not_the_stream() -> None:
    accumulator = StreamAccumulator()
    accumulator.add(_text_chunk("ok"))
    broken = _text_chunk(None)
    broken.choices[0].delta.audio = {"data": "%%% not base64 %%%"}  # type: ignore[assignment]
    accumulator.add(broken)  # does not raise: the stream goes on
    accumulator.add(_text_chunk("more"))
    with pytest.raises(StreamAssemblyError, match=r"chunk 2 of the stream could not be folded \(Error: ") as caught:
        accumulator.build()
    assert isinstance(caught.value, litellm.APIError) and caught.value.status_code == 500
    assert isinstance(caught.value.__cause__, binascii.Error)
    # stream_chunk_builder lets our error through instead of its generic "Error building chunks"
    with pytest.raises(StreamAssemblyError, match="chunk 2 of the stream could not be folded"):
        litellm.stream_chunk_builder(chunks=[_text_chunk("ok"), broken])


def test_an_error_while_building_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    from litellm.litellm_core_utils.stream_accumulator import response_build

    def broken_apply(state: object, message: object) -> None:
        raise KeyError("no such field")

    monkeypatch.setattr(response_build, "apply_choice", broken_apply)
    chunks = [_text_chunk("a"), _text_chunk(None)]
    chunks[1].choices[0].delta.reasoning_content = "thinking"
    with pytest.raises(StreamAssemblyError, match=r"could not be built into a response \(KeyError: 'no such field'\)"):
        litellm.stream_chunk_builder(chunks=chunks, messages=MESSAGES)


def test_assembly_errors_pickle() -> None:
    import pickle

    error = StreamAssemblyError.folding(3, ValueError("bad"))
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_full_retention_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert stream_chunk_retention() == "bounded"
    assert isinstance(new_stream_chunk_log(), StreamChunkLog)
    monkeypatch.setattr(litellm, "stream_chunk_retention", "full", raising=False)
    assert stream_chunk_retention() == "full"
    assert type(new_stream_chunk_log()) is list
    monkeypatch.setattr(litellm, "stream_chunk_retention", None, raising=False)
    monkeypatch.setenv("LITELLM_STREAM_CHUNK_RETENTION", "FULL")
    assert type(new_stream_chunk_log()) is list


def test_router_generated_content_check_reads_the_log() -> None:
    from litellm.router import _stream_chunks_have_generated_content

    log = StreamChunkLog()
    log.append(_text_chunk(None))
    assert _stream_chunks_have_generated_content(log) is False
    log.append(_text_chunk("text"))
    assert _stream_chunks_have_generated_content(log) is True  # held, not folded yet
    for _ in range(3):
        log.append(_text_chunk(None))
    assert _stream_chunks_have_generated_content(log) is True  # folded: no longer held


def test_proxy_partial_billing_helpers_accept_the_log() -> None:
    from litellm.proxy.common_request_processing import _assembled_model_came_from_a_later_chunk

    log = StreamChunkLog()
    log.append(_text_chunk("a", model="azure-model-router"))
    log.append(_text_chunk("b", model="gpt-4.1-nano"))
    log.append(_text_chunk("c", model="gpt-4.1-nano"))
    built = litellm.stream_chunk_builder(chunks=log, messages=MESSAGES)
    assert built is not None and built.model == "gpt-4.1-nano"
    assert _assembled_model_came_from_a_later_chunk(log, built.model) is True


def test_text_completion_lists_still_use_the_text_builder() -> None:
    from litellm.types.utils import TextChoices, TextCompletionResponse

    chunks = [
        {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "gpt-3.5-turbo-instruct",
         "choices": [TextChoices(text=part, index=0, finish_reason=None)]}
        for part in ("Hel", "lo")
    ]  # fmt: skip
    built = litellm.stream_chunk_builder(chunks=chunks, messages=MESSAGES)
    assert isinstance(built, TextCompletionResponse)
    assert built.choices[0].text == "Hello"
