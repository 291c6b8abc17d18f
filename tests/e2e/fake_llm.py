"""Test backends on 127.0.0.1 that speak real HTTP: OpenAI chat (SSE), Anthropic messages (SSE), Ollama chat (NDJSON),
OpenAI Responses (SSE events) and OpenAI text completions (SSE chunks).

The scenario comes from the requested model name: ``text+tokens=40+delay=0.05``
(``openai/text+tokens=40`` in litellm; no ``?`` or ``/``, since Azure puts the name in the URL path). For the same scenario, the streamed answer and the
non-streamed answer are built independently from one description, so a test can compare what
litellm assembles from the stream with what the backend would have said without one.

Scenario keys: kind (text, tools, reasoning, function_call; on the OpenAI wire also tools_same_index:
each parallel call sent complete at index 0, and tools_split_id: one call whose id and name arrive in
two fragments), tokens, delay (seconds between chunks), first_delay, finish (stop, length, tool_calls,
content_filter), usage (last, every, none, or nostream: only the
non-streamed answer carries usage, like a server that ignores ``stream_options.include_usage``), cached (cached prompt tokens), fault (cut, stall, malformed,
nofinish, error, status500, trickle: an SSE keep-alive comment every 0.2 s, forever; on the Responses
wire also failed: a response.failed event instead of the terminal one), at (chunk index of the fault), error_bytes
(the length of the message of an ``error`` fault, default a short one),
filter (first, last: an Azure content-filter event, ``"object": ""`` and ``"model": ""``, before or
after the answer), size (bytes of text sent as ONE content event, instead of tokens), write
(bytes per socket write; 0: one write per event).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CREATED = 1_700_000_000


@dataclass
class Scenario:
    kind: str = "text"
    tokens: int = 5
    delay: float = 0.0
    first_delay: float = 0.0
    finish: str = ""
    usage: str = "last"
    cached: int = 0
    fault: str = ""
    at: int = 2
    error_bytes: int = 0
    filter: str = ""
    size: int = 0
    write: int = 0

    @classmethod
    def parse(cls, model: str) -> Scenario:
        kind, *pairs = model.split("+")
        spec = cls(kind=kind or "text")
        for key, value in (pair.split("=", 1) for pair in pairs):
            current = getattr(spec, key)
            setattr(spec, key, type(current)(value))
        return spec

    @property
    def finish_reason(self) -> str:
        if self.finish:
            return self.finish
        if self.kind.startswith("tools"):
            return "tool_calls"
        return {"function_call": "function_call"}.get(self.kind, "stop")


def words(choice: int, tokens: int, prefix: str = "w") -> list[str]:
    return [f"{prefix}{j}c{choice} " for j in range(tokens)]


def tool_calls(choice: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_a{choice}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "c"}'},
        },
        {
            "id": f"call_b{choice}",
            "type": "function",
            "function": {"name": "get_time", "arguments": '{"tz": "Europe/Paris"}'},
        },
    ]


#: Text deltas a serializer can get wrong: quotes, escapes, control characters, non-ASCII, a line separator.
TRICKY = [
    '"quoted" ',
    "back\\slash ",
    "line\nbreak ",
    "tab\there ",
    "ctl\x01 ",
    "é ",
    "日本 ",
    "😀 ",
    "\u2028 ",
    "</x> ",
]


def tricky_words(tokens: int) -> list[str]:
    return [TRICKY[j % len(TRICKY)] for j in range(tokens)]


SPLIT_CALL = {
    "id": "call_9f2c",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def split(text: str, parts: int) -> list[str]:
    step = max(1, len(text) // parts)
    return [text[i : i + step] for i in range(0, len(text), step)]


def usage(spec: Scenario, n: int) -> dict[str, Any]:
    completion = spec.tokens * n
    return {
        "prompt_tokens": 11,
        "completion_tokens": completion,
        "total_tokens": 11 + completion,
        "prompt_tokens_details": {"cached_tokens": spec.cached},
        "completion_tokens_details": {"reasoning_tokens": spec.tokens if spec.kind == "reasoning" else 0},
    }


def logprob_entries(pieces: list[str]) -> list[dict[str, Any]]:
    return [{"token": p, "logprob": -0.5, "bytes": list(p.encode()), "top_logprobs": []} for p in pieces]


# ---------------------------------------------------------------------------------------------- OpenAI


def openai_message(spec: Scenario, choice: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if spec.kind in ("tools", "tools_same_index"):
        message["tool_calls"] = tool_calls(choice)
    elif spec.kind == "tools_split_id":
        message["tool_calls"] = [SPLIT_CALL]
    elif spec.size:
        message["content"] = "x" * spec.size
    elif spec.kind == "function_call":
        message["function_call"] = tool_calls(choice)[0]["function"]
    elif spec.kind == "tricky":
        message["content"] = "".join(tricky_words(spec.tokens))
    elif spec.kind == "repeat":
        message["content"] = "loop " * spec.tokens
    else:
        message["content"] = "".join(words(choice, spec.tokens))
    if spec.kind == "reasoning":
        message["reasoning_content"] = "".join(words(choice, spec.tokens, "think"))
    return message


def openai_deltas(spec: Scenario, choice: int) -> list[dict[str, Any]]:
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if spec.kind == "reasoning":
        deltas += [{"reasoning_content": w} for w in words(choice, spec.tokens, "think")]
    if spec.kind == "tools":
        for index, call in enumerate(tool_calls(choice)):
            head = {
                "index": index,
                "id": call["id"],
                "type": "function",
                "function": {"name": call["function"]["name"], "arguments": ""},
            }
            deltas.append({"tool_calls": [head]})
            for piece in split(call["function"]["arguments"], max(1, spec.tokens)):
                deltas.append({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    elif spec.kind == "tools_same_index":
        deltas += [{"tool_calls": [{"index": 0, **call}]} for call in tool_calls(choice)]
    elif spec.kind == "tools_split_id":
        deltas.append({"tool_calls": [{"index": 0, "id": "call_", "type": "function", "function": {"name": "get_"}}]})
        deltas.append(
            {"tool_calls": [{"index": 0, "id": "9f2c", "function": {"name": "weather", "arguments": '{"city": '}}]}
        )
        deltas.append({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]})
    elif spec.size:
        deltas.append({"content": "x" * spec.size})
    elif spec.kind == "function_call":
        function = tool_calls(choice)[0]["function"]
        deltas.append({"function_call": {"name": function["name"], "arguments": ""}})
        deltas += [{"function_call": {"arguments": p}} for p in split(function["arguments"], max(1, spec.tokens))]
    elif spec.kind == "tricky":
        deltas += [{"content": w} for w in tricky_words(spec.tokens)]
    elif spec.kind == "repeat":  # a model stuck in a loop: the same chunk again and again
        deltas += [{"content": "loop "} for _ in range(spec.tokens)]
    else:
        deltas += [{"content": w} for w in words(choice, spec.tokens)]
    return deltas


def openai_complete(spec: Scenario, body: dict[str, Any]) -> dict[str, Any]:
    n = body.get("n") or 1
    choices = []
    for i in range(n):
        choice: dict[str, Any] = {"index": i, "message": openai_message(spec, i), "finish_reason": spec.finish_reason}
        choice["logprobs"] = {"content": logprob_entries(words(i, spec.tokens))} if body.get("logprobs") else None
        choices.append(choice)
    out = {
        "id": "chatcmpl-native",
        "object": "chat.completion",
        "created": CREATED,
        "model": body["model"],
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
        "choices": choices,
    }
    if spec.usage != "none":
        out["usage"] = usage(spec, n)
    return out


def openai_chunks(spec: Scenario, body: dict[str, Any]) -> list[dict[str, Any]]:
    n = body.get("n") or 1
    base = {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": body["model"],
        "system_fingerprint": "fp_fake",
        "service_tier": "default",
    }
    chunks = []
    for i in range(n):
        deltas = openai_deltas(spec, i)
        for k, delta in enumerate(deltas):
            choice: dict[str, Any] = {"index": i, "delta": delta, "finish_reason": None}
            if body.get("logprobs") and "content" in delta and delta["content"]:
                choice["logprobs"] = {"content": logprob_entries([delta["content"]])}
            if k == len(deltas) - 1 and spec.fault != "nofinish":
                choice["finish_reason"] = spec.finish_reason
            chunk = {**base, "choices": [choice]}
            if spec.usage == "every":
                chunk["usage"] = {"prompt_tokens": 11, "completion_tokens": k, "total_tokens": 11 + k}
            chunks.append(chunk)
    include_usage = (body.get("stream_options") or {}).get("include_usage")
    if spec.usage in ("last", "every") and include_usage:
        chunks.append({**base, "choices": [], "usage": usage(spec, n)})
    if spec.filter == "first":
        chunks.insert(0, {**CONTENT_FILTER_EVENT, "prompt_filter_results": [{"prompt_index": 0, **FILTERS}]})
    elif spec.filter == "last":
        chunks.append({**CONTENT_FILTER_EVENT, "choices": [{"index": 0, "finish_reason": None, **FILTERS}]})
    return chunks


#: Azure's content-filter events: not chat.completion.chunk events, and they name no model.
CONTENT_FILTER_EVENT: dict[str, Any] = {"id": "", "object": "", "created": 0, "model": "", "choices": []}
FILTERS = {"content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}


# ---------------------------------------------------------------------------------------------- Anthropic


def anthropic_blocks(spec: Scenario) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if spec.kind == "reasoning":
        blocks.append({"type": "thinking", "thinking": "".join(words(0, spec.tokens, "think")), "signature": "sig-1"})
        blocks.append({"type": "redacted_thinking", "data": "opaque-redacted"})
    if spec.kind == "tools":
        blocks.append({"type": "text", "text": "Let me check."})
        for call in tool_calls(0):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call["id"],
                    "name": call["function"]["name"],
                    "input": json.loads(call["function"]["arguments"]),
                }
            )
    else:
        blocks.append({"type": "text", "text": "".join(words(0, spec.tokens))})
    return blocks


def anthropic_stop_reason(spec: Scenario) -> str:
    return {"tools": "tool_use", "length": "max_tokens"}.get(
        spec.kind if spec.kind == "tools" else spec.finish, "end_turn"
    )


def anthropic_complete(spec: Scenario, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_native",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": anthropic_blocks(spec),
        "stop_reason": anthropic_stop_reason(spec),
        "stop_sequence": None,
        "usage": {
            "input_tokens": 11,
            "output_tokens": spec.tokens,
            "cache_read_input_tokens": spec.cached,
            "cache_creation_input_tokens": 0,
        },
    }


def anthropic_events(spec: Scenario, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    message = {**anthropic_complete(spec, body), "id": "msg_stream", "content": [], "stop_reason": None}
    message["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": message})]
    for index, block in enumerate(anthropic_blocks(spec)):
        kind = block["type"]
        start = {
            "text": {"type": "text", "text": ""},
            "thinking": {"type": "thinking", "thinking": ""},
            "tool_use": {**block, "input": {}},
            "redacted_thinking": block,
        }[kind]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": start}))
        if kind == "text":
            for piece in split(block["text"], max(1, spec.tokens)):
                events.append(
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
                )
        elif kind == "thinking":
            for piece in split(block["thinking"], max(1, spec.tokens)):
                events.append(
                    (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "thinking_delta", "thinking": piece},
                        },
                    )
                )
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "signature_delta", "signature": block["signature"]},
                    },
                )
            )
        elif kind == "tool_use":
            for piece in split(json.dumps(block["input"]), 3):
                events.append(
                    (
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": piece},
                        },
                    )
                )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    stop = None if spec.fault == "nofinish" else anthropic_stop_reason(spec)
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": spec.tokens},
            },
        )
    )
    if spec.fault != "nofinish":
        events.append(("message_stop", {"type": "message_stop"}))
    return events


# ---------------------------------------------------------------------------------------------- Ollama


def ollama_complete(spec: Scenario, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(words(0, spec.tokens))}
    if spec.kind == "reasoning":
        message["thinking"] = "".join(words(0, spec.tokens, "think"))
    return {
        "model": body["model"],
        "created_at": "2026-01-01T00:00:00Z",
        "message": message,
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 11,
        "eval_count": spec.tokens,
    }


def ollama_lines(spec: Scenario, body: dict[str, Any]) -> list[dict[str, Any]]:
    final = ollama_complete(spec, body)
    lines = []
    if spec.kind == "reasoning":
        lines += [
            {"model": body["model"], "message": {"role": "assistant", "content": "", "thinking": w}, "done": False}
            for w in words(0, spec.tokens, "think")
        ]
    lines += [
        {"model": body["model"], "message": {"role": "assistant", "content": w}, "done": False}
        for w in words(0, spec.tokens)
    ]
    if spec.fault != "nofinish":
        lines.append({**final, "message": {"role": "assistant", "content": ""}})
    return lines


# ---------------------------------------------------------------------------------------------- Responses


def responses_output(spec: Scenario) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if spec.kind == "reasoning":
        summary = "".join(words(0, spec.tokens, "think"))
        items.append({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": summary}]})
    if spec.kind == "tools":
        for index, call in enumerate(tool_calls(0)):
            items.append(
                {
                    "type": "function_call",
                    "id": f"fc_{index}",
                    "call_id": call["id"],
                    "name": call["function"]["name"],
                    "arguments": call["function"]["arguments"],
                    "status": "completed",
                }
            )
    else:
        text = "".join(words(0, spec.tokens))
        items.append(
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        )
    return items


def responses_complete(spec: Scenario, body: dict[str, Any]) -> dict[str, Any]:
    incomplete = spec.finish == "length"
    return {
        "id": "resp_native",
        "object": "response",
        "created_at": CREATED,
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": body["model"],
        "output": responses_output(spec),
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "temperature": 1.0,
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "usage": {
            "input_tokens": 11,
            "input_tokens_details": {"cached_tokens": spec.cached},
            "output_tokens": spec.tokens,
            "output_tokens_details": {"reasoning_tokens": spec.tokens if spec.kind == "reasoning" else 0},
            "total_tokens": 11 + spec.tokens,
        },
    }


def responses_events(spec: Scenario, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    final = {**responses_complete(spec, body), "id": "resp_stream"}
    started = {**final, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"type": "response.created", "response": started}),
        ("response.in_progress", {"type": "response.in_progress", "response": started}),
    ]
    for index, item in enumerate(final["output"]):
        events.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": index}))
        if item["type"] == "message":
            text = item["content"][0]["text"]
            for piece in split(text, max(1, spec.tokens)):
                delta = {"type": "response.output_text.delta", "output_index": index, "content_index": 0}
                events.append(("response.output_text.delta", {**delta, "item_id": item["id"], "delta": piece}))
            events.append(("response.output_text.done", {"type": "response.output_text.done", "text": text}))
        elif item["type"] == "function_call":
            for piece in split(item["arguments"], max(1, spec.tokens)):
                delta = {"type": "response.function_call_arguments.delta", "output_index": index}
                events.append(("response.function_call_arguments.delta", {**delta, "delta": piece}))
        events.append(("response.output_item.done", {"type": "response.output_item.done", "item": item}))
    if spec.fault == "failed":
        failed = {**final, "status": "failed", "error": {"code": "server_error", "message": "model crashed"}}
        events.append(("response.failed", {"type": "response.failed", "response": failed}))
    elif spec.fault != "nofinish":
        terminal = f"response.{final['status']}"
        events.append((terminal, {"type": terminal, "response": final}))
    return events


# ---------------------------------------------------------------------------------------------- text completions


def text_logprobs(pieces: list[str], offset: int = 0) -> dict[str, Any]:
    """Text completion logprobs; ``text_offset`` counts from the start of the text, also in a streamed chunk."""
    return {
        "tokens": pieces,
        "token_logprobs": [-0.5 for _ in pieces],
        "top_logprobs": [{p: -0.5} for p in pieces],
        "text_offset": [offset + sum(len(q) for q in pieces[:i]) for i in range(len(pieces))],
    }


def text_complete(spec: Scenario, body: dict[str, Any]) -> dict[str, Any]:
    n = body.get("n") or 1
    choices = [
        {
            "index": i,
            "text": "".join(words(i, spec.tokens)),
            "logprobs": text_logprobs(words(i, spec.tokens)) if body.get("logprobs") else None,
            "finish_reason": spec.finish or "stop",
        }
        for i in range(n)
    ]
    out = {
        "id": "cmpl-native",
        "object": "text_completion",
        "created": CREATED,
        "model": body["model"],
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }
    if spec.usage != "none":
        out["usage"] = {"prompt_tokens": 11, "completion_tokens": spec.tokens * n, "total_tokens": 11 + spec.tokens * n}
    return out


def text_chunks(spec: Scenario, body: dict[str, Any]) -> list[dict[str, Any]]:
    n = body.get("n") or 1
    base = {"id": "cmpl-stream", "object": "text_completion", "created": CREATED, "model": body["model"]}
    base["system_fingerprint"] = "fp_fake"
    chunks = []
    for i in range(n):
        pieces = words(i, spec.tokens)
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1 and spec.fault != "nofinish"
            choice = {
                "index": i,
                "text": piece,
                "logprobs": text_logprobs([piece], sum(map(len, pieces[:k]))) if body.get("logprobs") else None,
                "finish_reason": (spec.finish or "stop") if last else None,
            }
            chunks.append({**base, "choices": [choice]})
    if spec.usage != "none" and (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": text_complete(spec, body)["usage"]})
    return chunks


# ---------------------------------------------------------------------------------------------- server


@dataclass
class Seen:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeLLM:
    """The backend, served from a thread of the test process on 127.0.0.1."""

    port: int = 0
    requests: list[Seen] = field(default_factory=list)
    disconnects: int = 0
    completed: int = 0

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeLLM:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def reset(self) -> None:
        self.requests.clear()
        self.disconnects = 0
        self.completed = 0

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/chat/completions", self._openai)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/api/chat", self._ollama)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/openai/responses", self._responses)
        app.router.add_post("/v1/completions", self._text)
        # Handlers are cancelled when their client goes away, so a stalled stream ends with its connection.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], Scenario]:
        body = await request.json()
        self.requests.append(Seen(request.path, body, dict(request.headers)))
        model = body.get("model") or request.match_info.get("deployment", "text")
        body.setdefault("model", model)
        return body, Scenario.parse(model)

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        body, spec = await self._read(request)
        frames = [json.dumps(c) for c in openai_chunks(spec, body)] + ["[DONE]"]
        return await self._serve(
            request,
            spec,
            body.get("stream"),
            openai_complete(spec, body),
            [f"data: {f}\n\n" for f in frames],
            "text/event-stream",
        )

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        body, spec = await self._read(request)
        frames = [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in anthropic_events(spec, body)]
        return await self._serve(
            request, spec, body.get("stream"), anthropic_complete(spec, body), frames, "text/event-stream"
        )

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body, spec = await self._read(request)
        frames = [f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in responses_events(spec, body)]
        return await self._serve(
            request, spec, body.get("stream"), responses_complete(spec, body), frames, "text/event-stream"
        )

    async def _text(self, request: web.Request) -> web.StreamResponse:
        body, spec = await self._read(request)
        frames = [json.dumps(c) for c in text_chunks(spec, body)] + ["[DONE]"]
        return await self._serve(
            request,
            spec,
            body.get("stream"),
            text_complete(spec, body),
            [f"data: {f}\n\n" for f in frames],
            "text/event-stream",
        )

    async def _ollama(self, request: web.Request) -> web.StreamResponse:
        body, spec = await self._read(request)
        frames = [json.dumps(line) + "\n" for line in ollama_lines(spec, body)]
        return await self._serve(
            request, spec, body.get("stream", True), ollama_complete(spec, body), frames, "application/x-ndjson"
        )

    async def _serve(self, request, spec: Scenario, stream: bool, complete: dict, frames: list[str], content_type: str):
        if spec.fault == "status500":
            return web.json_response({"error": {"message": "backend exploded", "type": "server_error"}}, status=500)
        await asyncio.sleep(spec.first_delay)
        if not stream:
            # A non-streaming backend is silent until the whole answer is generated.
            await asyncio.sleep(spec.delay * len(frames))
            self.completed += 1
            return web.json_response(complete)
        response = web.StreamResponse(headers={"Content-Type": content_type, "x-backend": "fake"})
        await response.prepare(request)
        try:
            for index, frame in enumerate(frames):
                if index == spec.at and spec.fault:
                    if spec.fault == "cut":
                        request.transport.close()
                        return response
                    if spec.fault == "stall":
                        await asyncio.sleep(3600)
                    while spec.fault == "trickle":  # never finishes, never silent for long
                        await response.write(b": keep-alive\n\n")
                        await asyncio.sleep(0.2)
                    if spec.fault == "malformed":
                        await response.write(b"data: {this is not json\n\n")
                    if spec.fault == "error":
                        message = "x" * spec.error_bytes if spec.error_bytes else "model crashed"
                        error = {"error": {"message": message, "type": "server_error"}}
                        await response.write(f"data: {json.dumps(error)}\n\n".encode())
                        return response
                data = frame.encode()
                step = spec.write or len(data) or 1
                for start in range(0, len(data), step):
                    await response.write(data[start : start + step])
                if spec.delay:
                    await asyncio.sleep(spec.delay)
            await response.write_eof()
            self.completed += 1
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        return response
