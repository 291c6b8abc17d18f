"""The ``buffered_stream`` switch: where it comes from, who may set it, and what a valid value is.

Per request: the body field ``buffered_stream`` (OpenAI SDK ``extra_body``). Per model: the
deployment's ``litellm_params.buffered_stream``. The request's value wins unless the operator sets
``allow_client_buffered_stream_override: false`` on the deployment, which pins the deployment's
value whatever clients send (the same shape as upstream's ``allow_client_keepalive_override``).
That precedence, and everything else that decides whether a call is buffered, is applied in one
place: ``decision.decide``.

A client may also nest the switch in ``extra_body`` (what the OpenAI SDK's ``extra_body`` would
send if copied into a raw body): it is lifted to the top level, so it is honoured and never
forwarded. Nested anywhere else a client could put it (``litellm_params``, ``metadata``), it
would be silently ignored, so such a request is rejected with a 400 that names where it was.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TypeGuard

from litellm.buffered_stream.quoting import quoted
from litellm.exceptions import BadRequestError

FIELD = "buffered_stream"
OVERRIDE_FIELD = "allow_client_buffered_stream_override"
#: Seconds between the whitespace bytes that keep a buffered call's client connection alive (proxy only).
KEEPALIVE_FIELD = "buffered_stream_keepalive_seconds"
#: Cap on a buffered call's total time (proxy only); operator-only, a client's value is dropped.
MAX_SECONDS_FIELD = "buffered_stream_max_seconds"
#: The cap when no deployment and no ``litellm_settings`` sets one: the OpenAI SDK's default timeout.
DEFAULT_MAX_SECONDS = 600.0
_KEYS = (FIELD, OVERRIDE_FIELD)
#: The nested form that is read: lifted to the top level.
LIFTED_CONTAINER = "extra_body"
#: Nested forms that are not read: a request using them is rejected rather than silently not buffered.
UNREAD_CONTAINERS = ("litellm_params", "metadata", "litellm_metadata")


def parse_flag(value: object, field: str = FIELD, model: str | None = None) -> bool | None:
    """``True``/``False``/``None``; anything else is the caller's error, reported as a 400 naming the field."""
    if value is None or isinstance(value, bool):
        return value
    raise BadRequestError(
        message=f"Invalid value for '{field}': expected a boolean (true or false), got {quoted(value)}",
        model=model or "",
        llm_provider="",
    )


def parse_seconds(value: object, field: str) -> float | None:
    """A number of seconds, 0 or more, or ``None``; anything else is a 400 naming the field."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < float("inf"):
        return float(value)
    raise BadRequestError(
        message=f"Invalid value for '{field}': expected a number of seconds (0 or more), got {quoted(value)}",
        model="",
        llm_provider="",
    )


def take_switch(kwargs: MutableMapping[str, object], model: str | None) -> object:
    """Take litellm's own keys out of a call's kwargs (they are never sent): the call's ``buffered_stream``, unvalidated.

    ``decision.decide`` reads the value; the operator's pin was applied by the router already.
    """
    lift_nested(kwargs, model)
    kwargs.pop(OVERRIDE_FIELD, None)
    return kwargs.pop(FIELD, None)


def requested(kwargs: Mapping[str, object]) -> bool:
    """Cheap test for the hot path: does this call carry the switch at all?"""
    return FIELD in kwargs or OVERRIDE_FIELD in kwargs or _carries_switch(kwargs.get(LIFTED_CONTAINER))


def client_value(request: Mapping[str, object]) -> object:
    """The client's raw value, top level or in ``extra_body`` (unvalidated: for read-only decisions)."""
    value = request.get(FIELD)
    nested = request.get(LIFTED_CONTAINER)
    if value is None and isinstance(nested, Mapping):
        value = nested.get(FIELD)
    return value


def lift_nested(kwargs: MutableMapping[str, object], model: str | None = None) -> None:
    """Move the switch from ``extra_body`` to the top level, where it is read and from where it is never sent.

    The same key at both levels with different values is ambiguous: a 400.
    """
    nested = kwargs.get(LIFTED_CONTAINER)
    if not _carries_switch(nested):
        return
    for key in _KEYS:
        value, current = nested.get(key), kwargs.get(key)
        if value is None:  # null counts as not sent
            continue
        if current is not None and current != value:
            raise BadRequestError(
                message=f"'{key}' is sent twice with different values: {quoted(current)} at the top level, "
                f"{quoted(value)} in '{LIFTED_CONTAINER}'",
                model=model or "",
                llm_provider="",
            )
        kwargs[key] = value
    rest = {key: value for key, value in nested.items() if key not in _KEYS}
    if rest:
        kwargs[LIFTED_CONTAINER] = rest
    else:
        del kwargs[LIFTED_CONTAINER]


def reject_unread_forms(kwargs: Mapping[str, object], model: str | None = None) -> None:
    """A 400 for the switch nested where it would be ignored (``litellm_params``, ``metadata``)."""
    for container in UNREAD_CONTAINERS:
        nested = kwargs.get(container)
        if not _carries_switch(nested):
            continue
        key = next(key for key in _KEYS if key in nested)
        raise BadRequestError(
            message=f"'{container}.{key}' is not read: send '{key}' as a top-level field of the request body "
            "(OpenAI SDK: extra_body)",
            model=model or "",
            llm_provider="",
        )


def _carries_switch(nested: object) -> TypeGuard[Mapping[str, object]]:
    return isinstance(nested, Mapping) and (FIELD in nested or OVERRIDE_FIELD in nested)
