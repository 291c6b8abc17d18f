"""Assemble a streamed response body into the body a non-streaming call returns (sans-I/O).

One assembler per wire format. Each takes the raw bytes of a streamed answer as they arrive and,
at the end, returns the JSON document the same backend returns for ``stream: false``, so that the
provider's ordinary non-streaming code turns it into a response. OpenAI chat chunks are merged by
the rules of ``litellm.litellm_core_utils.chat_chunk_merge``, which the stream accumulator (the other
engine) shares; otherwise the merge follows openai-python's ``accumulate_delta`` and anthropic-python's
``accumulate_event`` (see docs/buffered-stream.md).

A stream that ends early, carries an event that is not JSON or lacks what it must carry, or reports
an error never becomes a successful body: ``StreamFailed`` says why, with the HTTP status the failure
is reported as, and a malformed event is named (its kind, its number in the stream and a bounded
quote). An exception of any other kind raised while assembling is a bug in this code, not the
backend's: it is logged as such and propagates unchanged.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from litellm.buffered_stream.decoders import NDJSONDecoder, SSEDecoder, loads
from litellm.buffered_stream.quoting import clipped, quoted
from litellm.litellm_core_utils.chat_chunk_merge import (
    AnswerIdentity,
    ToolCallHead,
    ToolCalls,
    is_completion_chunk,
    merge_usage,
)

Json = dict[str, Any]

BAD_GATEWAY = 502

_logger = logging.getLogger("LiteLLM")


class StreamFailed(Exception):
    """The backend stream cannot be turned into a complete answer."""

    def __init__(self, message: str, status_code: int = BAD_GATEWAY, body: Json | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


class _Malformed(Exception):
    """The event being handled lacks what it must carry; reported by ``_event_handler`` with the event."""


def quote(data: bytes) -> str:
    """``data`` for an error message: at most ``QUOTE_LIMIT`` bytes of it, and how much was cut."""
    return quoted(data)


def _parse(data: bytes) -> Json:
    try:
        value = loads(data)
    except ValueError as e:
        raise _Malformed("unparseable (not JSON)") from e
    if not isinstance(value, dict):
        raise _Malformed("not a JSON object")
    return value


_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer"}


_T = TypeVar("_T")


def _expect(value: object, kind: type[_T], what: str) -> _T:
    """``value`` if it is a ``kind`` (``bool`` is not an integer), else the event is malformed."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Malformed(f"{what} is not {_TYPE_NAMES[kind]}: {quote(repr(value).encode())}")
    return value


def _optional(value: object, kind: type[_T], what: str) -> _T | None:
    return None if value is None else _expect(value, kind, what)


_Handler = TypeVar("_Handler", bound=Callable[..., None])
_LOGGED = "_litellm_buffered_stream_logged"


def _log_our_bug(error: Exception, where: str) -> None:
    """Log an exception of our own code once, as what it is: a bug in litellm, not the backend's fault."""
    if getattr(error, _LOGGED, False):
        return
    _logger.exception(
        "buffered_stream: internal error in %s (a bug in litellm, not a problem with the backend's data)", where
    )
    try:
        setattr(error, _LOGGED, True)
    except AttributeError:  # an exception type without attributes: logged again if it passes another guard
        pass


def _event_handler(handler: _Handler) -> _Handler:
    """Number the events; a malformed one fails the stream naming it, a bug of ours is logged as one."""

    @functools.wraps(handler)
    def wrapper(self: Any, event: str, payload: bytes) -> None:
        self._events += 1
        try:
            handler(self, event, payload)
        except _Malformed as e:
            what = f"{event} event" if event else self.unit
            raise StreamFailed(
                f"buffered_stream: the backend sent a malformed {what} (#{self._events} of the stream): "
                f"{e}: {quote(payload)}"
            ) from e
        except StreamFailed:
            raise
        except Exception as e:
            _log_our_bug(e, f"litellm's {self.wire} assembler at event #{self._events}")
            raise

    return wrapper  # type: ignore[return-value]


def _finisher(finish: Callable[[Any], Json]) -> Callable[[Any], Json]:
    """``finish`` with the same split as ``_event_handler``: our own exceptions are logged as our bugs."""

    @functools.wraps(finish)
    def wrapper(self: Any) -> Json:
        try:
            return finish(self)
        except _Malformed as e:
            raise StreamFailed(f"buffered_stream: the backend stream is malformed at its end: {e}") from e
        except StreamFailed:
            raise
        except Exception as e:
            _log_our_bug(e, f"litellm's {self.wire} assembler at the end of the stream")
            raise

    return wrapper


# --------------------------------------------------------------------------------------------
# OpenAI chat completions: `data: {chat.completion.chunk}` events, then `data: [DONE]`
# --------------------------------------------------------------------------------------------

#: Keys whose later value replaces the earlier one instead of being concatenated.
_REPLACED_KEYS = frozenset({"index", "type", "id", "name", "role", "expires_at"})
#: Top-level fields that name the answer: only ``chat.completion.chunk`` events set them.
_CHUNK_ONLY_KEYS = frozenset({"system_fingerprint", "service_tier"})
#: Chunk fields that are not copied to the answer as they are (``AnswerIdentity`` folds id, model, created).
_NOT_TOP_LEVEL = frozenset({"choices", "usage", "object", "id", "model", "created"})


class _Text(list[str]):
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
    ``index`` merge entry by entry; other lists extend; ``None`` changes nothing.
    Concatenated strings stay in pieces until ``joined``. (OpenAI tool calls do not come here:
    ``OpenAIChatAssembler`` merges them by the rules of ``chat_chunk_merge``.)
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


class _WireToolCall(ToolCallHead):
    """One tool call of the wire: its head (``chat_chunk_merge``) and every other field, merged."""

    __slots__ = ("fields",)

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.fields: Json = {}

    def body(self) -> Json:
        fields = joined(self.fields)
        call: Json = {"id": self.id} if self.id is not None else {}
        call.update(fields)
        if self.name is not None:
            call["function"] = {"name": self.name, **(fields.get("function") or {})}
        return call


class _Choice:
    """One choice's accumulated message (tool calls apart), logprobs, finish reason and extra fields."""

    __slots__ = ("message", "tool_calls", "audio_data", "fields")

    def __init__(self) -> None:
        self.message: Json = {}
        self.tool_calls: ToolCalls[_WireToolCall] | None = None
        self.audio_data: bytearray | None = None
        self.fields: Json = {"logprobs": None, "finish_reason": None}

    def fold_audio(self, audio: Json) -> None:
        """Audio ``data`` is base64 per chunk: pieces are decoded and joined, not concatenated as text."""
        data = _optional(audio.get("data"), str, "choices[].delta.audio.data")
        if data is not None:
            try:
                piece = base64.b64decode(data, validate=True)
            except binascii.Error as e:
                raise _Malformed(f"choices[].delta.audio.data is not base64 ({e})") from e
            if self.audio_data is None:
                self.audio_data = bytearray()
            self.audio_data += piece
        merge_delta(self.message, {"audio": {k: v for k, v in audio.items() if k != "data"}})

    def fold_tool_calls(self, fragments: list[Any]) -> None:
        if self.tool_calls is None:
            self.tool_calls = ToolCalls(_WireToolCall)
        for position, fragment in enumerate(fragments):
            if fragment is None:
                continue
            what = f"choices[].delta.tool_calls[{position}]"
            _expect(fragment, dict, what)
            function = _optional(fragment.get("function"), dict, f"{what}.function") or {}
            index = fragment.get("index", 0)
            call = self.tool_calls.fragment(
                _expect(index, int, f"{what}.index"),
                _optional(fragment.get("id"), str, f"{what}.id"),
                _optional(function.get("name"), str, f"{what}.function.name"),
                _optional(function.get("arguments"), str, f"{what}.function.arguments"),
            )
            rest = {k: v for k, v in fragment.items() if k not in ("index", "id", "function")}
            rest_function = {k: v for k, v in function.items() if k != "name"}
            if rest_function or "function" in fragment:
                rest["function"] = rest_function
            merge_delta(call.fields, rest)


class OpenAIChatAssembler:
    """``chat.completion.chunk`` events into one ``chat.completion`` document."""

    wire = "openai"
    unit = "stream event"

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._events = 0
        self._top: Json = {}
        self._identity = AnswerIdentity()
        self._choices: dict[int, _Choice] = {}
        self._usage: Json | None = None
        self._done = False

    def feed(self, data: bytes) -> None:
        for _event, payload in self._sse.feed(data):
            self._on_event("", payload)

    @_event_handler
    def _on_event(self, _event: str, payload: bytes) -> None:
        if payload.strip() == b"[DONE]":
            self._done = True
            return
        chunk = _parse(payload)
        if chunk.get("error") is not None and not chunk.get("choices"):
            error = chunk["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise StreamFailed(f"the backend reported an error mid-stream: {clipped(message)}", body=chunk)
        is_chunk = is_completion_chunk(chunk.get("object"))
        self._identity.add(chunk.get("object"), chunk.get("id"), chunk.get("model"), chunk.get("created"))
        for key, value in chunk.items():
            if key in _NOT_TOP_LEVEL or value is None:
                continue
            if key in _CHUNK_ONLY_KEYS and not is_chunk:
                continue  # an Azure content-filter event ("object": "", "model": "") does not name the answer
            self._top[key] = value
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self._usage = merge_usage(self._usage, usage)
        for choice in _optional(chunk.get("choices"), list, "choices") or ():
            self._on_choice(_expect(choice, dict, "choices[]"))

    def _on_choice(self, choice: Json) -> None:
        index = _expect(choice.get("index", 0), int, "choices[].index")
        state = self._choices.get(index)
        if state is None:
            state = self._choices[index] = _Choice()
        delta = _optional(choice.get("delta"), dict, "choices[].delta")
        if delta:
            fragments = delta.get("tool_calls")
            if fragments is not None:
                state.fold_tool_calls(_expect(fragments, list, "choices[].delta.tool_calls"))
            audio = delta.get("audio")
            if audio is not None:
                state.fold_audio(_expect(audio, dict, "choices[].delta.audio"))
            merge_delta(state.message, {k: v for k, v in delta.items() if k not in ("tool_calls", "audio")})
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict):
            if state.fields["logprobs"] is None:
                state.fields["logprobs"] = {}
            merge_delta(state.fields["logprobs"], logprobs)
        if choice.get("finish_reason"):
            state.fields["finish_reason"] = choice["finish_reason"]
        for key, value in choice.items():
            if key not in ("index", "delta", "logprobs", "finish_reason") and value is not None:
                state.fields[key] = value

    @_finisher
    def finish(self) -> Json:
        for _event, payload in self._sse.flush():
            self._on_event("", payload)
        if not self._choices:
            raise StreamFailed("buffered_stream: the backend stream ended without any choice")
        unfinished = sorted(i for i, c in self._choices.items() if not c.fields["finish_reason"])
        if unfinished:
            raise StreamFailed(
                f"buffered_stream: the backend stream ended before choice(s) {unfinished} finished "
                "(no finish_reason): the answer would be truncated"
            )
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            message = joined(state.message)
            if state.tool_calls is not None:
                message["tool_calls"] = [call.body() for call in state.tool_calls.ordered()]
            if state.audio_data is not None:
                message.setdefault("audio", {})["data"] = base64.b64encode(state.audio_data).decode("ascii")
            message.setdefault("role", "assistant")
            if not message.get("content") and (message.get("tool_calls") or message.get("function_call")):
                # Streams open with `content: ""`; a non-streaming tool-call answer has no content.
                message["content"] = None
            message.setdefault("content", None)
            choices.append({"index": index, "message": message, **joined(state.fields)})
        identity = {"id": self._identity.id, "created": self._identity.created, "model": self._identity.model}
        body: Json = {
            **{k: v for k, v in identity.items() if v is not None},
            **self._top,
            "object": "chat.completion",
            "choices": choices,
        }
        if self._usage is not None:
            body["usage"] = self._usage
        return body

    @staticmethod
    def error_body(message: str) -> Json:
        return {"error": {"message": message, "type": "bad_gateway", "code": "buffered_stream_incomplete"}}


# --------------------------------------------------------------------------------------------
# Anthropic messages: message_start, content_block_*, message_delta, message_stop
# --------------------------------------------------------------------------------------------

_JSON_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
#: How far past the last started block a content_block_start may land (blocks start in order).
_MAX_BLOCK_GAP = 64
_TEXT_DELTAS = {"text_delta": "text", "thinking_delta": "thinking"}


class AnthropicMessageAssembler:
    """Anthropic's message event stream into one ``message`` document."""

    wire = "anthropic"
    unit = "message event"

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._events = 0
        self._message: Json | None = None
        self._json_inputs: dict[int, list[str]] = {}
        self._stopped = False

    def feed(self, data: bytes) -> None:
        for event, payload in self._sse.feed(data):
            self._on_event(event, payload)

    @_event_handler
    def _on_event(self, event: str, payload: bytes) -> None:
        body = _parse(payload)
        kind = body.get("type", event)
        if kind == "error":
            error = body.get("error")
            error = error if isinstance(error, dict) else {"message": error}
            status = 529 if error.get("type") == "overloaded_error" else 500
            raise StreamFailed(
                f"the backend reported an error mid-stream: {clipped(error.get('message'))}", status, body
            )
        if kind == "ping":
            return
        if kind == "message_start":
            self._message = dict(_expect(body.get("message") or {}, dict, "message"))
            self._message["content"] = list(_optional(self._message.get("content"), list, "message.content") or [])
            return
        message = self._require_started(kind)
        if kind == "content_block_start":
            index = self._block_index(body, message, started=False)
            block = dict(_expect(body.get("content_block") or {}, dict, "content_block"))
            content = message["content"]
            while len(content) <= index:
                content.append(None)
            content[index] = block
            if block.get("type") in _JSON_INPUT_BLOCKS:
                self._json_inputs[index] = []
        elif kind == "content_block_delta":
            index = self._block_index(body, message, started=True)
            self._on_block_delta(message["content"][index], index, _expect(body.get("delta") or {}, dict, "delta"))
        elif kind == "content_block_stop":
            self._close_block(message, self._block_index(body, message, started=True))
        elif kind == "message_delta":
            message.update(_expect(body.get("delta") or {}, dict, "delta"))
            usage = _expect(body.get("usage") or {}, dict, "usage")
            message["usage"] = {
                **(message.get("usage") or {}),
                **{k: v for k, v in usage.items() if v is not None},
            }
        elif kind == "message_stop":
            self._stopped = True

    def _require_started(self, kind: object) -> Json:
        if self._message is None:
            raise StreamFailed(f"buffered_stream: the backend sent {kind} before message_start")
        return self._message

    @staticmethod
    def _block_index(body: Json, message: Json, started: bool) -> int:
        index = _expect(body.get("index"), int, "index")
        content = message["content"]
        if started and not (0 <= index < len(content) and content[index] is not None):
            raise _Malformed(f"content block {index} was never started")
        if not started and not 0 <= index <= len(content) + _MAX_BLOCK_GAP:
            raise _Malformed(f"content block index {index} is out of order")
        return index

    def _on_block_delta(self, block: Json, index: int, delta: Json) -> None:
        kind = delta.get("type")
        if kind in _TEXT_DELTAS:
            key = _TEXT_DELTAS[kind]
            _append(block, key, _expect(delta.get(key, ""), str, f"delta.{key}"))
        elif kind == "input_json_delta":
            partial = _expect(delta.get("partial_json", ""), str, "delta.partial_json")
            self._json_inputs.setdefault(index, []).append(partial)
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature", "")
        elif kind == "citations_delta":
            if not isinstance(block.get("citations"), list):
                block["citations"] = []  # a block may start with "citations": null
            block["citations"].append(delta.get("citation"))
        else:
            merge_delta(block, {k: v for k, v in delta.items() if k != "type"})

    def _close_block(self, message: Json, index: int) -> None:
        parts = self._json_inputs.pop(index, None)
        if parts is None:
            return
        text = "".join(parts)
        try:
            message["content"][index]["input"] = _parse(text.encode()) if text else {}
        except _Malformed as e:
            raise _Malformed(f"the input of tool block {index} is {e}: {quote(text.encode())}") from e

    @_finisher
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
    unit = "stream line"

    def __init__(self) -> None:
        self._lines = NDJSONDecoder()
        self._events = 0
        self._message: Json = {}
        self._final: Json | None = None

    def feed(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            self._on_line("", line)

    @_event_handler
    def _on_line(self, _event: str, line: bytes) -> None:
        doc = _parse(line)
        if "error" in doc:
            raise StreamFailed(f"the backend reported an error mid-stream: {clipped(doc['error'])}", 500, doc)
        message = doc.get("message")
        if isinstance(message, dict):
            merge_delta(self._message, message)
        if doc.get("done"):
            self._final = doc

    @_finisher
    def finish(self) -> Json:
        for line in self._lines.flush():
            self._on_line("", line)
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
