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
from collections.abc import Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx

from litellm.buffered_stream.assembly import StreamFailed
from litellm.buffered_stream.decision import NativeReason
from litellm.buffered_stream.decoders import dumps, loads
from litellm.buffered_stream.quoting import QUOTE_LIMIT
from litellm.buffered_stream.usage import estimate_body, lacks_usage, mark_estimated
from litellm.buffered_stream.wires import OPENAI_CHAT, Wire, wire_for_path
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
    #: Requests of the call that went through ``BufferingAsyncClient``.
    seen: int = 0
    #: The first reason a request of the call was not served from a stream.
    unserved: NativeReason | None = None

    def note_unserved(self, reason: NativeReason) -> None:
        if self.unserved is None:
            self.unserved = reason

    def native_reason(self) -> NativeReason:
        """Why no request of this call was served from a stream (for a call that ended with ``served == 0``)."""
        if self.unserved is not None:
            return self.unserved
        if self.seen == 0:
            return NativeReason(
                "client",
                "no backend request of the call went through litellm's buffering HTTP client (a client of your own: "
                "client= or litellm.aclient_session, or a provider whose handler makes its requests another way)",
            )
        return NativeReason("unserved", "none of the call's backend requests was a non-streaming generation request")


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


def current_call() -> BufferedCall | None:
    """The buffered call in progress here, if any."""
    return _current.get()


def in_buffered_call() -> bool:
    """Is a buffered call in progress here (so the calls litellm makes on its behalf are buffered too)?"""
    return _current.get() is not None


_DROPPED_RESPONSE_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding")


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


def _assembled(
    response: httpx.Response, request: httpx.Request, body: dict[str, Any], status: int = 200
) -> httpx.Response:
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


def _with_usage(wire: Wire, request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI answer whose stream carried no usage gets the tokenizer's estimate, marked as such."""
    if wire is not OPENAI_CHAT or not lacks_usage(body.get("usage")):
        return body
    try:
        sent = loads(request.content)
        if not isinstance(sent, dict):
            return body
        body["usage"] = estimate_body(sent, body)
    except Exception:  # a count that cannot be made never fails a complete answer
        verbose_logger.exception("buffered_stream: could not estimate the usage of an answer")
        return body
    call = _current.get()
    mark_estimated(call.metadata if call is not None else None)
    return body


def _plan(request: httpx.Request) -> tuple[Wire, httpx.Request] | None:
    call = _current.get()
    if call is None:
        return None
    call.seen += 1
    if request.method != "POST":
        return None
    wire = wire_for_path(request.url.path)
    if wire is None:
        call.note_unserved(
            NativeReason(
                "path",
                f"its backend request went to {request.url.path}, which is not the path of a wire buffered_stream "
                "assembles",
            )
        )
        return None
    streamed = _streamed_request(request, wire)
    return None if streamed is None else (wire, streamed)


def _note_not_a_stream(response: httpx.Response, wire: Wire) -> None:
    call = _current.get()
    if call is not None and response.status_code == 200:
        content_type = response.headers.get("content-type", "") or "no content-type"
        call.note_unserved(
            NativeReason(
                "not_a_stream",
                f"the backend answered the streamed request ({wire.name} wire) with {content_type}, not a stream: "
                "it ignored stream: true",
            )
        )


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
            _note_not_a_stream(response, wire)
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
