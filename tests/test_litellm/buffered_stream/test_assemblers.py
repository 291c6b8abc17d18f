"""Unit tests for litellm/buffered_stream/assemblers.py: streamed bodies into non-streaming bodies."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litellm.buffered_stream.assemblers import (
    AnthropicMessageAssembler,
    OllamaChatAssembler,
    OpenAIChatAssembler,
    StreamFailed,
    joined,
    merge_delta,
)

Json = dict[str, Any]


def sse(*events: Json | str, done: bool = True, event_names: bool = False) -> bytes:
    """An SSE body; dict events are JSON-encoded, strings are sent as they are."""
    out = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
        name = f"event: {event['type']}\n" if event_names and isinstance(event, dict) else ""
        out.append(f"{name}data: {data}\n\n")
    if done:
        out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def ndjson(*docs: Json | str) -> bytes:
    return "".join((d if isinstance(d, str) else json.dumps(d, ensure_ascii=False)) + "\n" for d in docs).encode()


def assemble(assembler: Any, data: bytes, cuts: list[int] | None = None) -> Json:
    if cuts is None:
        assembler.feed(data)
    else:
        points = sorted({min(max(c, 0), len(data)) for c in cuts} | {0, len(data)})
        for a, b in zip(points, points[1:], strict=False):
            assembler.feed(data[a:b])
    return assembler.finish()


def openai(data: bytes, cuts: list[int] | None = None) -> Json:
    return assemble(OpenAIChatAssembler(), data, cuts)


def anthropic(data: bytes, cuts: list[int] | None = None) -> Json:
    return assemble(AnthropicMessageAssembler(), data, cuts)


def ollama(data: bytes, cuts: list[int] | None = None) -> Json:
    return assemble(OllamaChatAssembler(), data, cuts)


def failure(assembler: Any, data: bytes) -> StreamFailed:
    with pytest.raises(StreamFailed) as info:
        assemble(assembler, data)
    return info.value


def chunk(*choices: Json, usage: Json | None = None, **top: Any) -> Json:
    doc: Json = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "m",
        "system_fingerprint": "fp",
        "choices": list(choices),
        **top,
    }
    if usage is not None:
        doc["usage"] = usage
    return doc


def choice(index: int = 0, finish_reason: str | None = None, logprobs: Json | None = None, **delta: Any) -> Json:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}


USAGE = {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}


def text_stream(words: list[str], finish: str = "stop", **kw: Any) -> bytes:
    events = [chunk(choice(role="assistant", content=""))]
    events += [chunk(choice(content=w)) for w in words]
    events.append(chunk(choice(finish_reason=finish)))
    events.append(chunk(usage=USAGE))
    return sse(*events, **kw)


# ---------------------------------------------------------------------------------------------
# merge_delta
# ---------------------------------------------------------------------------------------------


def test_merge_delta_concatenates_strings_and_replaces_identifiers() -> None:
    acc: Json = {}
    merge_delta(acc, {"role": "assistant", "content": "a", "type": "x"})
    merge_delta(acc, {"role": "assistant", "content": "b", "type": "y"})
    merge_delta(acc, {"content": None, "role": ""})
    assert joined(acc) == {"role": "assistant", "content": "ab", "type": "y"}


def test_merge_delta_merges_indexed_list_entries_and_extends_others() -> None:
    acc: Json = {}
    merge_delta(acc, {"items": [{"index": 0, "v": "a"}], "plain": [1]})
    merge_delta(acc, {"items": [{"index": 1, "v": "x"}, {"index": 0, "v": "b"}], "plain": [2]})
    assert joined(acc) == {"items": [{"index": 0, "v": "ab"}, {"index": 1, "v": "x"}], "plain": [1, 2]}


def test_merge_delta_does_not_alias_input() -> None:
    delta = {"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}
    acc: Json = {}
    merge_delta(acc, delta)
    merge_delta(acc, {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]})
    assert delta == {"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]}


# ---------------------------------------------------------------------------------------------
# OpenAI chat completions
# ---------------------------------------------------------------------------------------------


def test_openai_text() -> None:
    body = openai(text_stream(["Hel", "lo", " wörld"]))
    assert body == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "system_fingerprint": "fp",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello wörld"},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


@pytest.mark.parametrize("finish", ["stop", "length", "tool_calls", "content_filter"])
def test_openai_finish_reasons(finish: str) -> None:
    assert openai(text_stream(["x"], finish=finish))["choices"][0]["finish_reason"] == finish


def test_openai_done_absent_but_finish_present_is_complete() -> None:
    body = openai(text_stream(["a", "b"], done=False))
    assert body["choices"][0]["message"]["content"] == "ab"


def test_openai_unterminated_last_event_is_used() -> None:
    data = sse(chunk(choice(content="hi")), chunk(choice(finish_reason="stop")), done=False).rstrip(b"\n")
    assert openai(data)["choices"][0]["finish_reason"] == "stop"


def test_openai_no_finish_reason_fails() -> None:
    events = [chunk(choice(role="assistant", content="partial"))]
    err = failure(OpenAIChatAssembler(), sse(*events))
    assert err.status_code == 502
    assert "finish_reason" in err.message


def test_openai_no_finish_reason_without_done_fails() -> None:
    err = failure(OpenAIChatAssembler(), sse(chunk(choice(content="partial")), done=False))
    assert err.status_code == 502


def test_openai_no_choices_at_all_fails() -> None:
    assert failure(OpenAIChatAssembler(), sse(chunk(usage=USAGE))).status_code == 502


def test_openai_empty_stream_fails() -> None:
    assert failure(OpenAIChatAssembler(), b"").status_code == 502


def test_openai_only_done_fails() -> None:
    assert failure(OpenAIChatAssembler(), b"data: [DONE]\n\n").status_code == 502


def test_openai_malformed_event_fails() -> None:
    data = sse(chunk(choice(content="a")), "{not json", chunk(choice(finish_reason="stop")))
    err = failure(OpenAIChatAssembler(), data)
    assert err.status_code == 502
    assert "unparseable" in err.message


def test_openai_event_that_is_not_an_object_fails() -> None:
    data = sse(chunk(choice(content="a")), "[1, 2]", chunk(choice(finish_reason="stop")))
    assert failure(OpenAIChatAssembler(), data).status_code == 502


def test_openai_mid_stream_error_event_fails_with_body() -> None:
    error = {"error": {"message": "model overloaded", "type": "server_error"}}
    data = sse(chunk(choice(content="a")), error, chunk(choice(finish_reason="stop")))
    err = failure(OpenAIChatAssembler(), data)
    assert err.status_code == 502
    assert "model overloaded" in err.message
    assert err.body == error


def test_openai_error_after_finish_still_fails() -> None:
    data = sse(chunk(choice(content="a", finish_reason="stop")), {"error": "boom"})
    assert "boom" in failure(OpenAIChatAssembler(), data).message


def test_openai_parallel_tool_calls_split_across_chunks() -> None:
    def call(index: int, **kw: Any) -> Json:
        return choice(tool_calls=[{"index": index, **kw}])

    events = [
        chunk(choice(role="assistant", content=None)),
        chunk(call(0, id="call_a", type="function", function={"name": "get_weather", "arguments": ""})),
        chunk(call(0, function={"arguments": '{"ci'})),
        chunk(call(1, id="call_b", type="function", function={"name": "get_time", "arguments": ""})),
        chunk(call(0, function={"arguments": 'ty": "Paris"}'})),
        chunk(call(1, function={"arguments": '{"tz": '})),
        chunk(call(1, function={"arguments": '"UTC"}'})),
        chunk(choice(finish_reason="tool_calls")),
    ]
    message = openai(sse(*events))["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"] == [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
        {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "UTC"}'}},
    ]


def test_openai_tool_call_repeating_id_and_name_in_every_chunk_is_not_doubled() -> None:
    head = {"index": 0, "id": "call_a", "type": "function"}
    events = [
        chunk(choice(tool_calls=[{**head, "function": {"name": "f", "arguments": '{"a"'}}])),
        chunk(choice(tool_calls=[{**head, "function": {"name": "f", "arguments": ": 1}"}}])),
        chunk(choice(finish_reason="tool_calls")),
    ]
    (call,) = openai(sse(*events))["choices"][0]["message"]["tool_calls"]
    assert call == {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}


def test_openai_tool_call_after_content() -> None:
    events = [
        chunk(choice(role="assistant", content="Let me check. ")),
        chunk(choice(content="One moment.")),
        chunk(choice(tool_calls=[{"index": 0, "id": "c1", "type": "function", "function": {"name": "f"}}])),
        chunk(choice(tool_calls=[{"index": 0, "function": {"arguments": "{}"}}])),
        chunk(choice(finish_reason="tool_calls")),
    ]
    message = openai(sse(*events))["choices"][0]["message"]
    assert message["content"] == "Let me check. One moment."
    assert message["tool_calls"] == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]


def test_openai_legacy_function_call() -> None:
    events = [
        chunk(choice(role="assistant", function_call={"name": "lookup", "arguments": ""})),
        chunk(choice(function_call={"arguments": '{"q":'})),
        chunk(choice(function_call={"arguments": ' "x"}'})),
        chunk(choice(finish_reason="function_call")),
    ]
    result = openai(sse(*events))["choices"][0]
    assert result["message"]["function_call"] == {"name": "lookup", "arguments": '{"q": "x"}'}
    assert result["finish_reason"] == "function_call"


def test_openai_reasoning_content() -> None:
    events = [
        chunk(choice(role="assistant", reasoning_content="Think")),
        chunk(choice(reasoning_content="ing...")),
        chunk(choice(content="Answer")),
        chunk(choice(finish_reason="stop")),
    ]
    message = openai(sse(*events))["choices"][0]["message"]
    assert message == {"role": "assistant", "reasoning_content": "Thinking...", "content": "Answer"}


def test_openai_refusal() -> None:
    events = [
        chunk(choice(role="assistant", content=None, refusal="I can't")),
        chunk(choice(refusal=" help with that.")),
        chunk(choice(finish_reason="stop")),
    ]
    message = openai(sse(*events))["choices"][0]["message"]
    assert message["refusal"] == "I can't help with that."
    assert message["content"] is None


def test_openai_n2_interleaved_choices_kept_separate() -> None:
    events = [
        chunk(choice(0, role="assistant", content=""), choice(1, role="assistant", content="")),
        chunk(choice(1, content="B1 ")),
        chunk(choice(0, content="A1 ")),
        chunk(choice(0, content="A2")),
        chunk(choice(1, content="B2")),
        chunk(choice(1, finish_reason="length")),
        chunk(choice(0, finish_reason="stop")),
        chunk(usage=USAGE),
    ]
    choices = openai(sse(*events))["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    assert choices[0]["message"]["content"] == "A1 A2"
    assert choices[0]["finish_reason"] == "stop"
    assert choices[1]["message"]["content"] == "B1 B2"
    assert choices[1]["finish_reason"] == "length"


def test_openai_n2_one_choice_unfinished_fails() -> None:
    events = [
        chunk(choice(0, content="a"), choice(1, content="b")),
        chunk(choice(0, finish_reason="stop")),
    ]
    err = failure(OpenAIChatAssembler(), sse(*events))
    assert "[1]" in err.message


def test_openai_logprobs_content_lists_extend() -> None:
    def lp(token: str) -> Json:
        return {"token": token, "logprob": -0.5, "bytes": list(token.encode()), "top_logprobs": []}

    events = [
        chunk(choice(role="assistant", content="Hi", logprobs={"content": [lp("Hi")], "refusal": None})),
        chunk(choice(content=" there", logprobs={"content": [lp(" there")], "refusal": None})),
        chunk(choice(finish_reason="stop")),
    ]
    result = openai(sse(*events))["choices"][0]
    assert result["logprobs"] == {"content": [lp("Hi"), lp(" there")]}


def test_openai_logprobs_absent_is_none() -> None:
    assert openai(text_stream(["x"]))["choices"][0]["logprobs"] is None


def test_openai_usage_absent() -> None:
    events = [chunk(choice(content="x")), chunk(choice(finish_reason="stop"))]
    assert "usage" not in openai(sse(*events))


def test_openai_usage_null_in_chunks_then_final_usage_chunk() -> None:
    events = [chunk(choice(content="x"), usage=None), chunk(choice(finish_reason="stop")), chunk(usage=USAGE)]
    events[0]["usage"] = None
    assert openai(sse(*events))["usage"] == USAGE


def test_openai_usage_in_every_chunk_last_wins() -> None:
    events = [
        chunk(choice(content="a"), usage={"prompt_tokens": 11, "completion_tokens": 1, "total_tokens": 12}),
        chunk(choice(content="b"), usage={"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13}),
        chunk(choice(finish_reason="stop"), usage={"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}),
    ]
    assert openai(sse(*events))["usage"] == USAGE


def test_openai_cached_token_details_kept_when_later_usage_lacks_them() -> None:
    first = {**USAGE, "prompt_tokens_details": {"cached_tokens": 8}, "completion_tokens_details": None}
    last = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16, "prompt_tokens_details": None}
    events = [chunk(choice(content="a"), usage=first), chunk(choice(finish_reason="stop")), chunk(usage=last)]
    usage = openai(sse(*events))["usage"]
    assert usage["completion_tokens"] == 5
    assert usage["total_tokens"] == 16
    assert usage["prompt_tokens_details"] == {"cached_tokens": 8}


def test_openai_usage_details_merge_key_by_key() -> None:
    first = {**USAGE, "prompt_tokens_details": {"cached_tokens": 8, "audio_tokens": None}}
    last = {**USAGE, "prompt_tokens_details": {"audio_tokens": 0}}
    events = [chunk(choice(content="a", finish_reason="stop"), usage=first), chunk(usage=last)]
    assert openai(sse(*events))["usage"]["prompt_tokens_details"] == {"cached_tokens": 8, "audio_tokens": 0}


def test_openai_azure_first_chunk_with_empty_choices_and_prompt_filter_results() -> None:
    filters = [{"prompt_index": 0, "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}]
    azure_first = {"id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": filters}
    events = [
        azure_first,
        chunk(choice(role="assistant", content="ok"), id="chatcmpl-az", model="gpt-4o"),
        chunk(choice(finish_reason="stop"), id="chatcmpl-az", model="gpt-4o"),
    ]
    body = openai(sse(*events))
    assert body["id"] == "chatcmpl-az"
    assert body["model"] == "gpt-4o"
    assert body["created"] == 1700000000
    assert body["object"] == "chat.completion"
    assert body["prompt_filter_results"] == filters
    assert body["choices"][0]["message"]["content"] == "ok"


def test_openai_first_id_and_created_are_kept() -> None:
    events = [
        chunk(choice(content="a"), id="first", created=1),
        chunk(choice(finish_reason="stop"), id="second", created=2),
    ]
    body = openai(sse(*events))
    assert (body["id"], body["created"]) == ("first", 1)


def test_openai_extra_choice_fields_are_kept() -> None:
    events = [chunk({**choice(content="a", finish_reason="stop"), "stop_reason": 42})]
    assert openai(sse(*events))["choices"][0]["stop_reason"] == 42


def test_openai_missing_role_defaults_to_assistant() -> None:
    events = [chunk(choice(content="a")), chunk(choice(finish_reason="stop"))]
    assert openai(sse(*events))["choices"][0]["message"] == {"role": "assistant", "content": "a"}


def test_openai_keep_alive_comments_ignored() -> None:
    data = b": ping\n\n" + text_stream(["a"]) + b": trailing\n\n"
    assert openai(data)["choices"][0]["message"]["content"] == "a"


OPENAI_SAMPLE = sse(
    {"id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": []},
    chunk(choice(0, role="assistant", content="Grüße "), choice(1, role="assistant", content="")),
    chunk(choice(0, content="世界 🎉"), choice(1, tool_calls=[{"index": 0, "id": "c", "function": {"name": "f"}}])),
    chunk(choice(1, tool_calls=[{"index": 0, "function": {"arguments": '{"é": "ü"}'}}])),
    chunk(choice(0, finish_reason="stop"), choice(1, finish_reason="tool_calls")),
    chunk(usage={**USAGE, "prompt_tokens_details": {"cached_tokens": 3}}),
).replace(b"\n", b"\r\n")

cut_lists = st.lists(st.integers(min_value=0, max_value=len(OPENAI_SAMPLE)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(cuts=cut_lists)
def test_openai_split_anywhere(cuts: list[int]) -> None:
    assert openai(OPENAI_SAMPLE, cuts) == openai(OPENAI_SAMPLE)


def test_openai_byte_by_byte() -> None:
    assert openai(OPENAI_SAMPLE, list(range(len(OPENAI_SAMPLE)))) == openai(OPENAI_SAMPLE)


# ---------------------------------------------------------------------------------------------
# Anthropic messages
# ---------------------------------------------------------------------------------------------

ANTHROPIC_USAGE = {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 7}


def message_start(**usage: Any) -> Json:
    return {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**ANTHROPIC_USAGE, **usage},
        },
    }


def block_start(index: int, block: Json) -> Json:
    return {"type": "content_block_start", "index": index, "content_block": block}


def block_delta(index: int, delta: Json) -> Json:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def block_stop(index: int) -> Json:
    return {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str = "end_turn", **usage: Any) -> Json:
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": 15, **usage},
    }


MESSAGE_STOP: Json = {"type": "message_stop"}
PING: Json = {"type": "ping"}


def anthropic_sse(*events: Json | str) -> bytes:
    return sse(*events, done=False, event_names=True)


def text_events(*parts: str) -> list[Json]:
    events = [block_start(0, {"type": "text", "text": ""})]
    events += [block_delta(0, {"type": "text_delta", "text": p}) for p in parts]
    return [*events, block_stop(0)]


def test_anthropic_text() -> None:
    data = anthropic_sse(message_start(), PING, *text_events("Hello", ", wörld"), message_delta(), MESSAGE_STOP)
    assert anthropic(data) == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": [{"type": "text", "text": "Hello, wörld"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 15, "cache_read_input_tokens": 7},
    }


def test_anthropic_without_event_lines_uses_type_field() -> None:
    events = [message_start(), *text_events("hi"), message_delta(), MESSAGE_STOP]
    assert anthropic(sse(*events, done=False))["content"] == [{"type": "text", "text": "hi"}]


def test_anthropic_tool_use_input_json_split() -> None:
    events = [
        message_start(),
        *text_events("Checking."),
        block_start(1, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}),
        block_delta(1, {"type": "input_json_delta", "partial_json": ""}),
        block_delta(1, {"type": "input_json_delta", "partial_json": '{"city": "Pa'}),
        block_delta(1, {"type": "input_json_delta", "partial_json": 'ris", "days": [1, '}),
        block_delta(1, {"type": "input_json_delta", "partial_json": "2]}"}),
        block_stop(1),
        message_delta("tool_use"),
        MESSAGE_STOP,
    ]
    body = anthropic(anthropic_sse(*events))
    assert body["stop_reason"] == "tool_use"
    assert body["content"][1] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {"city": "Paris", "days": [1, 2]},
    }


def test_anthropic_tool_use_without_input_deltas_has_empty_input() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "tool_use", "id": "t", "name": "now", "input": {}}),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    ]
    assert anthropic(anthropic_sse(*events))["content"][0]["input"] == {}


def test_anthropic_tool_use_invalid_input_json_fails() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
        block_delta(0, {"type": "input_json_delta", "partial_json": '{"a": '}),
        block_stop(0),
        message_delta("tool_use"),
        MESSAGE_STOP,
    ]
    err = failure(AnthropicMessageAssembler(), anthropic_sse(*events))
    assert err.status_code == 502
    assert "content_block_stop event (#4 of the stream): the input of tool block 0 is unparseable" in err.message


def test_anthropic_unclosed_tool_block_with_invalid_input_fails_at_the_end() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
        block_delta(0, {"type": "input_json_delta", "partial_json": '{"a": '}),
        message_delta("tool_use"),
        MESSAGE_STOP,
    ]
    err = failure(AnthropicMessageAssembler(), anthropic_sse(*events))
    assert err.status_code == 502
    assert "malformed at its end: the input of tool block 0" in err.message


def test_anthropic_thinking_with_signature() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        block_delta(0, {"type": "thinking_delta", "thinking": "Let me "}),
        block_delta(0, {"type": "thinking_delta", "thinking": "think."}),
        block_delta(0, {"type": "signature_delta", "signature": "sig-part"}),
        block_delta(0, {"type": "signature_delta", "signature": "sig-final"}),
        block_stop(0),
        *[{**e, "index": 1} if "index" in e else e for e in text_events("Answer")],
        message_delta(),
        MESSAGE_STOP,
    ]
    content = anthropic(anthropic_sse(*events))["content"]
    assert content == [
        {"type": "thinking", "thinking": "Let me think.", "signature": "sig-final"},
        {"type": "text", "text": "Answer"},
    ]


def test_anthropic_redacted_thinking() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "redacted_thinking", "data": "EmwKAhgB..."}),
        block_stop(0),
        *[{**e, "index": 1} if "index" in e else e for e in text_events("ok")],
        message_delta(),
        MESSAGE_STOP,
    ]
    content = anthropic(anthropic_sse(*events))["content"]
    assert content[0] == {"type": "redacted_thinking", "data": "EmwKAhgB..."}


def test_anthropic_citations_delta_appends() -> None:
    citation = {"type": "char_location", "cited_text": "x", "document_index": 0}
    events = [
        message_start(),
        block_start(0, {"type": "text", "text": ""}),
        block_delta(0, {"type": "citations_delta", "citation": citation}),
        block_delta(0, {"type": "text_delta", "text": "cited"}),
        block_stop(0),
        message_delta(),
        MESSAGE_STOP,
    ]
    assert anthropic(anthropic_sse(*events))["content"] == [{"type": "text", "text": "cited", "citations": [citation]}]


def test_anthropic_message_delta_usage_updates_output_and_keeps_other_fields() -> None:
    events = [
        message_start(),
        *text_events("a"),
        message_delta(output_tokens=42, input_tokens=None, cache_creation_input_tokens=3),
        MESSAGE_STOP,
    ]
    assert anthropic(anthropic_sse(*events))["usage"] == {
        "input_tokens": 25,
        "output_tokens": 42,
        "cache_read_input_tokens": 7,
        "cache_creation_input_tokens": 3,
    }


def test_anthropic_message_delta_input_tokens_replace_when_present() -> None:
    events = [message_start(), *text_events("a"), message_delta(input_tokens=30), MESSAGE_STOP]
    assert anthropic(anthropic_sse(*events))["usage"]["input_tokens"] == 30


def test_anthropic_stop_sequence() -> None:
    delta = {"type": "message_delta", "delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"}, "usage": {}}
    body = anthropic(anthropic_sse(message_start(), *text_events("a"), delta, MESSAGE_STOP))
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "END")


@pytest.mark.parametrize(("error_type", "status"), [("overloaded_error", 529), ("api_error", 500)])
def test_anthropic_error_event(error_type: str, status: int) -> None:
    error = {"type": "error", "error": {"type": error_type, "message": "Overloaded"}}
    err = failure(AnthropicMessageAssembler(), anthropic_sse(message_start(), *text_events("partial"), error))
    assert err.status_code == status
    assert err.body == error
    assert "Overloaded" in err.message


def test_anthropic_error_before_message_start() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert failure(AnthropicMessageAssembler(), anthropic_sse(error)).status_code == 529


def test_anthropic_missing_message_stop_fails() -> None:
    err = failure(AnthropicMessageAssembler(), anthropic_sse(message_start(), *text_events("a"), message_delta()))
    assert err.status_code == 502


def test_anthropic_message_stop_without_stop_reason_fails() -> None:
    err = failure(AnthropicMessageAssembler(), anthropic_sse(message_start(), *text_events("a"), MESSAGE_STOP))
    assert err.status_code == 502


def test_anthropic_event_before_message_start_fails() -> None:
    err = failure(AnthropicMessageAssembler(), anthropic_sse(*text_events("a"), message_delta(), MESSAGE_STOP))
    assert err.status_code == 502
    assert "message_start" in err.message


def test_anthropic_empty_stream_fails() -> None:
    assert failure(AnthropicMessageAssembler(), b"").status_code == 502


def test_anthropic_malformed_event_fails() -> None:
    data = anthropic_sse(message_start(), "{oops", message_delta(), MESSAGE_STOP)
    assert failure(AnthropicMessageAssembler(), data).status_code == 502


def test_anthropic_delta_for_unstarted_block_fails() -> None:
    events = [message_start(), block_delta(0, {"type": "text_delta", "text": "x"}), message_delta(), MESSAGE_STOP]
    assert failure(AnthropicMessageAssembler(), anthropic_sse(*events)).status_code == 502


def test_anthropic_block_event_without_index_fails() -> None:
    events = [message_start(), {"type": "content_block_start", "content_block": {"type": "text", "text": ""}}]
    assert failure(AnthropicMessageAssembler(), anthropic_sse(*events)).status_code == 502


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        (block_delta("0", {"type": "text_delta", "text": "x"}), "content_block_delta event (#3 of the stream): index"),  # type: ignore[arg-type]
        (block_delta(0, {"type": "text_delta", "text": 7}), "delta.text is not a string"),
        (block_delta(0, {"type": "input_json_delta", "partial_json": None}), "delta.partial_json"),
        (block_start(10**9, {"type": "text", "text": ""}), "out of order"),
        ({"type": "content_block_delta", "index": 0, "delta": "x"}, "delta is not an object"),
        ({"type": "message_delta", "delta": {}, "usage": [1]}, "usage is not an object"),
    ],
)
def test_anthropic_malformed_event_is_a_502_naming_the_event(bad: Json, named: str) -> None:
    events = [message_start(), block_start(0, {"type": "text", "text": ""}), bad, block_stop(0)]
    err = failure(AnthropicMessageAssembler(), anthropic_sse(*events, message_delta(), MESSAGE_STOP))
    assert err.status_code == 502
    assert named in err.message


def test_anthropic_text_block_starting_with_null_citations_takes_citations() -> None:
    citation = {"type": "char_location", "cited_text": "x"}
    events = [
        message_start(),
        block_start(0, {"type": "text", "text": "", "citations": None}),
        block_delta(0, {"type": "citations_delta", "citation": citation}),
        block_stop(0),
        message_delta(),
        MESSAGE_STOP,
    ]
    assert anthropic(anthropic_sse(*events))["content"][0]["citations"] == [citation]


def test_anthropic_error_event_with_a_string_error_is_reported() -> None:
    err = failure(AnthropicMessageAssembler(), anthropic_sse(message_start(), {"type": "error", "error": "boom"}))
    assert err.status_code == 500 and "boom" in err.message


ANTHROPIC_SAMPLE = anthropic_sse(
    message_start(),
    PING,
    block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
    block_delta(0, {"type": "thinking_delta", "thinking": "Überlegung 🤔"}),
    block_delta(0, {"type": "signature_delta", "signature": "sig"}),
    block_stop(0),
    block_start(1, {"type": "text", "text": ""}),
    block_delta(1, {"type": "text_delta", "text": "こんにちは"}),
    block_stop(1),
    block_start(2, {"type": "tool_use", "id": "t", "name": "f", "input": {}}),
    block_delta(2, {"type": "input_json_delta", "partial_json": '{"ä": '}),
    block_delta(2, {"type": "input_json_delta", "partial_json": '"€"}'}),
    block_stop(2),
    message_delta("tool_use"),
    MESSAGE_STOP,
).replace(b"\n", b"\r\n")


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(ANTHROPIC_SAMPLE)), max_size=60))
def test_anthropic_split_anywhere(cuts: list[int]) -> None:
    assert anthropic(ANTHROPIC_SAMPLE, cuts) == anthropic(ANTHROPIC_SAMPLE)


def test_anthropic_sample_content() -> None:
    content = anthropic(ANTHROPIC_SAMPLE)["content"]
    assert [b["type"] for b in content] == ["thinking", "text", "tool_use"]
    assert content[2]["input"] == {"ä": "€"}


# ---------------------------------------------------------------------------------------------
# Ollama chat
# ---------------------------------------------------------------------------------------------

DONE_LINE: Json = {
    "model": "llama3",
    "created_at": "2024-01-01T00:00:01Z",
    "message": {"role": "assistant", "content": ""},
    "done": True,
    "done_reason": "stop",
    "total_duration": 1000,
    "load_duration": 10,
    "prompt_eval_count": 12,
    "prompt_eval_duration": 100,
    "eval_count": 3,
    "eval_duration": 500,
}


def ollama_line(**message: Any) -> Json:
    return {"model": "llama3", "created_at": "2024-01-01T00:00:00Z", "message": message, "done": False}


def test_ollama_text_and_done_line_fields_kept() -> None:
    data = ndjson(ollama_line(role="assistant", content="Hel"), ollama_line(role="assistant", content="lo"), DONE_LINE)
    assert ollama(data) == {**DONE_LINE, "message": {"role": "assistant", "content": "Hello"}}


def test_ollama_thinking() -> None:
    data = ndjson(
        ollama_line(role="assistant", content="", thinking="Hmm, "),
        ollama_line(role="assistant", content="", thinking="ok."),
        ollama_line(role="assistant", content="Yes"),
        DONE_LINE,
    )
    assert ollama(data)["message"] == {"role": "assistant", "content": "Yes", "thinking": "Hmm, ok."}


def test_ollama_tool_calls() -> None:
    call_a = {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    call_b = {"function": {"name": "get_time", "arguments": {"tz": "UTC"}}}
    data = ndjson(
        ollama_line(role="assistant", content="", tool_calls=[call_a]),
        ollama_line(role="assistant", content="", tool_calls=[call_b]),
        DONE_LINE,
    )
    assert ollama(data)["message"]["tool_calls"] == [call_a, call_b]


def test_ollama_done_line_with_content() -> None:
    data = ndjson(ollama_line(content="a"), {**DONE_LINE, "message": {"role": "assistant", "content": "b"}})
    assert ollama(data)["message"] == {"role": "assistant", "content": "ab"}


def test_ollama_without_done_line_fails() -> None:
    err = failure(OllamaChatAssembler(), ndjson(ollama_line(content="partial")))
    assert err.status_code == 502
    assert "done" in err.message


def test_ollama_empty_stream_fails() -> None:
    assert failure(OllamaChatAssembler(), b"").status_code == 502


def test_ollama_error_line_fails() -> None:
    error = {"error": "model runner crashed"}
    err = failure(OllamaChatAssembler(), ndjson(ollama_line(content="a"), error, DONE_LINE))
    assert err.status_code == 500
    assert err.body == error
    assert "model runner crashed" in err.message


def test_ollama_malformed_line_fails() -> None:
    assert failure(OllamaChatAssembler(), ndjson(ollama_line(content="a"), "{nope", DONE_LINE)).status_code == 502


def test_ollama_unterminated_done_line_is_used() -> None:
    data = ndjson(ollama_line(content="a"), DONE_LINE).rstrip(b"\n")
    assert ollama(data)["done_reason"] == "stop"


def test_ollama_malformed_line_names_its_number() -> None:
    err = failure(OllamaChatAssembler(), ndjson(ollama_line(content="a"), "[1]", DONE_LINE))
    assert err.status_code == 502
    assert "stream line (#2 of the stream): not a JSON object" in err.message


OLLAMA_SAMPLE = ndjson(
    ollama_line(role="assistant", content="", thinking="思考 "),
    ollama_line(role="assistant", content="Grüß dich 👋"),
    ollama_line(role="assistant", content="", tool_calls=[{"function": {"name": "f", "arguments": {"k": "ü"}}}]),
    DONE_LINE,
).replace(b"\n", b"\r\n")


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(OLLAMA_SAMPLE)), max_size=60))
def test_ollama_split_anywhere(cuts: list[int]) -> None:
    assert ollama(OLLAMA_SAMPLE, cuts) == ollama(OLLAMA_SAMPLE)


# ---------------------------------------------------------------------------------------------
# Error bodies
# ---------------------------------------------------------------------------------------------


def test_error_bodies_have_each_wire_shape() -> None:
    assert OpenAIChatAssembler.error_body("m")["error"]["message"] == "m"
    assert AnthropicMessageAssembler.error_body("m") == {
        "type": "error",
        "error": {"type": "api_error", "message": "m"},
    }
    assert OllamaChatAssembler.error_body("m") == {"error": "m"}


def test_openai_null_error_field_is_not_an_error() -> None:
    events = [chunk(choice(content="a", finish_reason="stop")), {**chunk(usage=USAGE), "error": None}]
    assert openai(sse(*events))["usage"] == USAGE


# ---------------------------------------------------------------------------------------------
# Errors: the peer's malformed data against our own bugs
# ---------------------------------------------------------------------------------------------


FINISHED = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"choices": "nope"}, "choices is not an array"),
        ({"choices": [7]}, "choices[] is not an object"),
        ({"choices": [{"index": "0", "delta": {}}]}, "choices[].index is not an integer"),
        ({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": 5}]}}]}, "tool_calls[0].id"),
        ({"choices": [{"index": 0, "delta": {"tool_calls": {"index": 0}}}]}, "tool_calls is not an array"),
        ({"choices": [{"index": 0, "delta": {"audio": {"data": "%%%"}}}]}, "audio.data is not base64"),
    ],
)
def test_malformed_event_is_a_502_naming_the_event(event: dict[str, Any], named: str) -> None:
    assembler = OpenAIChatAssembler()
    with pytest.raises(StreamFailed) as raised:
        assembler.feed(sse(FINISHED, event, done=False))
    assert raised.value.status_code == 502
    assert "#2 of the stream" in raised.value.message and named in raised.value.message


def test_malformed_event_is_quoted_within_bounds() -> None:
    huge = '{"choices": "' + "x" * 100_000 + '"}'
    with pytest.raises(StreamFailed) as raised:
        OpenAIChatAssembler().feed(sse(huge, done=False))
    assert len(raised.value.message) < 700
    assert "(100015 bytes)" in raised.value.message


def test_our_own_exception_propagates_as_ours_and_is_logged_as_a_bug(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: Any, fragments: list[Any]) -> None:
        raise TypeError("a bug of ours")

    from litellm.buffered_stream import assemblers

    monkeypatch.setattr(assemblers._Choice, "fold_tool_calls", broken)
    event = {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "a"}]}}]}
    with caplog.at_level(logging.ERROR, logger="LiteLLM"), pytest.raises(TypeError, match="a bug of ours"):
        OpenAIChatAssembler().feed(sse(event, done=False))
    assert "a bug in litellm, not a problem with the backend's data" in caplog.text
