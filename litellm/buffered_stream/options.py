"""The client-facing ``buffered_stream`` fields: where a request may carry them, who may set them, valid values.

Per request: the body field ``buffered_stream`` (OpenAI SDK ``extra_body``). Per model: the
deployment's ``litellm_params.buffered_stream``. The request's value wins unless the operator sets
``allow_client_buffered_stream_override: false`` on the deployment, which pins the deployment's
value whatever clients send (the same shape as upstream's ``allow_client_keepalive_override``).
That precedence, and everything else that decides whether a call is buffered, is applied in one
place: ``decision.decide``.

Every field of ``CLIENT_FIELDS`` (the switch, the operator's pin, the client hop's keepalive, the
total cap) follows the same place rules, here and nowhere else: read at the top level of the body;
nested in ``extra_body`` (what the OpenAI SDK's ``extra_body`` would send if copied into a raw body)
read as if at the top level and lifted out of it, so it is never forwarded; at both places with
different values a 400; nested anywhere else a client could put it (``litellm_params``,
``metadata``), where it would be silently ignored, a 400 that names where it was. The table also
says whose field each one is: a client's value of an operator-only field is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from types import MappingProxyType
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
#: Every field a client may send, by name: whether a client's value is read (``False``: the operator's alone,
#: a client's value is dropped). All of them follow the same place rules.
CLIENT_FIELDS: Mapping[str, bool] = MappingProxyType(
    {FIELD: True, OVERRIDE_FIELD: False, KEEPALIVE_FIELD: True, MAX_SECONDS_FIELD: False}
)
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


def client_fields(body: Mapping[str, object], model: str | None = None) -> dict[str, object]:
    """The client's value of each field it may set, by the place rules (unvalidated; absent when not sent or null).

    Read-only, for the proxy's decisions before the call: a field nested where it is not read, or
    sent at the top level and in ``extra_body`` with different values, is a 400 naming it.
    """
    reject_unread_forms(body, model)
    return {key: value for key, value in _placed(body, model).items() if CLIENT_FIELDS[key]}


def take_switch(kwargs: MutableMapping[str, object], model: str | None) -> object:
    """Take every field out of a call's kwargs (they are never sent): the call's ``buffered_stream``, unvalidated.

    ``decision.decide`` reads the value; the operator's pin was applied by the router already, and the
    proxy read the keepalive and the cap before the call.
    """
    lift_nested(kwargs, model)
    for key in CLIENT_FIELDS:
        if key != FIELD:
            kwargs.pop(key, None)
    return kwargs.pop(FIELD, None)


def requested(kwargs: Mapping[str, object]) -> bool:
    """Cheap test for the hot path: does this call carry the switch at all (or any field in ``extra_body``, to lift)?"""
    return FIELD in kwargs or OVERRIDE_FIELD in kwargs or _carries_fields(kwargs.get(LIFTED_CONTAINER))


def lift_nested(kwargs: MutableMapping[str, object], model: str | None = None) -> None:
    """Move the fields from ``extra_body`` to the top level, where they are read and from where they are never sent.

    The same field at both levels with different values is ambiguous: a 400.
    """
    nested = kwargs.get(LIFTED_CONTAINER)
    if not _carries_fields(nested):
        return
    kwargs.update(_placed(kwargs, model))
    rest = {key: value for key, value in nested.items() if key not in CLIENT_FIELDS}
    if rest:
        kwargs[LIFTED_CONTAINER] = rest
    else:
        del kwargs[LIFTED_CONTAINER]


def reject_unread_forms(kwargs: Mapping[str, object], model: str | None = None) -> None:
    """A 400 for a field nested where it would be ignored (``litellm_params``, ``metadata``)."""
    for container in UNREAD_CONTAINERS:
        nested = kwargs.get(container)
        if not _carries_fields(nested):
            continue
        key = next(key for key in CLIENT_FIELDS if key in nested)
        raise BadRequestError(
            message=f"'{container}.{key}' is not read: send '{key}' as a top-level field of the request body "
            "(OpenAI SDK: extra_body)",
            model=model or "",
            llm_provider="",
        )


def _placed(body: Mapping[str, object], model: str | None) -> dict[str, object]:
    """Each field's value, from the top level or from ``extra_body`` (null counts as not sent); a conflict is a 400."""
    nested = body.get(LIFTED_CONTAINER)
    lifted: Mapping[str, object] = nested if isinstance(nested, Mapping) else {}
    placed: dict[str, object] = {}
    for key in CLIENT_FIELDS:
        current, value = body.get(key), lifted.get(key)
        if current is not None and value is not None and current != value:
            raise BadRequestError(
                message=f"'{key}' is sent twice with different values: {quoted(current)} at the top level, "
                f"{quoted(value)} in '{LIFTED_CONTAINER}'",
                model=model or "",
                llm_provider="",
            )
        if value is not None or current is not None:
            placed[key] = value if value is not None else current
    return placed


def _carries_fields(nested: object) -> TypeGuard[Mapping[str, object]]:
    return isinstance(nested, Mapping) and any(key in nested for key in CLIENT_FIELDS)
