"""One set of merge rules for chat completion chunks: the shared corpus through three engines.

Every case of ``stream_corpus`` is assembled by pristine upstream's ``stream_chunk_builder`` (in a
subprocess), by the fork's ``StreamAccumulator`` (what ``stream_chunk_builder`` runs in the fork, and the
generic buffered path) and, as raw ``chat.completion.chunk`` events, by the wire path's
``OpenAIChatAssembler``. What a client sees of the answer (``answer``) must be the same from all three,
except where a test below names the difference.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from stream_corpus import CASES, DELIBERATE_DIFFERENCES, assemble, wire_events
from upstream_reference import upstream

from litellm.buffered_stream.assemblers import OpenAIChatAssembler, StreamFailed
from litellm.litellm_core_utils.chat_chunk_merge import (
    AnswerIdentity,
    ToolCallHead,
    ToolCalls,
    is_completion_chunk,
    merge_usage,
)

ALL_CASES = " ".join(CASES)
#: litellm-level fields that no OpenAI-compatible server sends (Anthropic thinking blocks, Vertex grounding,
#: provider_specific_fields are made by litellm's provider code): only the accumulator sees these cases.
NOT_ON_THE_WIRE = frozenset({"thinking_blocks", "vertex_grounding", "provider_specific_fields"})
#: The wire refuses a stream without a finish_reason (a truncated answer); the builders stamp "stop".
WIRE_REFUSES = frozenset({"text_no_finish_reason"})
WIRE_CASES = sorted(set(CASES) - NOT_ON_THE_WIRE - WIRE_REFUSES)


def _sse(events: list[dict[str, Any]]) -> bytes:
    return b"".join(f"data: {json.dumps(event)}\n\n".encode() for event in events) + b"data: [DONE]\n\n"


def wire(name: str) -> dict[str, Any]:
    """The case as the wire path assembles it: the body litellm's non-streaming code receives."""
    assembler = OpenAIChatAssembler()
    data = _sse(wire_events(CASES[name]()))
    for start in range(0, len(data), 7):  # small reads, cut anywhere
        assembler.feed(data[start : start + 7])
    return assembler.finish()


def _streams_usage(name: str) -> bool:
    return any(spec["usage"] for spec in CASES[name]())


def _usage(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if not usage:
        return None
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return {
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
        "total_tokens": usage.get("total_tokens"),
        "cached_tokens": prompt_details.get("cached_tokens") or None,
        "reasoning_tokens": completion_details.get("reasoning_tokens") or None,
    }


def answer(response: dict[str, Any], with_usage: bool = True) -> dict[str, Any]:
    """What a client reads of an assembled response (a ModelResponse dump or a wire body)."""
    choices = []
    for choice in response["choices"]:
        message = choice["message"]
        function_call = message.get("function_call")
        audio = message.get("audio")
        choices.append(
            {
                "index": choice["index"],
                "finish_reason": choice["finish_reason"],
                "role": message.get("role"),
                "content": message.get("content") or None,
                "reasoning_content": message.get("reasoning_content") or None,
                "tool_calls": [
                    (
                        call["id"],
                        call.get("type") or "function",
                        call["function"]["name"],
                        call["function"]["arguments"],
                    )
                    for call in message.get("tool_calls") or ()
                ],
                "function_call": (function_call["name"], function_call["arguments"]) if function_call else None,
                "annotations": message.get("annotations") or None,
                "audio": {k: audio.get(k) for k in ("id", "data", "transcript", "expires_at")} if audio else None,
            }
        )
    out = {"id": response["id"], "model": response["model"], "created": response["created"], "choices": choices}
    if with_usage:
        out["usage"] = _usage(response.get("usage"))
    return out


def accumulated(name: str) -> dict[str, Any]:
    return assemble(name)["built"]["response"]


def upstream_built(name: str) -> dict[str, Any]:
    return upstream(ALL_CASES)[name]["built"]["response"]


# ---------------------------------------------------------------------------------------------
# The corpus: agreement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WIRE_CASES)
def test_wire_assembler_and_accumulator_agree(name: str) -> None:
    # Usage: a stream without usage reports gets the tokenizer's count on both paths, after assembly.
    with_usage = _streams_usage(name)
    assert answer(wire(name), with_usage) == answer(accumulated(name), with_usage)


@pytest.mark.parametrize("name", sorted(set(CASES) - DELIBERATE_DIFFERENCES))
def test_accumulator_agrees_with_upstream_where_upstream_is_right(name: str) -> None:
    assert answer(accumulated(name)) == answer(upstream_built(name))


def test_every_deliberate_difference_is_named_here() -> None:
    named = {
        "n_choices",
        "same_index_parallel_calls",
        "usage_details_then_partial",
        "split_tool_call_id_and_name",
        "content_filter_event_first",
    }
    assert DELIBERATE_DIFFERENCES == named
    assert set(CASES) - set(WIRE_CASES) == NOT_ON_THE_WIRE | WIRE_REFUSES


# ---------------------------------------------------------------------------------------------
# The corpus: each deliberate difference from upstream, on both engines
# ---------------------------------------------------------------------------------------------


def _calls(response: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c[0], c[2], c[3]) for c in answer(response, with_usage=False)["choices"][0]["tool_calls"]]


def test_parallel_calls_at_one_index_stay_apart() -> None:
    """Upstream fuses them: one call, the last id, arguments '{"city": "Paris"}{"city": "Rome"}'."""
    expected = [("call_1", "get_weather", '{"city": "Paris"}'), ("call_2", "get_weather", '{"city": "Rome"}')]
    assert _calls(wire("same_index_parallel_calls")) == expected
    assert _calls(accumulated("same_index_parallel_calls")) == expected
    assert _calls(upstream_built("same_index_parallel_calls")) == [
        ("call_2", "get_weather", '{"city": "Paris"}{"city": "Rome"}')
    ]


def test_split_id_and_name_fragments_are_joined_into_one_call() -> None:
    """Upstream keeps only the tails (9f2c / weather); its later releases join them, as both engines do."""
    expected = [("call_9f2c", "get_weather", '{"city": "Paris"}')]
    assert _calls(wire("split_tool_call_id_and_name")) == expected
    assert _calls(accumulated("split_tool_call_id_and_name")) == expected
    assert _calls(upstream_built("split_tool_call_id_and_name")) == [("9f2c", "weather", '{"city": "Paris"}')]


def test_content_filter_events_do_not_name_the_answer() -> None:
    """Upstream takes `created` from the first event even when it is a content-filter event (0)."""
    for name in ("content_filter_event_first", "content_filter_event_last"):
        for built in (wire(name), accumulated(name)):
            assert (built["id"], built["model"], built["created"]) == ("chatcmpl-az", "gpt-4o-mini", 1700000000)
            assert built["choices"][0]["message"]["content"] == "Hello there"
    assert upstream_built("content_filter_event_first")["created"] == 0


def test_n_choices_stay_separate() -> None:
    """Upstream keeps one choice."""
    assert [c["index"] for c in wire("n_choices")["choices"]] == [0, 1]
    assert [c["index"] for c in accumulated("n_choices")["choices"]] == [0, 1]
    assert len(upstream_built("n_choices")["choices"]) == 1


def test_later_usage_report_without_cached_tokens_keeps_them() -> None:
    """Upstream lets the later report erase cached_tokens."""
    for built in (wire("usage_details_then_partial"), accumulated("usage_details_then_partial")):
        assert _usage(built["usage"]) == {
            "prompt_tokens": 2000,
            "completion_tokens": 20,
            "total_tokens": 2020,
            "cached_tokens": 1536,
            "reasoning_tokens": None,
        }
    assert _usage(upstream_built("usage_details_then_partial")["usage"])["cached_tokens"] is None


def test_wire_refuses_a_stream_without_finish_reason() -> None:
    """The builders stamp "stop"; a buffered call refuses the truncated answer (502) on both paths."""
    with pytest.raises(StreamFailed, match="finish_reason"):
        wire("text_no_finish_reason")
    assert accumulated("text_no_finish_reason")["choices"][0]["finish_reason"] == "stop"


# ---------------------------------------------------------------------------------------------
# The rules themselves
# ---------------------------------------------------------------------------------------------


def _route(fragments: list[tuple[int, str | None, str | None, str | None]]) -> list[tuple[int, str | None, str | None]]:
    calls: ToolCalls[ToolCallHead] = ToolCalls(ToolCallHead)
    for fragment in fragments:
        calls.fragment(*fragment)
    return [(call.index, call.id, call.name) for call in calls.ordered()]


def test_restated_id_and_name_do_not_double() -> None:
    assert _route([(0, "call_a", "f", '{"a"'), (0, "call_a", "f", ": 1}")]) == [(0, "call_a", "f")]


def test_new_id_before_any_argument_continues_the_id() -> None:
    assert _route([(0, "call_", "get_", ""), (0, "9f2c", "weather", "{}")]) == [(0, "call_9f2c", "get_weather")]


def test_new_id_after_arguments_began_starts_a_new_call() -> None:
    assert _route([(0, "a", "f", "{}"), (0, "b", "g", "{}")]) == [(0, "a", "f"), (0, "b", "g")]


def test_calls_ordered_by_index_then_arrival() -> None:
    route = [(1, "b", "g", "{}"), (0, "a", "f", "{}"), (0, "c", "h", "{}")]
    assert _route(route) == [(0, "a", "f"), (0, "c", "h"), (1, "b", "g")]


def test_name_after_arguments_began_replaces_as_upstream() -> None:
    assert _route([(0, "a", "f", "{"), (0, None, "g", "}")]) == [(0, "a", "g")]


def test_only_completion_chunks_name_the_answer() -> None:
    assert is_completion_chunk(None) and is_completion_chunk("chat.completion.chunk")
    assert not is_completion_chunk("") and not is_completion_chunk("chat.completion")
    identity = AnswerIdentity()
    identity.add("", "", "", 0)
    identity.add("chat.completion.chunk", "", "router", 0)
    identity.add(None, "chatcmpl-1", "gpt-4.1", 17)
    identity.add("chat.completion.chunk", "chatcmpl-2", "", 18)
    assert (identity.id, identity.model, identity.created) == ("chatcmpl-1", "gpt-4.1", 17)


def test_merge_usage_keeps_unset_fields_and_sums_a_missing_total() -> None:
    first = {
        "prompt_tokens": 5,
        "completion_tokens": 1,
        "total_tokens": 6,
        "prompt_tokens_details": {"cached_tokens": 4},
    }
    later = {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": None, "prompt_tokens_details": {"x": 0}}
    assert merge_usage(first, later) == {
        "prompt_tokens": 5,
        "completion_tokens": 9,
        "total_tokens": 14,
        "prompt_tokens_details": {"cached_tokens": 4, "x": 0},
    }


# ---------------------------------------------------------------------------------------------
# Errors: the peer's malformed data against our own bugs
# ---------------------------------------------------------------------------------------------


def _events(*events: dict[str, Any] | str) -> bytes:
    return b"".join(f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n".encode() for e in events)


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
        assembler.feed(_events(FINISHED, event))
    assert raised.value.status_code == 502
    assert "#2 of the stream" in raised.value.message and named in raised.value.message


def test_malformed_event_is_quoted_within_bounds() -> None:
    huge = '{"choices": "' + "x" * 100_000 + '"}'
    with pytest.raises(StreamFailed) as raised:
        OpenAIChatAssembler().feed(_events(huge))
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
        OpenAIChatAssembler().feed(_events(event))
    assert "a bug in litellm, not a problem with the backend's data" in caplog.text


def test_a_copied_chunk_log_keeps_its_tool_calls_apart_from_the_original() -> None:
    import copy

    from stream_corpus import MESSAGES, build_chunks

    from litellm.litellm_core_utils.stream_accumulator import StreamChunkLog

    log = StreamChunkLog()
    chunks = build_chunks(CASES["split_tool_call_id_and_name"]())
    for item in chunks[:-1]:
        log.append(item)
    twin = copy.deepcopy(log)
    twin.append(chunks[-1])
    log.append(chunks[-1])
    for built in (twin.build(messages=MESSAGES), log.build(messages=MESSAGES)):
        [call] = built.choices[0].message.tool_calls
        assert (call.id, call.function.name, call.function.arguments) == (
            "call_9f2c",
            "get_weather",
            '{"city": "Paris"}',
        )
