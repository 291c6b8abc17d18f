"""A corpus of chat completion streams, as plain data, and the code that builds and normalises them.

Importable by the fork's tests and, in a subprocess, by the pristine pinned upstream
(``python stream_corpus.py`` reads case names on stdin and prints upstream's results as JSON), so the
same chunks are assembled by both sides and compared.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from stream_wrapper import stream_wrapper

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MODEL = "gpt-4o-mini"
CREATED = 1700000000
MESSAGES = [{"role": "user", "content": "hello there"}]


def chunk(
    *choices: dict[str, Any],
    usage: dict[str, Any] | None = None,
    id: str = "chatcmpl-1",
    model: str = MODEL,
    hidden: dict[str, Any] | None = None,
    created: int = CREATED,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "model": model,
        "created": created,
        "choices": list(choices),
        "usage": usage,
        "hidden": hidden,
        "extra": extra,
    }


def choice(index: int = 0, finish_reason: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish_reason}


def _tool(index: int, id: str | None = None, name: str | None = None, arguments: str = "") -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    return {"index": index, "id": id, "type": "function" if id else None, "function": function}


def _words(text: str, size: int = 3) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _text_case(finish: bool = True, usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    parts = _words("The quick brown fox jumps over the lazy dog. " * 3)
    chunks = [chunk(choice(role="assistant", content=""))]
    chunks += [chunk(choice(content=part)) for part in parts]
    chunks.append(chunk(choice(finish_reason="stop" if finish else None)))
    if usage is not None:
        chunks.append(chunk(usage=usage))
    return chunks


def _parallel_tools() -> list[dict[str, Any]]:
    chunks = [chunk(choice(role="assistant", content=None))]
    chunks.append(chunk(choice(tool_calls=[_tool(0, "call_a", "get_weather")])))
    chunks.append(chunk(choice(tool_calls=[_tool(1, "call_b", "get_time")])))
    for part in _words('{"city": "Paris", "unit": "c"}', 4):
        chunks.append(chunk(choice(tool_calls=[_tool(0, arguments=part)])))
    for part in _words('{"tz": "Europe/Paris"}', 5):
        chunks.append(chunk(choice(tool_calls=[_tool(1, arguments=part)])))
    chunks.append(chunk(choice(finish_reason="tool_calls")))
    return chunks


def _content_then_tools() -> list[dict[str, Any]]:
    chunks = [chunk(choice(role="assistant", content="Let me check. "))]
    chunks.append(chunk(choice(content="One moment.")))
    chunks.append(chunk(choice(tool_calls=[_tool(0, "call_x", "lookup", '{"q": ')])))
    chunks.append(chunk(choice(tool_calls=[_tool(0, arguments='"litellm"}')])))
    chunks.append(chunk(choice(finish_reason="tool_calls")))
    return chunks


def _function_call() -> list[dict[str, Any]]:
    chunks = [chunk(choice(role="assistant", function_call={"name": "get_weather", "arguments": ""}))]
    for part in _words('{"location": "Boston"}', 3):
        chunks.append(chunk(choice(function_call={"arguments": part})))
    chunks.append(chunk(choice(finish_reason="function_call")))
    return chunks


def _reasoning() -> list[dict[str, Any]]:
    chunks = [chunk(choice(role="assistant", reasoning_content="Thinking "))]
    chunks += [chunk(choice(reasoning_content=part)) for part in _words("about the answer carefully.", 5)]
    chunks += [chunk(choice(content=part)) for part in _words("The answer is 42.", 4)]
    chunks.append(chunk(choice(finish_reason="stop")))
    return chunks


def _thinking_blocks() -> list[dict[str, Any]]:
    def block(thinking: str = "", signature: str | None = None) -> dict[str, Any]:
        return {"type": "thinking", "thinking": thinking, "signature": signature}

    hidden = {"custom_llm_provider": "anthropic"}
    chunks = [chunk(choice(role="assistant", thinking_blocks=[block("First ")]), hidden=hidden)]
    chunks.append(chunk(choice(thinking_blocks=[block("thought.")]), hidden=hidden))
    chunks.append(chunk(choice(thinking_blocks=[block(signature="sig-1")]), hidden=hidden))
    chunks.append(chunk(choice(thinking_blocks=[{"type": "redacted_thinking", "data": "REDACTED=="}]), hidden=hidden))
    chunks.append(chunk(choice(thinking_blocks=[block("Second thought.")]), hidden=hidden))
    chunks.append(chunk(choice(thinking_blocks=[block(signature="sig-2")]), hidden=hidden))
    chunks.append(chunk(choice(content="Done."), hidden=hidden))
    chunks.append(
        chunk(
            choice(finish_reason="stop"),
            usage={"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
            hidden=hidden,
        )
    )
    return chunks


def _audio() -> list[dict[str, Any]]:
    pieces = [b"RIFF0000", b"WAVEfmt ", b"data1234"]
    chunks = [chunk(choice(role="assistant", audio={"id": "audio_1", "transcript": "Hel"}))]
    for piece in pieces:
        chunks.append(chunk(choice(audio={"data": base64.b64encode(piece).decode(), "transcript": "lo"})))
    chunks.append(chunk(choice(audio={"expires_at": 1800000000}, finish_reason="stop")))
    return chunks


def _annotations() -> list[dict[str, Any]]:
    first = {"type": "url_citation", "url_citation": {"url": "https://example.com/a", "title": "A"}}
    second = {"type": "url_citation", "url_citation": {"url": "https://example.com/b", "title": "B"}}
    return [
        chunk(choice(role="assistant", content="See ")),
        chunk(choice(content="sources.", annotations=[first])),
        chunk(choice(annotations=[second], finish_reason="stop")),
    ]


def _usage_every_chunk() -> list[dict[str, Any]]:
    chunks = []
    for n, part in enumerate(_words("counting tokens as they come", 4), start=1):
        usage = {"prompt_tokens": 9, "completion_tokens": n, "total_tokens": 9 + n}
        chunks.append(chunk(choice(content=part), usage=usage))
    chunks.append(chunk(choice(finish_reason="stop"), usage={"prompt_tokens": 9, "completion_tokens": 8}))
    return chunks


def _cached_tokens() -> list[dict[str, Any]]:
    usage = {
        "prompt_tokens": 2000,
        "completion_tokens": 12,
        "total_tokens": 2012,
        "prompt_tokens_details": {"cached_tokens": 1536},
        "completion_tokens_details": {"reasoning_tokens": 4},
    }
    return _text_case(usage=usage)


def _n_choices() -> list[dict[str, Any]]:
    chunks = [chunk(choice(0, role="assistant", content=""), choice(1, role="assistant", content=""))]
    for left, right in zip(_words("first answer here", 3), _words("second one, longer text", 3), strict=False):
        chunks.append(chunk(choice(0, content=left), choice(1, content=right)))
    chunks.append(chunk(choice(0, finish_reason="stop"), choice(1, finish_reason="length")))
    return chunks


def _vertex_grounding() -> list[dict[str, Any]]:
    grounding = {"webSearchQueries": ["weather paris"], "groundingChunks": [{"web": {"uri": "https://x.example"}}]}
    hidden = {"custom_llm_provider": "vertex_ai"}
    return [
        chunk(choice(role="assistant", content="It is "), model="gemini/gemini-2.0-flash", hidden=hidden),
        chunk(choice(content="sunny."), model="gemini/gemini-2.0-flash", hidden=hidden),
        chunk(
            choice(finish_reason="stop"),
            model="gemini/gemini-2.0-flash",
            hidden=hidden,
            usage={"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            vertex_ai_grounding_metadata=[grounding],
        ),
    ]


def _empty_choices() -> list[dict[str, Any]]:
    return [
        chunk(choice(role="assistant", content="Hi")),
        chunk(),
        chunk(choice(content=" there")),
        chunk(),
        chunk(choice(finish_reason="stop")),
        chunk(usage={"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}),
    ]


def _later_model() -> list[dict[str, Any]]:
    return [
        chunk(choice(role="assistant", content="a"), model="azure-model-router", id=""),
        chunk(choice(content="b"), model="gpt-4.1-nano-2025-04-14", id="chatcmpl-9"),
        chunk(choice(finish_reason="stop"), model="gpt-4.1-nano-2025-04-14", service_tier="default"),
    ]


def _provider_fields() -> list[dict[str, Any]]:
    return [
        chunk(choice(role="assistant", content="x", provider_specific_fields={"citation": "c1"})),
        chunk(choice(content="y", provider_specific_fields={"citation": "c2", "search": True})),
        chunk(choice(finish_reason="stop"), hidden={"provider_specific_fields": {"traffic_type": "ON_DEMAND"}}),
    ]


def _same_index_parallel_calls() -> list[dict[str, Any]]:
    """Providers that send each parallel call complete, every one at index 0 (upstream fuses them)."""
    return [
        chunk(choice(role="assistant", content=None)),
        chunk(choice(tool_calls=[_tool(0, "call_1", "get_weather", '{"city": "Paris"}')])),
        chunk(choice(tool_calls=[_tool(0, "call_2", "get_weather", '{"city": "Rome"}')])),
        chunk(choice(finish_reason="tool_calls")),
    ]


def _split_tool_call_id_and_name() -> list[dict[str, Any]]:
    """One call whose id and name arrive in two fragments at one index (upstream keeps only the tails)."""
    return [
        chunk(choice(role="assistant", content=None)),
        chunk(choice(tool_calls=[_tool(0, "call_", "get_")])),
        chunk(choice(tool_calls=[_tool(0, "9f2c", "weather", '{"city": ')])),
        chunk(choice(tool_calls=[_tool(0, arguments='"Paris"}')])),
        chunk(choice(finish_reason="tool_calls")),
    ]


#: Azure's content-filter event: not a chat.completion.chunk, and it names no model.
_CONTENT_FILTER_EVENT: dict[str, Any] = {"id": "", "model": "", "object": "", "created": 0}


def _content_filter_event_first() -> list[dict[str, Any]]:
    return [
        chunk(**_CONTENT_FILTER_EVENT),
        chunk(choice(role="assistant", content="Hello"), id="chatcmpl-az"),
        chunk(choice(content=" there", finish_reason="stop"), id="chatcmpl-az"),
        chunk(usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, id="chatcmpl-az"),
    ]


def _content_filter_event_last() -> list[dict[str, Any]]:
    return [
        chunk(choice(role="assistant", content="Hello"), id="chatcmpl-az"),
        chunk(choice(content=" there", finish_reason="stop"), id="chatcmpl-az"),
        chunk(usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, id="chatcmpl-az"),
        chunk(**_CONTENT_FILTER_EVENT),
    ]


def _usage_details_then_partial() -> list[dict[str, Any]]:
    """A later usage report whose prompt_tokens_details lacks cached_tokens (upstream drops the count)."""
    first = {"prompt_tokens": 2000, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 1536}}
    later = {"prompt_tokens": 2000, "completion_tokens": 20, "prompt_tokens_details": {"audio_tokens": 0}}
    return [
        chunk(choice(role="assistant", content="Hello"), usage=first),
        chunk(choice(content=" world")),
        chunk(choice(finish_reason="stop"), usage=later),
    ]


CASES: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "text_usage_last": lambda: _text_case(usage={"prompt_tokens": 11, "completion_tokens": 40, "total_tokens": 51}),
    "text_usage_absent": _text_case,
    "text_no_finish_reason": lambda: _text_case(finish=False),
    "usage_every_chunk": _usage_every_chunk,
    "cached_tokens": _cached_tokens,
    "parallel_tool_calls": _parallel_tools,
    "content_then_tool_call": _content_then_tools,
    "function_call": _function_call,
    "reasoning_content": _reasoning,
    "thinking_blocks": _thinking_blocks,
    "audio": _audio,
    "annotations": _annotations,
    "vertex_grounding": _vertex_grounding,
    "empty_choices": _empty_choices,
    "later_chunk_model": _later_model,
    "provider_specific_fields": _provider_fields,
    "n_choices": _n_choices,
    "same_index_parallel_calls": _same_index_parallel_calls,
    "usage_details_then_partial": _usage_details_then_partial,
    "split_tool_call_id_and_name": _split_tool_call_id_and_name,
    "content_filter_event_first": _content_filter_event_first,
    "content_filter_event_last": _content_filter_event_last,
}
# Cases where the fork deliberately differs from upstream (each has its own test).
DELIBERATE_DIFFERENCES = frozenset(
    {
        "n_choices",
        "same_index_parallel_calls",
        "usage_details_then_partial",
        "split_tool_call_id_and_name",
        "content_filter_event_first",
    }
)


def build_chunks(specs: list[dict[str, Any]]) -> list[Any]:
    from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices, Usage

    built = []
    for spec in specs:
        response = ModelResponseStream(
            id=spec["id"],
            created=spec["created"],
            model=spec["model"],
            choices=[
                StreamingChoices(index=c["index"], delta=Delta(**c["delta"]), finish_reason=c["finish_reason"])
                for c in spec["choices"]
            ],
            **({"usage": Usage(**spec["usage"])} if spec["usage"] is not None else {}),
            **spec["extra"],
        )
        if not spec["choices"]:
            response.choices = []
        if spec["hidden"]:
            response._hidden_params = dict(spec["hidden"])
        built.append(response)
    return built


def wire_events(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same chunks as the raw ``chat.completion.chunk`` events an OpenAI-compatible server sends."""
    events = []
    for spec in specs:
        event: dict[str, Any] = {
            "id": spec["id"],
            "object": "chat.completion.chunk",
            "created": spec["created"],
            "model": spec["model"],
            **spec["extra"],
            "choices": [
                {**c, "delta": {k: v for k, v in c["delta"].items() if v is not None}} for c in spec["choices"]
            ],
        }
        if spec["usage"] is not None:
            event["usage"] = spec["usage"]
        events.append(event)
    return events


def normalise(response: Any) -> Any:
    if response is None:
        return None
    dumped = response.model_dump()
    return json.loads(json.dumps({"response": dumped, "hidden": dict(response._hidden_params)}, default=repr))


def assemble(name: str) -> dict[str, Any]:
    """stream_chunk_builder and calculate_total_usage of one case, as JSON."""
    import litellm
    from litellm.litellm_core_utils.streaming_handler import calculate_total_usage

    chunks = build_chunks(CASES[name]())
    built = litellm.stream_chunk_builder(chunks=chunks, messages=MESSAGES)
    total = calculate_total_usage(chunks=build_chunks(CASES[name]()))
    return {"built": normalise(built), "total_usage": json.loads(json.dumps(total.model_dump(), default=repr))}


STABLE_LOGGING_KEYS = (
    "response",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "response_cost",
    "model",
    "custom_llm_provider",
    "status",
    "stream",
    "call_type",
)


def _logged(logging_obj: Any) -> bool:
    return _logged_response(logging_obj) is not None and bool(
        logging_obj.model_call_details.get("standard_logging_object")
    )


def _logged_response(logging_obj: Any) -> Any:
    details = logging_obj.model_call_details
    return details.get("complete_streaming_response") or details.get("async_complete_streaming_response")


def drive_wrapper(name: str, mode: str) -> dict[str, Any]:
    """Run one case through CustomStreamWrapper (sync or async) and return what the success callback logged."""
    import asyncio
    import time

    from litellm.utils import ModelResponseListIterator

    chunks = build_chunks(CASES[name]())
    wrapper, logging_obj = stream_wrapper(
        ModelResponseListIterator(model_responses=chunks),
        model=MODEL,
        messages=MESSAGES,
        call_type="acompletion" if mode == "async" else "completion",
    )
    logging_obj.model_call_details["custom_llm_provider"] = "openai"
    returned: list[Any] = []
    if mode == "async":

        async def consume() -> None:
            async for item in wrapper:
                returned.append(item)
            for _ in range(250):
                if _logged(logging_obj):
                    return
                await asyncio.sleep(0.02)

        asyncio.run(consume())
    else:
        returned.extend(wrapper)
        deadline = time.time() + 5
        while not _logged(logging_obj) and time.time() < deadline:
            time.sleep(0.02)
    kwargs = logging_obj.model_call_details
    if not _logged(logging_obj):
        return {"logged": None, "returned": len(returned)}
    payload = kwargs.get("standard_logging_object") or {}
    stable = {key: payload.get(key) for key in STABLE_LOGGING_KEYS}
    return json.loads(
        json.dumps(
            {
                "logged": normalise(_logged_response(logging_obj)),
                "standard_logging_object": stable,
                "returned": len(returned),
            },
            default=repr,
        )
    )


class _CutStream:
    """Yields the chunks, then fails the way a dropped connection does."""

    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = list(chunks)

    def __iter__(self) -> _CutStream:
        return self

    def __next__(self) -> Any:
        if self._chunks:
            return self._chunks.pop(0)
        raise RuntimeError("backend connection cut")

    def __aiter__(self) -> _CutStream:
        return self

    async def __anext__(self) -> Any:
        return self.__next__()


def drive_cut_stream(name: str, mode: str) -> dict[str, Any]:
    """Stream a case without its last chunk, then fail: what partial usage the failure records."""
    import asyncio
    import threading

    wrapper, logging_obj = stream_wrapper(
        _CutStream(build_chunks(CASES[name]())[:-1]),
        model=MODEL,
        messages=MESSAGES,
        call_type="acompletion" if mode == "async-cut" else "completion",
    )
    error = None
    try:
        if mode == "async-cut":

            async def consume() -> None:
                async for _ in wrapper:
                    pass

            asyncio.run(consume())
        else:
            for _ in wrapper:
                pass
    except Exception as e:  # noqa: BLE001  # the failure is the point
        error = type(e).__name__
    # The sync wrapper runs the failure handler in a thread of its own (``Thread(target=failure_handler)``),
    # and that handler settles ``response_cost``: wait for it rather than read a half-written record.
    for thread in threading.enumerate():
        if thread.name.endswith("(failure_handler)"):
            thread.join(timeout=10)
    usage = logging_obj.model_call_details.get("combined_usage_object")
    return json.loads(
        json.dumps(
            {
                "error": error,
                "partial_usage": usage.model_dump() if usage is not None else None,
                "response_cost": logging_obj.model_call_details.get("response_cost"),
            },
            default=repr,
        )
    )


def _main() -> None:
    request = sys.stdin.read().split()
    if request and request[0] in ("sync", "async"):
        print(json.dumps({name: drive_wrapper(name, request[0]) for name in request[1:]}))
    elif request and request[0] in ("sync-cut", "async-cut"):
        print(json.dumps({name: drive_cut_stream(name, request[0]) for name in request[1:]}))
    else:
        print(json.dumps({name: assemble(name) for name in request}))


if __name__ == "__main__":
    _main()
