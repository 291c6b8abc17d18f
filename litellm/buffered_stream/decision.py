"""The one decision whether a call is buffered, and how: every caller in this package asks ``decide``.

Its inputs are explicit: the client's switch (top level or lifted from ``extra_body``), the
operator's pin (``allow_client_buffered_stream_override``), the deployment's policy
(``buffered_stream`` in its ``litellm_params``, or the call's own keyword in the SDK), whether the
call streams, the endpoint, and the provider with what the registry (``wires``) says of it.

Callers: the router (``apply_deployment_policy``, before it merges a request over a deployment's
``litellm_params``), the proxy (``proxy.resolve``, for every deployment a request may land on) and
the wrappers of litellm's entry points (``completion``, ``endpoints``).

A call that asked for buffering and is served natively is logged as a warning naming why
(``warn_native``), once per cause and deployment.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass

from litellm.buffered_stream.options import FIELD, OVERRIDE_FIELD, parse_flag, reject_unread_forms, take_switch
from litellm.buffered_stream.wires import Endpoint, Route, ServingPath, route
from litellm.litellm_core_utils.upstream_surface import verbose_logger
from litellm.rust_bridge.configuration import rust_enabled


@dataclass(frozen=True)
class NativeReason:
    """Why a call that asked for buffering is served natively: ``cause`` is a short key, ``detail`` says it in words."""

    cause: str
    detail: str


@dataclass(frozen=True)
class Decision:
    """Whether a call is buffered (``asked``: the policy wants it) and how it is served (``path``)."""

    asked: bool
    #: The registry's route; None when the call was not asked to be buffered or the provider is not known yet.
    route: Route | None = None
    #: Set when the call asked for buffering and is served natively.
    native: NativeReason | None = None

    @property
    def buffered(self) -> bool:
        """Asked for, and not bound to be served natively."""
        return self.asked and self.native is None

    @property
    def path(self) -> ServingPath:
        """The path that serves the call (a call decided without its provider counts as the wire path's)."""
        if not self.buffered:
            return ServingPath.NATIVE
        return self.route.path if self.route is not None else ServingPath.WIRE


NOT_ASKED = Decision(asked=False)


def decide(
    *,
    endpoint: Endpoint,
    client: object = None,
    deployment: object = None,
    allow_client_override: object = None,
    stream: object = None,
    provider: str | None = None,
    sync: bool = False,
    rust: bool = False,
    single_choice: bool = True,
    model: str = "",
) -> Decision:
    """Is this call buffered, and on which path?

    - ``client``: the client's ``buffered_stream`` (``None``: not sent); ``deployment``: the
      deployment's (in the SDK, the call's own keyword); ``allow_client_override``: the deployment's
      ``allow_client_buffered_stream_override`` (``False`` pins the deployment's value). A value that is
      not a boolean is a 400 naming its field.
    - ``stream``: a streaming call is never buffered.
    - ``provider``: with it, the registry's route for ``endpoint`` decides the path (``None``: the
      policy only, for a caller that does not know the provider yet); ``sync``: litellm's sync
      function; ``rust``: ``LITELLM_RUST`` is on; ``single_choice``: neither ``n > 1`` nor
      ``logprobs`` (the generic path carries one choice without logprobs).
    """
    client_flag = parse_flag(client, model=model)
    deployment_flag = parse_flag(deployment, model=model)
    pinned = parse_flag(allow_client_override, OVERRIDE_FIELD, model=model) is False
    wanted = deployment_flag if client_flag is None or pinned else client_flag
    if not wanted or stream is True:
        return NOT_ASKED
    if provider is None:
        return Decision(asked=True)
    chosen = route(endpoint, provider, sync=sync, rust=rust)
    if chosen.path is ServingPath.NATIVE:
        return Decision(True, chosen, NativeReason("route", chosen.reason or "this route is not buffered"))
    if chosen.path is ServingPath.GENERIC and not single_choice:
        reason = NativeReason(
            "generic_choices",
            f"{provider} takes the generic path, which carries one choice and no logprobs: "
            "calls with n > 1 or logprobs are served natively",
        )
        return Decision(True, chosen, reason)
    return Decision(True, chosen)


def apply_deployment_policy(
    deployment_params: Mapping[str, object], request_kwargs: MutableMapping[str, object]
) -> None:
    """The router's step: decide the request's value before it is merged over the deployment's ``litellm_params``.

    A client never sets the policy itself; its ``buffered_stream`` survives only where the
    deployment allows client overrides (the default), and the other fields (``options.CLIENT_FIELDS``)
    are dropped, from the top level and ``extra_body`` alike.
    """
    model = str(deployment_params.get("model") or "")
    reject_unread_forms(request_kwargs, model)
    client = take_switch(request_kwargs, model)  # the proxy has applied the other fields already
    if client is None:
        return
    request_kwargs[FIELD] = decide(
        endpoint=Endpoint.CHAT,  # the policy alone: the endpoint's route is decided when the call is made
        client=client,
        deployment=deployment_params.get(FIELD),
        allow_client_override=deployment_params.get(OVERRIDE_FIELD),
        model=model,
    ).asked


def provider_of(model: str, params: Mapping[str, object]) -> str:
    """The provider litellm routes ``model`` to ("" when litellm does not know it: it fails later, with its own error)."""
    # Imported here: this module is loaded while litellm itself is (main.py's wrappers import it).
    from litellm.litellm_core_utils.get_llm_provider_logic import get_llm_provider

    custom = params.get("custom_llm_provider")
    api_base = params.get("api_base")
    try:
        resolved: tuple[str, str, str | None, str | None] = get_llm_provider(
            model=model,
            custom_llm_provider=custom if isinstance(custom, str) else None,
            api_base=api_base if isinstance(api_base, str) else None,
        )
    except Exception:
        return ""
    return resolved[1]


def rust_serves(endpoint: Endpoint) -> bool:
    """Would litellm's Rust path serve this endpoint (``LITELLM_RUST`` on; it bypasses the Python code buffering is in)?"""
    return endpoint is Endpoint.MESSAGES and rust_enabled()


# ------------------------------------------------------------------------------------------- the warning


#: How many (cause, endpoint, deployment) keys are remembered as warned about; past it the oldest may warn again.
_WARNED_LIMIT = 1024
_warned: OrderedDict[tuple[str, str, str], None] = OrderedDict()
_warned_lock = threading.Lock()


def _deployment(params: Mapping[str, object]) -> tuple[str, str]:
    """A deployment's key (its router id where it has one) and how the warning names it."""
    model_info = params.get("model_info")
    deployment_id = model_info.get("id") if isinstance(model_info, Mapping) else None
    label = str(params.get("model") or "")
    if params.get("api_base"):
        label += f" at {params['api_base']}"
    if deployment_id:
        return str(deployment_id), f"{label} (deployment {deployment_id})"
    return label, label


def warn_native(endpoint: Endpoint, params: Mapping[str, object], reason: NativeReason) -> None:
    """Log that a call which asked for buffering is served natively, once per cause, endpoint and deployment.

    ``params``: the deployment's ``litellm_params`` or the call's kwargs (``model``, ``api_base``, ``model_info``).
    """
    deployment, label = _deployment(params)
    key = (reason.cause, endpoint.value, deployment)
    with _warned_lock:
        if key in _warned:
            _warned.move_to_end(key)
            return
        _warned[key] = None
        if len(_warned) > _WARNED_LIMIT:
            _warned.popitem(last=False)
    verbose_logger.warning(
        "buffered_stream: a call to %s on %s asked for buffering but is served natively (not buffered: its timeout "
        "caps the whole generation): %s. Logged once per cause and deployment.",
        endpoint.value,
        label,
        reason.detail,
    )


def forget_warnings() -> None:
    """Warn again about every cause (tests)."""
    with _warned_lock:
        _warned.clear()
