"""Assemble a streamed response body into the body a non-streaming call returns (sans-I/O).

One assembler per wire format. Each takes the raw bytes of a streamed answer as they arrive and,
at the end, returns the JSON document the same backend returns for ``stream: false``, so that the
provider's ordinary non-streaming code turns it into a response. The merge rules follow
openai-python's ``accumulate_delta`` and anthropic-python's ``accumulate_event``
(see docs/buffered-stream.md).

A stream that ends early, carries an event that is not JSON, or reports an error never becomes a
successful body: ``StreamFailed`` says why, with the HTTP status the failure is reported as.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from litellm.buffered_stream.decoders import NDJSONDecoder, SSEDecoder, loads
from litellm.buffered_stream.quoting import clipped, quoted

Json = dict[str, Any]

BAD_GATEWAY = 502


class StreamFailed(Exception):
    """The backend stream cannot be turned into a complete answer."""

    def __init__(self, message: str, status_code: int = BAD_GATEWAY, body: Json | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


def _parse(data: bytes, what: str) -> Json:
    try:
        value = loads(data)
    except ValueError as e:
        raise StreamFailed(f"buffered_stream: the backend sent an unparseable {what}: {quoted(data)}") from e
    if not isinstance(value, dict):
        raise StreamFailed(f"buffered_stream: the backend sent a {what} that is not a JSON object: {quoted(data)}")
    return value


_Handler = TypeVar("_Handler", bound=Callable[..., None])


def _malformed_is_failure(handler: _Handler) -> _Handler:
    """An event that parses but lacks what it must carry (a block index, a started block) fails the stream."""

    @functools.wraps(handler)
    def wrapper(*args: Any) -> None:
        try:
            handler(*args)
        except (KeyError, IndexError, TypeError, AttributeError) as e:
            raise StreamFailed(f"buffered_stream: the backend sent a malformed stream event ({quoted(e)})") from e

    return wrapper  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# OpenAI chat completions: `data: {chat.completion.chunk}` events, then `data: [DONE]`
# --------------------------------------------------------------------------------------------

#: Keys whose later value replaces the earlier one instead of being concatenated.
_REPLACED_KEYS = frozenset({"index", "type", "id", "name", "role", "expires_at"})


class _Text(list):
    """The pieces of a streamed string, joined once at the end (``+`` per chunk would copy the text each time)."""


def _append(into: Json, key: str, text: str) -> None:
    current = into.get(key)
    if isinstance(current, _Text):
        current.append(text)
    elif isinstance(current, str):
        into[key] = _Text((current, text))
    else:
        into[key] = _Text((text,))


def joined(value: Any) -> Any:
    """``value`` with every accumulated string joined, in place for containers."""
    if isinstance(value, _Text):
        return "".join(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                value[key] = joined(item)
    elif isinstance(value, list):
        value[:] = [joined(item) for item in value]
    return value


def merge_delta(into: Json, delta: Json) -> None:
    """Merge one streamed delta into the accumulated object.

    Strings concatenate (content, arguments, reasoning), except identifiers and types, which the
    latest non-empty value replaces; objects merge recursively; lists of objects that carry an
    ``index`` (tool calls) merge entry by entry; other lists extend; ``None`` changes nothing.
    Concatenated strings stay in pieces until ``joined``.
    """
    for key, value in delta.items():
        if value is None:
            continue
        current = into.get(key)
        if isinstance(value, str):
            if key in _REPLACED_KEYS or not (current is None or isinstance(current, (str, _Text))):
                if value or current is None:
                    into[key] = value
            else:
                _append(into, key, value)
        elif current is None:
            if isinstance(value, dict):
                into[key] = {}
                merge_delta(into[key], value)
            elif isinstance(value, list):
                into[key] = []
                _merge_list(into[key], value)
            else:
                into[key] = value
        elif isinstance(value, dict) and isinstance(current, dict):
            merge_delta(current, value)
        elif isinstance(value, list) and isinstance(current, list) and not isinstance(current, _Text):
            _merge_list(current, value)
        else:
            into[key] = value


def _merge_list(into: list[Any], items: list[Any]) -> None:
    for item in items:
        if isinstance(item, dict) and "index" in item:
            for existing in into:
                if isinstance(existing, dict) and existing.get("index") == item["index"]:
                    merge_delta(existing, item)
                    break
            else:
                entry: Json = {}
                merge_delta(entry, item)
                into.append(entry)
        else:
            into.append(item)


class OpenAIChatAssembler:
    """``chat.completion.chunk`` events into one ``chat.completion`` document."""

    wire = "openai"

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._top: Json = {}
        self._choices: dict[int, Json] = {}
        self._usage: Json | None = None
        self._done = False

    def feed(self, data: bytes) -> None:
        for _event, payload in self._sse.feed(data):
            self._on_event(payload)

    @_malformed_is_failure
    def _on_event(self, payload: bytes) -> None:
        if payload.strip() == b"[DONE]":
            self._done = True
            return
        chunk = _parse(payload, "stream event")
        if chunk.get("error") is not None and not chunk.get("choices"):
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise StreamFailed(f"the backend reported an error mid-stream: {clipped(message)}", body=chunk)
        for key, value in chunk.items():
            if key in ("choices", "usage", "object") or value is None:
                continue
            if key in ("id", "created") and self._top.get(key):
                continue
            self._top[key] = value
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            # A later usage object must not erase details an earlier one carried.
            self._usage = _merge_usage(self._usage, usage)
        for choice in chunk.get("choices") or ():
            self._on_choice(choice)

    def _on_choice(self, choice: Json) -> None:
        index = choice.get("index", 0)
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = {"message": {}, "logprobs": None, "finish_reason": None}
        delta = choice.get("delta")
        if isinstance(delta, dict):
            merge_delta(state["message"], delta)
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict):
            if state["logprobs"] is None:
                state["logprobs"] = {}
            merge_delta(state["logprobs"], logprobs)
        if choice.get("finish_reason"):
            state["finish_reason"] = choice["finish_reason"]
        for key, value in choice.items():
            if key not in ("index", "delta", "logprobs", "finish_reason") and value is not None:
                state[key] = value

    def finish(self) -> Json:
        for _event, payload in self._sse.flush():
            self._on_event(payload)
        if not self._choices:
            raise StreamFailed("buffered_stream: the backend stream ended without any choice")
        unfinished = sorted(i for i, c in self._choices.items() if not c["finish_reason"])
        if unfinished:
            raise StreamFailed(
                f"buffered_stream: the backend stream ended before choice(s) {unfinished} finished "
                "(no finish_reason): the answer would be truncated"
            )
        choices = []
        for index in sorted(self._choices):
            state = joined(self._choices[index])
            message = state.pop("message")
            message.setdefault("role", "assistant")
            if not message.get("content") and (message.get("tool_calls") or message.get("function_call")):
                # Streams open with `content: ""`; a non-streaming tool-call answer has no content.
                message["content"] = None
            message.setdefault("content", None)
            for call in message.get("tool_calls") or ():
                call.pop("index", None)
            choices.append({"index": index, "message": message, **state})
        body: Json = {**self._top, "object": "chat.completion", "choices": choices}
        if self._usage is not None:
            body["usage"] = self._usage
        return body

    @staticmethod
    def error_body(message: str) -> Json:
        return {"error": {"message": message, "type": "bad_gateway", "code": "buffered_stream_incomplete"}}


def _merge_usage(current: Json | None, new: Json) -> Json:
    if current is None:
        return dict(new)
    merged = dict(current)
    for key, value in new.items():
        if value is None:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **{k: v for k, v in value.items() if v is not None}}
        else:
            merged[key] = value
    return merged


# --------------------------------------------------------------------------------------------
# Anthropic messages: message_start, content_block_*, message_delta, message_stop
# --------------------------------------------------------------------------------------------

_JSON_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


class AnthropicMessageAssembler:
    """Anthropic's message event stream into one ``message`` document."""

    wire = "anthropic"

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._message: Json | None = None
        self._json_inputs: dict[int, list[str]] = {}
        self._stopped = False

    def feed(self, data: bytes) -> None:
        for event, payload in self._sse.feed(data):
            self._on_event(event, payload)

    @_malformed_is_failure
    def _on_event(self, event: str, payload: bytes) -> None:
        body = _parse(payload, f"{event or 'message'} event")
        kind = body.get("type", event)
        if kind == "error":
            error = body.get("error") or {}
            status = 529 if error.get("type") == "overloaded_error" else 500
            raise StreamFailed(
                f"the backend reported an error mid-stream: {clipped(error.get('message'))}", status, body
            )
        if kind == "ping":
            return
        if kind == "message_start":
            self._message = dict(body.get("message") or {})
            self._message["content"] = list(self._message.get("content") or [])
            return
        message = self._require_started(kind)
        if kind == "content_block_start":
            index = body["index"]
            block = dict(body.get("content_block") or {})
            content = message["content"]
            while len(content) <= index:
                content.append(None)
            content[index] = block
            if block.get("type") in _JSON_INPUT_BLOCKS:
                self._json_inputs[index] = []
        elif kind == "content_block_delta":
            self._on_block_delta(message, body["index"], body.get("delta") or {})
        elif kind == "content_block_stop":
            self._close_block(message, body["index"])
        elif kind == "message_delta":
            for key, value in (body.get("delta") or {}).items():
                message[key] = value
            usage = body.get("usage") or {}
            message["usage"] = {
                **(message.get("usage") or {}),
                **{k: v for k, v in usage.items() if v is not None},
            }
        elif kind == "message_stop":
            self._stopped = True

    def _require_started(self, kind: str) -> Json:
        if self._message is None:
            raise StreamFailed(f"buffered_stream: the backend sent {kind} before message_start")
        return self._message

    def _on_block_delta(self, message: Json, index: int, delta: Json) -> None:
        block = message["content"][index]
        kind = delta.get("type")
        if kind == "text_delta":
            _append(block, "text", delta.get("text", ""))
        elif kind == "input_json_delta":
            self._json_inputs.setdefault(index, []).append(delta.get("partial_json", ""))
        elif kind == "thinking_delta":
            _append(block, "thinking", delta.get("thinking", ""))
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature", "")
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))
        else:
            merge_delta(block, {k: v for k, v in delta.items() if k != "type"})

    def _close_block(self, message: Json, index: int) -> None:
        parts = self._json_inputs.pop(index, None)
        if parts is None:
            return
        text = "".join(parts)
        message["content"][index]["input"] = _parse(text.encode(), "tool input") if text else {}

    def finish(self) -> Json:
        for event, payload in self._sse.flush():
            self._on_event(event, payload)
        message = self._require_started("the end of the stream")
        if not self._stopped or not message.get("stop_reason"):
            raise StreamFailed(
                "buffered_stream: the backend stream ended before message_stop with a stop_reason: "
                "the answer would be truncated"
            )
        for index in list(self._json_inputs):
            self._close_block(message, index)
        message["content"] = [joined(block) for block in message["content"] if block is not None]
        return message

    @staticmethod
    def error_body(message: str) -> Json:
        return {"type": "error", "error": {"type": "api_error", "message": message}}


# --------------------------------------------------------------------------------------------
# Ollama native chat: one JSON document per line, the last with "done": true
# --------------------------------------------------------------------------------------------


class OllamaChatAssembler:
    """Ollama's ``/api/chat`` NDJSON stream into the final ``done`` document."""

    wire = "ollama"

    def __init__(self) -> None:
        self._lines = NDJSONDecoder()
        self._message: Json = {}
        self._final: Json | None = None

    def feed(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            self._on_line(line)

    @_malformed_is_failure
    def _on_line(self, line: bytes) -> None:
        doc = _parse(line, "stream line")
        if "error" in doc:
            raise StreamFailed(f"the backend reported an error mid-stream: {clipped(doc['error'])}", 500, doc)
        message = doc.get("message")
        if isinstance(message, dict):
            merge_delta(self._message, message)
        if doc.get("done"):
            self._final = doc

    def finish(self) -> Json:
        for line in self._lines.flush():
            self._on_line(line)
        if self._final is None:
            raise StreamFailed(
                'buffered_stream: the backend stream ended without its "done" line: the answer would be truncated'
            )
        message = {"role": "assistant", "content": "", **joined(self._message)}
        return {**self._final, "message": message}

    @staticmethod
    def error_body(message: str) -> Json:
        return {"error": message}


Assembler = OpenAIChatAssembler | AnthropicMessageAssembler | OllamaChatAssembler
