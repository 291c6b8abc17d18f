"""The merge rules for chat completion chunks (``chat_chunk_merge``), and the accumulator that uses them.

The wire path's assembler uses the same rules: ``tests/test_litellm/buffered_stream/test_wire_corpus.py``
runs the shared corpus through it, the accumulator and pristine upstream.
"""

from __future__ import annotations

from stream_corpus import CASES, MESSAGES, assemble, build_chunks
from upstream_reference import upstream

from litellm.litellm_core_utils.chat_chunk_merge import (
    AnswerIdentity,
    ToolCallHead,
    ToolCalls,
    is_completion_chunk,
    merge_usage,
)
from litellm.litellm_core_utils.stream_accumulator import StreamChunkLog

ALL_CASES = " ".join(CASES)


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


def _tool_calls(result: dict) -> list[tuple[str, str, str]]:
    calls = result["built"]["response"]["choices"][0]["message"]["tool_calls"]
    return [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in calls]


def test_accumulator_joins_a_split_id_and_name() -> None:
    """Deliberate difference: upstream keeps only the tails (its later releases join them)."""
    assert _tool_calls(assemble("split_tool_call_id_and_name")) == [("call_9f2c", "get_weather", '{"city": "Paris"}')]
    assert _tool_calls(upstream(ALL_CASES)["split_tool_call_id_and_name"]) == [("9f2c", "weather", '{"city": "Paris"}')]


def test_accumulator_takes_created_from_the_answer_not_a_content_filter_event() -> None:
    """Deliberate difference: upstream takes `created` from the first event, a content-filter event's 0."""
    for name in ("content_filter_event_first", "content_filter_event_last"):
        response = assemble(name)["built"]["response"]
        assert (response["id"], response["model"], response["created"]) == ("chatcmpl-az", "gpt-4o-mini", 1700000000)
    assert upstream(ALL_CASES)["content_filter_event_first"]["built"]["response"]["created"] == 0


def test_a_copied_chunk_log_keeps_its_tool_calls_apart_from_the_original() -> None:
    import copy

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
