"""Proxy-side policy for buffered calls: disconnects, the total cap, and the client hop's keepalive.

A buffered call sends nothing to its client until the whole answer is assembled. Three things
follow, each resolved here from the request and the deployments it may land on:

- a client disconnect means nobody will read the answer, so the backend call is cancelled;
- ``buffered_stream_max_seconds`` caps the call's total time (the backend's ``timeout`` only
  bounds the gaps between chunks), retries and fallbacks included;
- ``buffered_stream_keepalive_seconds`` keeps the client connection alive: ``ClientKeepalive``
  commits ``200`` after one silent interval and writes a whitespace byte per interval, which JSON
  allows before a value, until the body is ready.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar

import litellm
from litellm.buffered_stream.completion import RESPONSE_HEADER
from litellm.buffered_stream.decision import decide, provider_of, rust_serves, warn_native
from litellm.buffered_stream.options import (
    DEFAULT_MAX_SECONDS,
    FIELD,
    KEEPALIVE_FIELD,
    MAX_SECONDS_FIELD,
    OVERRIDE_FIELD,
    client_fields,
    parse_seconds,
)
from litellm.buffered_stream.wires import PROXY_ROUTE_TYPES, Endpoint
from litellm.exceptions import Timeout
from litellm.litellm_core_utils.upstream_surface import verbose_proxy_logger

_T = TypeVar("_T")


@dataclass(frozen=True)
class BufferedProxyCall:
    """How the proxy serves one request: whether it is buffered, its keepalive interval and its total cap."""

    buffered: bool = False
    keepalive_seconds: float | None = None
    max_seconds: float | None = None

    @property
    def cancels_on_disconnect(self) -> bool:
        """Nothing but keepalive whitespace has reached the client: after a disconnect nobody reads the answer."""
        return self.buffered

    def arm_keepalive(self, scope: MutableMapping[str, Any]) -> None:
        """Tell the ``ClientKeepalive`` middleware around this request to start its interval now."""
        keepalive = scope.get(ClientKeepalive.SCOPE_KEY)
        if self.buffered and self.keepalive_seconds and isinstance(keepalive, _Keepalive):
            keepalive.arm(self.keepalive_seconds)

    def capped(self, llm_call: asyncio.Future[_T], request_data: Mapping[str, Any]) -> asyncio.Future[_T]:
        """The routed call, cancelled (and so its backend request) with a 408 once ``max_seconds`` have passed."""
        if not self.buffered or not self.max_seconds:
            return llm_call
        return asyncio.ensure_future(self._capped(llm_call, self.max_seconds, request_data))

    @staticmethod
    async def _capped(llm_call: asyncio.Future[_T], max_seconds: float, request_data: Mapping[str, Any]) -> _T:
        started = time.time()
        try:
            done, _ = await asyncio.wait((llm_call,), timeout=max_seconds)
        finally:
            if not llm_call.done():  # the cap passed, or the waiter itself was cancelled (client disconnect)
                llm_call.cancel()
                await asyncio.gather(llm_call, return_exceptions=True)
        if done:
            return llm_call.result()
        error = Timeout(
            message=f"{MAX_SECONDS_FIELD}: the buffered call took longer than {max_seconds:g} s; "
            "the backend request was cancelled",
            model=str(request_data.get("model") or ""),
            llm_provider="",
        )
        await _log_failure(request_data, error, started)
        raise error


async def _log_failure(request_data: Mapping[str, Any], error: Exception, started: float) -> None:
    """The cancelled call never reached litellm's failure handler: report it as the failed call it is."""
    logging_obj = request_data.get("litellm_logging_obj")
    handler = getattr(logging_obj, "async_failure_handler", None)
    if handler is None:
        return
    try:
        await handler(error, None, started, time.time())
    except Exception as failure:  # logging must not replace the call's real error
        verbose_proxy_logger.debug("buffered_stream: logging the capped call failed: %s", failure)


NOT_BUFFERED = BufferedProxyCall()


#: The proxy's route type of chat completions.
CHAT_ROUTE = "acompletion"
#: The route types of the buffered endpoints: chat completions, /v1/messages, /v1/responses, /v1/completions.
BUFFERED_ROUTES = frozenset(PROXY_ROUTE_TYPES)


def resolve(request_data: Mapping[str, Any], llm_router: Any, route_type: str = CHAT_ROUTE) -> BufferedProxyCall:
    """The policy of a proxy request, from the request and the deployments of its model group.

    The router picks the deployment later, so where a group's deployments differ the call is
    buffered if any of them buffers it, with the shortest keepalive interval and the longest cap.
    The client's fields are read by the place rules (``options.client_fields``: top level or
    ``extra_body``); a client value that is not valid, or a field where it is not read, is the
    client's error (a 400 naming the field).
    """
    endpoint = PROXY_ROUTE_TYPES.get(route_type)
    if endpoint is None or request_data.get("stream") is True:
        return NOT_BUFFERED
    client = client_fields(request_data, str(request_data.get("model") or ""))
    client_keepalive = parse_seconds(client.get(KEEPALIVE_FIELD), KEEPALIVE_FIELD)
    deployments = _deployments(request_data.get("model"), llm_router) or [{}]
    calls = [_deployment_call(endpoint, params, client.get(FIELD), client_keepalive) for params in deployments]
    buffered = [call for call in calls if call.buffered]
    if not buffered:
        return NOT_BUFFERED
    intervals = [call.keepalive_seconds for call in buffered if call.keepalive_seconds]
    caps = [call.max_seconds for call in buffered]
    return BufferedProxyCall(
        buffered=True,
        keepalive_seconds=min(intervals) if intervals else None,
        max_seconds=None if None in caps else max(caps),  # type: ignore[type-var]
    )


def _deployment_call(
    endpoint: Endpoint, params: Mapping[str, Any], client_switch: object, client_keepalive: float | None
) -> BufferedProxyCall:
    """``decision.decide`` for one deployment, plus the proxy's settings.

    Only what the proxy knows before the call decides here: a route that cannot be buffered whatever
    the call (``LITELLM_RUST`` on ``/v1/messages``) is warned about and not buffered; the rest is
    decided again when the call is made.
    """
    rust = rust_serves(endpoint)
    decision = decide(
        endpoint=endpoint,
        client=client_switch,
        deployment=params.get(FIELD),
        allow_client_override=params.get(OVERRIDE_FIELD),
        provider=provider_of(str(params.get("model") or ""), params) if rust else None,
        rust=rust,
    )
    if decision.native is not None:
        warn_native(endpoint, params, decision.native)
    pinned = params.get(OVERRIDE_FIELD) is False
    keepalive: float | None
    if client_keepalive is not None and not pinned:
        keepalive = client_keepalive
    else:
        keepalive = _setting(params, KEEPALIVE_FIELD, None)
    return BufferedProxyCall(
        buffered=decision.buffered,
        keepalive_seconds=keepalive or None,
        max_seconds=_setting(params, MAX_SECONDS_FIELD) or None,
    )


def _setting(params: Mapping[str, Any], field: str, default: float | None = DEFAULT_MAX_SECONDS) -> float | None:
    """The deployment's value, else ``litellm_settings``' (``litellm.<field>``), else the default."""
    value = params.get(field)
    if value is None:
        value = getattr(litellm, field, default)
    return parse_seconds(value, field)


def _deployments(model: object, llm_router: Any) -> list[Mapping[str, Any]]:
    """The ``litellm_params`` of the model group's deployments, each with its ``model_info`` (the warning names it)."""
    if llm_router is None or not isinstance(model, str):
        return []
    try:
        deployments = llm_router.get_model_list(model_name=model) or []
    except Exception:
        return []
    return [{**(d.get("litellm_params") or {}), "model_info": d.get("model_info")} for d in deployments]


# ------------------------------------------------------------------------------------------------ the client hop


class AbortedAfterCommit(Exception):
    """Raised to the server so it drops the connection: the client must see an incomplete body, not a success."""


class _Keepalive:
    """One request's keepalive: the ``send`` the app writes through, and the ticker that fills the silence."""

    def __init__(self, send: Any, http_version: str) -> None:
        self._send = send
        self._http_version = http_version
        self._lock = asyncio.Lock()
        self._ticker: asyncio.Task[None] | None = None
        self.started = False  # the app's own response start went out (fast path)
        self.committed = False  # the keepalive's 200 went out
        self.failed_status: int | None = None

    def arm(self, interval: float) -> None:
        if self._ticker is not None or self.started:
            return
        if self._http_version == "1.0":
            # An HTTP/1.0 response ends when the connection closes, so an abort would read as a
            # complete body: no keepalive rather than a failure that could pass for a success.
            verbose_proxy_logger.warning(
                "%s: not applied to an HTTP/1.0 request (a failure after the commit could not be signalled); "
                "let the hop in front of the proxy speak HTTP/1.1 (nginx: proxy_http_version 1.1)",
                KEEPALIVE_FIELD,
            )
            return
        self._ticker = asyncio.ensure_future(self._tick(interval))

    async def _tick(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            async with self._lock:
                if self.started:
                    return
                if not self.committed:
                    self.committed = True
                    await self._send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (RESPONSE_HEADER.encode(), b"true"),
                                (b"x-accel-buffering", b"no"),
                                (b"cache-control", b"no-cache"),
                            ],
                        }
                    )
                await self._send({"type": "http.response.body", "body": b" ", "more_body": True})

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if self._ticker is None:  # never armed (most requests): no lock, nothing to coordinate
            self.started = True
            await self._send(message)
            return
        async with self._lock:
            if not self.committed:
                self.started = True
                await self._send(message)
                return
            if message["type"] == "http.response.start":
                # The status line is on the wire already; only a failure status still matters.
                status = int(message.get("status", 200))
                self.failed_status = status if status >= 400 else None
                return
            # After a failure the body never ends: the middleware drops the connection once the app returns.
            await self._send({**message, "more_body": bool(message.get("more_body")) or self.failed_status is not None})

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)


class ClientKeepalive:
    """ASGI middleware: whitespace on the client connection while a buffered call is assembled.

    Inert until the request's processing arms it (``BufferedProxyCall.arm_keepalive``). Armed, if
    the app has not started its response one interval later, it commits ``200`` with
    ``content-type: application/json`` and the buffered-stream header, writes one space per interval,
    then the app's body. A response started within the first interval (an answer or an error) goes
    out untouched. An error response after the commit is written (the endpoint's own error shape:
    OpenAI's, or Anthropic's on ``/v1/messages``) and the connection is then dropped, so that HTTP
    clients see an incomplete body.
    """

    SCOPE_KEY = "litellm.buffered_stream.keepalive"

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        keepalive = _Keepalive(send, str(scope.get("http_version", "1.1")))
        scope[self.SCOPE_KEY] = keepalive
        try:
            await self.app(scope, receive, keepalive.send)
        finally:
            await keepalive.close()
        if keepalive.committed and keepalive.failed_status is not None:
            verbose_proxy_logger.warning(
                "%s: the buffered call failed with %s after its 200 was committed; the error body was written "
                "and the connection is dropped so that the client sees an incomplete body",
                KEEPALIVE_FIELD,
                keepalive.failed_status,
            )
            raise AbortedAfterCommit(
                f"a buffered call failed with {keepalive.failed_status} after {KEEPALIVE_FIELD} had committed a 200: "
                "the connection is dropped so that the client sees an incomplete body"
            )
