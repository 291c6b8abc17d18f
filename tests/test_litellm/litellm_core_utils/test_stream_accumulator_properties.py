"""Property tests for the accumulator's merge rules."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import litellm
from litellm.litellm_core_utils.stream_accumulator import StreamAccumulator, StreamChunkLog
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices, Usage

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MESSAGES = [{"role": "user", "content": "hi"}]
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


def _split(value: str, cuts: list[int]) -> list[str]:
    points = sorted({min(c, len(value)) for c in cuts} | {0, len(value)})
    return [value[a:b] for a, b in zip(points, points[1:], strict=False)]


def _chunk(*choices: tuple[int, dict[str, Any]], usage: Usage | None = None, finish: str | None = None) -> Any:
    return ModelResponseStream(
        id="chatcmpl-p",
        created=1700000000,  # fixed: two builds of the same stream must not straddle a second
        model="gpt-4o-mini",
        choices=[StreamingChoices(index=i, delta=Delta(**delta), finish_reason=finish) for i, delta in choices],
        **({"usage": usage} if usage is not None else {}),
    )


def _build(chunks: list[Any]) -> Any:
    accumulator = StreamAccumulator()
    for item in chunks:
        accumulator.add(item)
    return accumulator.build(messages=MESSAGES)


@SETTINGS
@given(value=text, cuts=st.lists(st.integers(0, 40), max_size=12))
def test_content_is_the_concatenation_of_its_fragments(value: str, cuts: list[int]) -> None:
    chunks = [_chunk((0, {"content": part})) for part in _split(value, cuts)] + [_chunk((0, {}), finish="stop")]
    built = _build(chunks)
    assert built.choices[0].message.content == value


@SETTINGS
@given(
    calls=st.lists(st.tuples(text, st.lists(st.integers(0, 40), max_size=5)), min_size=1, max_size=4),
    order=st.randoms(use_true_random=False),
)
def test_parallel_tool_calls_keep_their_own_id_name_and_arguments(calls: list[Any], order: Any) -> None:
    streams = []
    for index, (arguments, cuts) in enumerate(calls):
        head = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": f"f{index}"}}
        tail = [{"index": index, "function": {"arguments": part}} for part in _split(arguments, cuts)]
        streams.append([head, *tail])
    fragments: list[Any] = []
    while any(streams):  # interleave the calls' fragments in a random order, each call's own order kept
        stream = order.choice([s for s in streams if s])
        fragments.append(stream.pop(0))
    chunks = [_chunk((0, {"tool_calls": [fragment]})) for fragment in fragments]
    built = _build([*chunks, _chunk((0, {}), finish="tool_calls")])
    assert [(c.id, c.function.name, c.function.arguments) for c in built.choices[0].message.tool_calls] == [
        (f"call_{i}", f"f{i}", arguments or "{}") for i, (arguments, _) in enumerate(calls)
    ]


@SETTINGS
@given(
    answers=st.lists(text, min_size=1, max_size=4),
    picks=st.lists(st.integers(0, 3), max_size=60),
)
def test_n_choices_are_assembled_separately(answers: list[str], picks: list[int]) -> None:
    remaining = [list(answer) for answer in answers]
    chunks = []
    for pick in picks:
        index = pick % len(answers)
        if remaining[index]:
            chunks.append(_chunk((index, {"content": remaining[index].pop(0)})))
    for index, rest in enumerate(remaining):
        chunks.append(_chunk((index, {"content": "".join(rest)}), finish="stop"))
    built = _build(chunks)
    assert [c.message.content for c in built.choices] == answers
    assert [c.index for c in built.choices] == list(range(len(answers)))


usage_report = st.fixed_dictionaries(
    {
        "prompt_tokens": st.integers(0, 5000),
        "completion_tokens": st.integers(0, 5000),
        "cached": st.one_of(st.none(), st.integers(0, 5000)),
    }
)


@SETTINGS
@given(reports=st.lists(usage_report, min_size=1, max_size=6))
def test_usage_keeps_the_latest_reported_counts_and_details(reports: list[dict[str, Any]]) -> None:
    chunks = []
    for report in reports:
        details = {"cached_tokens": report["cached"]} if report["cached"] is not None else {"audio_tokens": 0}
        usage = Usage(
            prompt_tokens=report["prompt_tokens"],
            completion_tokens=report["completion_tokens"],
            total_tokens=report["prompt_tokens"] + report["completion_tokens"],
            prompt_tokens_details=details,
        )
        chunks.append(_chunk((0, {"content": "x"}), usage=usage))
    log = StreamChunkLog()
    for item in chunks:
        log.append(item)
    total = log.total_usage()
    last = reports[-1]
    assert (total.prompt_tokens, total.completion_tokens) == (last["prompt_tokens"], last["completion_tokens"])
    cached = [r["cached"] for r in reports if r["cached"] is not None]
    expected_cached = cached[-1] if cached else None
    assert getattr(total.prompt_tokens_details, "cached_tokens", None) == expected_cached
    built = log.build(messages=MESSAGES)
    assert getattr(built.usage.prompt_tokens_details, "cached_tokens", None) == expected_cached
    # stream_chunk_builder's rule: a reported count is never replaced by a later report's 0
    positive_prompt = [r["prompt_tokens"] for r in reports if r["prompt_tokens"] > 0]
    positive_completion = [r["completion_tokens"] for r in reports if r["completion_tokens"] > 0]
    assert built.usage.prompt_tokens == (positive_prompt[-1] if positive_prompt else 0)
    assert built.usage.completion_tokens == (positive_completion[-1] if positive_completion else 0)


@SETTINGS
@given(blocks=st.lists(st.tuples(text, st.lists(st.integers(0, 40), max_size=4), st.booleans()), max_size=5))
def test_thinking_blocks_stay_in_order_with_their_signatures(blocks: list[Any]) -> None:
    chunks = []
    expected = []
    for number, (thinking, cuts, redacted) in enumerate(blocks):
        if redacted:
            chunks.append(_chunk((0, {"thinking_blocks": [{"type": "redacted_thinking", "data": f"r{number}"}]})))
            expected.append({"type": "redacted_thinking", "data": f"r{number}"})
            continue
        for part in _split(thinking, cuts):
            chunks.append(_chunk((0, {"thinking_blocks": [{"type": "thinking", "thinking": part}]})))
        signature = f"sig{number}"
        chunks.append(_chunk((0, {"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": signature}]})))
        expected.append({"type": "thinking", "thinking": thinking, "signature": signature})
    chunks.append(_chunk((0, {"content": "answer"}), finish="stop"))
    built = _build(chunks)
    assert (built.choices[0].message.get("thinking_blocks") or []) == expected


@SETTINGS
@given(value=text, cuts=st.lists(st.integers(0, 40), max_size=12), with_usage=st.booleans())
def test_the_log_builds_what_the_list_builds(value: str, cuts: list[int], with_usage: bool) -> None:
    parts = _split(value, cuts)
    usage = Usage(prompt_tokens=7, completion_tokens=len(parts), total_tokens=7 + len(parts)) if with_usage else None

    def stream() -> list[Any]:
        return [_chunk((0, {"content": p})) for p in parts] + [_chunk((0, {}), usage=usage, finish="stop")]

    log = StreamChunkLog()
    for item in stream():
        log.append(item)
    from_log = log.build(messages=MESSAGES)
    from_list = litellm.stream_chunk_builder(chunks=stream(), messages=MESSAGES)
    assert from_log.model_dump() == from_list.model_dump()
