"""The async httpx client that serves a non-streaming request from a backend stream.

litellm builds its async HTTP clients (the OpenAI SDK's and its own handlers') from this class.
Outside a buffered call it is plain ``httpx.AsyncClient``. Inside one (``buffering()``), a
non-streaming request of a known wire format (chat completions, Anthropic messages, Ollama chat,
Responses, text completions) is sent with ``stream: true``, the stream is read
as it arrives (so the client's read timeout bounds each gap between chunks, not the whole
generation) and assembled, and the provider code above receives the ordinary non-streaming body it
asked for. Every other request, and every response that is not a stream (errors included), passes
through unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from litellm.buffered_stream.assemblers import (
    AnthropicMessageAssembler,
    Assembler,
    Json,
    OllamaChatAssembler,
    OpenAIChatAssembler,
    StreamFailed,
)
from litellm.buffered_stream.decoders import dumps, loads
from litellm.buffered_stream.quoting import QUOTE_LIMIT
from litellm.buffered_stream.responses import ResponsesAssembler
from litellm.buffered_stream.text_completion import TextCompletionAssembler
from litellm.buffered_stream.usage import estimate_body, lacks_usage, mark_estimated
from litellm.litellm_core_utils.upstream_surface import verbose_logger


@dataclass
class BufferedCall:
    """One buffered call in progress, as the client saw it.

    ``served`` counts the requests served from a stream; ``failed_mid_stream`` says a backend
    stream started and then failed (cut, stalled, malformed, incomplete); ``metadata`` is the
    call's logged metadata, where an estimated usage is marked.
    """

    served: int = 0
    failed_mid_stream: bool = False
    metadata: MutableMapping[str, Any] | None = None


_current: ContextVar[BufferedCall | None] = ContextVar("litellm_buffered_stream_call", default=None)


@contextlib.contextmanager
def buffering(metadata: MutableMapping[str, Any] | None = None) -> Iterator[BufferedCall]:
    """Serve the requests made in this context from backend streams.

    Re-entrant: a buffered call made inside another (a ``/v1/messages`` call that litellm bridges to
    a chat completion) counts towards the outer call, so the outer one knows it was served.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    call = BufferedCall(metadata=metadata)
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)


def in_buffered_call() -> bool:
    """Is a buffered call in progress here (so the calls litellm makes on its behalf are buffered too)?"""
    return _current.get() is not None


class StreamAssembler(Protocol):
    def feed(self, data: bytes) -> None: ...

    def finish(self) -> dict[str, Any]: ...

    def error_body(self, message: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Wire:
    name: str
    path_suffixes: tuple[str, ...]
    stream_content_types: tuple[str, ...]
    assembler: Callable[[], Assembler | StreamAssembler]
    ask_for_usage: bool
    #: The body field every request of this wire carries (tells a generation request from other POSTs).
    body_key: str = "messages"


#: Matched in order: chat completions before text completions, whose path is a suffix of theirs.
WIRES = (
    Wire("openai", ("/chat/completions",), ("text/event-stream",), OpenAIChatAssembler, True),
    Wire("anthropic", ("/v1/messages", "/messages"), ("text/event-stream",), AnthropicMessageAssembler, False),
    Wire(
        "ollama",
        ("/api/chat",),
        ("application/x-ndjson", "application/json", "application/jsonl"),
        OllamaChatAssembler,
        False,
    ),
    Wire("responses", ("/responses",), ("text/event-stream",), ResponsesAssembler, False, body_key="input"),
    Wire("openai_text", ("/completions",), ("text/event-stream",), TextCompletionAssembler, True, body_key="prompt"),
)

_DROPPED_RESPONSE_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding")


def _wire_for(request: httpx.Request) -> Wire | None:
    if request.method != "POST":
        return None
    path = request.url.path.rstrip("/")
    for wire in WIRES:
        if path.endswith(wire.path_suffixes):
            return wire
    return None


def _streamed_request(request: httpx.Request, wire: Wire) -> httpx.Request | None:
    """The same request asking for a stream, or None when it is not a non-streaming generation request."""
    try:
        body = loads(request.content)
    except (ValueError, httpx.RequestNotRead):
        return None
    if not isinstance(body, dict) or wire.body_key not in body or body.get("stream") is True:
        return None
    body["stream"] = True
    if wire.ask_for_usage:
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
    content = dumps(body)
    headers = httpx.Headers(request.headers)
    headers["content-length"] = str(len(content))
    return httpx.Request(request.method, request.url, headers=headers, content=content, extensions=request.extensions)


def _is_stream(response: httpx.Response, wire: Wire) -> bool:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return response.status_code == 200 and content_type in wire.stream_content_types


def _assembled(response: httpx.Response, request: httpx.Request, body: Json, status: int = 200) -> httpx.Response:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_RESPONSE_HEADERS]
    headers.append(("content-type", "application/json"))
    assembled = httpx.Response(
        status, headers=headers, content=dumps(body), request=request, extensions=response.extensions
    )
    assembled.elapsed = response.elapsed
    return assembled


#: A backend's own error event is passed on as it is up to this size; a larger one is replaced by ours.
_MAX_PASSED_ERROR_BYTES = 4 * QUOTE_LIMIT


def _failed(response: httpx.Response, request: httpx.Request, wire: Wire, failure: StreamFailed) -> httpx.Response:
    body = failure.body
    if body is None or len(dumps(body)) > _MAX_PASSED_ERROR_BYTES:
        body = wire.assembler().error_body(failure.message)
    return _assembled(response, request, body, failure.status_code)


def _with_usage(wire: Wire, request: httpx.Request, body: Json) -> Json:
    """An OpenAI answer whose stream carried no usage gets the tokenizer's estimate, marked as such."""
    if wire.name != "openai" or not lacks_usage(body.get("usage")):
        return body
    try:
        sent = loads(request.content)
        if not isinstance(sent, dict):
            raise TypeError("the request body is not a JSON object")
        body["usage"] = estimate_body(sent, body)
    except Exception:  # a count that cannot be made never fails a complete answer
        verbose_logger.exception("buffered_stream: could not estimate the usage of an answer")
        return body
    call = _current.get()
    mark_estimated(call.metadata if call is not None else None)
    return body


def _plan(request: httpx.Request) -> tuple[Wire, httpx.Request] | None:
    if _current.get() is None:
        return None
    wire = _wire_for(request)
    if wire is None:
        return None
    streamed = _streamed_request(request, wire)
    return None if streamed is None else (wire, streamed)


class BufferingAsyncClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that, inside ``buffering()``, serves non-streaming requests from streams.

    Outside a buffered call it is exactly ``httpx.AsyncClient``. The stream is read through the
    client's own transport, timeouts and event hooks; only the body handed back differs.
    """

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        plan = _plan(request)
        if plan is None:
            return await super().send(request, **kwargs)
        wire, streamed = plan
        caller_streams = kwargs.pop("stream", False)
        response = await super().send(streamed, stream=True, **kwargs)
        if not _is_stream(response, wire):
            if not caller_streams:
                await response.aread()
            return response
        assembler = wire.assembler()
        try:
            try:
                async for data in response.aiter_bytes():
                    assembler.feed(data)
                body = assembler.finish()
            finally:
                await response.aclose()
        except StreamFailed as failure:
            _note(failed_mid_stream=True)
            return _failed(response, request, wire, failure)
        except BaseException:
            _note(failed_mid_stream=True)
            raise
        mark_served()
        return _assembled(response, request, _with_usage(wire, request, body))


def mark_served() -> None:
    """Count one request of the current buffered call as served from a stream."""
    _note(served=1)


def _note(served: int = 0, failed_mid_stream: bool = False) -> None:
    call = _current.get()
    if call is not None:
        call.served += served
        call.failed_mid_stream = call.failed_mid_stream or failed_mid_stream
