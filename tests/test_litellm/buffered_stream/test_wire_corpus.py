"""The wire path's assembler on the shared chat stream corpus: the same answer as the stream accumulator.

Every case of ``tests/test_litellm/litellm_core_utils/stream_corpus.py`` that an OpenAI-compatible server
can send is assembled, as raw ``chat.completion.chunk`` events in small reads, by ``OpenAIChatAssembler``
(the wire path), by the fork's ``StreamAccumulator`` (what ``stream_chunk_builder`` runs in the fork, and
the generic path) and by pristine upstream's ``stream_chunk_builder`` (in a subprocess, from
``.cache/upstream-site``). What a client reads of the answer (``answer``) is the same from the wire and the
accumulator on every case, and the same as upstream's except in the deliberate differences, which
``test_chat_chunk_merge.py`` and ``test_stream_accumulator.py`` name and test one by one; the cases the wire
does not assemble are named here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# The corpus lives with the accumulator's tests (it is run by pristine upstream from there too).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "litellm_core_utils"))

from stream_corpus import CASES, DELIBERATE_DIFFERENCES, assemble, wire_events  # noqa: E402
from upstream_reference import upstream  # noqa: E402

from litellm.buffered_stream.assemblers import OpenAIChatAssembler, StreamFailed  # noqa: E402

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
# Agreement
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WIRE_CASES)
def test_wire_assembler_and_accumulator_agree(name: str) -> None:
    # Usage: a stream without usage reports gets the tokenizer's count on both paths, after assembly.
    with_usage = _streams_usage(name)
    assert answer(wire(name), with_usage) == answer(accumulated(name), with_usage)


@pytest.mark.parametrize("name", sorted(set(WIRE_CASES) - DELIBERATE_DIFFERENCES))
def test_wire_assembler_agrees_with_upstream_where_upstream_is_right(name: str) -> None:
    with_usage = _streams_usage(name)
    assert answer(wire(name), with_usage) == answer(upstream_built(name), with_usage)


def test_every_case_the_wire_leaves_out_is_named() -> None:
    assert set(CASES) - set(WIRE_CASES) == NOT_ON_THE_WIRE | WIRE_REFUSES


def test_wire_refuses_a_stream_without_finish_reason() -> None:
    """The builders stamp "stop"; a buffered call refuses the truncated answer (502) on both paths."""
    with pytest.raises(StreamFailed, match="finish_reason"):
        wire("text_no_finish_reason")
    assert accumulated("text_no_finish_reason")["choices"][0]["finish_reason"] == "stop"


# ---------------------------------------------------------------------------------------------
# The deliberate differences from upstream, on the wire too
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
