"""The ``buffered_stream`` switch: where it comes from, who may set it, and what a valid value is.

Per request: the body field ``buffered_stream`` (OpenAI SDK ``extra_body``). Per model: the
deployment's ``litellm_params.buffered_stream``. The request's value wins unless the operator sets
``allow_client_buffered_stream_override: false`` on the deployment, which pins the deployment's
value whatever clients send (the same shape as upstream's ``allow_client_keepalive_override``).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from litellm.exceptions import BadRequestError

FIELD = "buffered_stream"
OVERRIDE_FIELD = "allow_client_buffered_stream_override"
#: Seconds between the whitespace bytes that keep a buffered call's client connection alive (proxy only).
KEEPALIVE_FIELD = "buffered_stream_keepalive_seconds"
#: Cap on a buffered call's total time (proxy only); operator-only, a client's value is dropped.
MAX_SECONDS_FIELD = "buffered_stream_max_seconds"
#: The cap when no deployment and no ``litellm_settings`` sets one: the OpenAI SDK's default timeout.
DEFAULT_MAX_SECONDS = 600.0


def parse_flag(value: object, field: str = FIELD, model: str | None = None) -> bool | None:
    """``True``/``False``/``None``; anything else is the caller's error, reported as a 400 naming the field."""
    if value is None or isinstance(value, bool):
        return value
    raise BadRequestError(
        message=f"Invalid value for '{field}': expected a boolean (true or false), got {value!r}",
        model=model or "",
        llm_provider="",
    )


def parse_seconds(value: object, field: str) -> float | None:
    """A number of seconds, 0 or more, or ``None``; anything else is a 400 naming the field."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < float("inf"):
        return float(value)
    shown = repr(value)
    raise BadRequestError(
        message=f"Invalid value for '{field}': expected a number of seconds (0 or more), got "
        + (shown if len(shown) <= 100 else shown[:100] + "..."),
        model="",
        llm_provider="",
    )


def apply_deployment_policy(
    deployment_params: Mapping[str, object], request_kwargs: MutableMapping[str, object]
) -> None:
    """Decide the request's value before the router merges it over the deployment's ``litellm_params``.

    A client never sets the policy itself; its ``buffered_stream`` survives only where the
    deployment allows client overrides (the default).
    """
    for proxy_only in (OVERRIDE_FIELD, KEEPALIVE_FIELD, MAX_SECONDS_FIELD):  # the proxy has applied them already
        request_kwargs.pop(proxy_only, None)
    if FIELD not in request_kwargs:
        return
    client_value = parse_flag(request_kwargs.pop(FIELD), model=str(deployment_params.get("model") or ""))
    allow_override = parse_flag(deployment_params.get(OVERRIDE_FIELD), OVERRIDE_FIELD)
    if client_value is not None and allow_override is not False:
        request_kwargs[FIELD] = client_value


@dataclass(frozen=True)
class BufferedStreamRequest:
    """What a completion call asked for, with litellm's own keys taken out of its kwargs."""

    enabled: bool

    @classmethod
    def take(cls, kwargs: MutableMapping[str, object], model: str | None) -> BufferedStreamRequest:
        kwargs.pop(OVERRIDE_FIELD, None)
        enabled = parse_flag(kwargs.pop(FIELD, None), model=model)
        return cls(enabled=bool(enabled) and kwargs.get("stream") is not True)


def requested(kwargs: Mapping[str, object]) -> bool:
    """Cheap test for the hot path: does this call carry the switch at all?"""
    return FIELD in kwargs or OVERRIDE_FIELD in kwargs
