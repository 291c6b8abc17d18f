"""Assemble an OpenAI Responses API event stream into the body of a non-streaming ``/v1/responses`` call (sans-I/O).

A Responses stream ends with one terminal event that carries the whole response object, the same
object a ``stream: false`` call returns: ``response.completed``, or ``response.incomplete`` (a valid
answer whose ``status`` is ``incomplete``, e.g. ``max_output_tokens`` reached). The events before it
(``response.created``, ``response.output_text.delta``...) are progress reports and are not merged:
only the terminal event's object is kept. ``response.failed``, an ``error`` event, an event that is
not JSON, or a stream that ends without a terminal event fails the call (``StreamFailed``); it never
becomes a successful answer.
"""

from __future__ import annotations

from typing import Any

from litellm.buffered_stream.assemblers import StreamFailed, _event_handler, _finisher, _Malformed, _parse
from litellm.buffered_stream.decoders import SSEDecoder

Json = dict[str, Any]

#: The events whose ``response`` is the final answer.
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete"})
#: The events that say the answer will not come.
FAILURE_EVENTS = frozenset({"response.failed", "error"})
BACKEND_ERROR = 500


class ResponsesAssembler:
    """``response.*`` events into the ``response`` object of the terminal event."""

    wire = "responses"
    unit = "response event"

    def __init__(self) -> None:
        self._sse = SSEDecoder()
        self._events = 0
        self._final: Json | None = None

    def feed(self, data: bytes) -> None:
        for event, payload in self._sse.feed(data):
            self._on_event(event, payload)

    @_event_handler
    def _on_event(self, event: str, payload: bytes) -> None:
        # Every event is parsed, deltas too: a stream that carries garbage is not trusted for its answer.
        if payload.strip() == b"[DONE]":
            return
        body = _parse(payload)
        kind = body.get("type") or event or ("error" if "error" in body else "")
        if kind in FAILURE_EVENTS:
            raise StreamFailed(
                f"the backend reported an error mid-stream: {_error_message(body)}", BACKEND_ERROR, _error_body(body)
            )
        if kind in TERMINAL_EVENTS:
            response = body.get("response")
            if not isinstance(response, dict):
                raise _Malformed("its response is not an object")
            self._final = response

    @_finisher
    def finish(self) -> Json:
        for event, payload in self._sse.flush():
            self._on_event(event, payload)
        if self._final is None:
            raise StreamFailed(
                "buffered_stream: the backend stream ended without response.completed or response.incomplete: "
                "the answer would be truncated"
            )
        return self._final

    @staticmethod
    def error_body(message: str) -> Json:
        return {"error": {"message": message, "type": "bad_gateway", "code": "buffered_stream_incomplete"}}


def _error(body: Json) -> Json:
    """The error object of a ``response.failed`` (under ``response.error``) or an ``error`` event (top level)."""
    response = body.get("response")
    nested = response.get("error") if isinstance(response, dict) else None
    if isinstance(nested, dict):
        return nested
    top = body.get("error")
    if isinstance(top, dict):
        return top
    return {key: body[key] for key in ("code", "message", "param") if key in body}


def _error_message(body: Json) -> str:
    return str(_error(body).get("message") or "response failed")


def _error_body(body: Json) -> Json:
    error = _error(body)
    return {
        "error": {
            "message": _error_message(body),
            "type": error.get("type") or "server_error",
            "code": error.get("code"),
            "param": error.get("param"),
        }
    }
