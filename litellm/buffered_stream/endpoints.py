"""``buffered_stream`` on the endpoints other than chat completions: ``/v1/messages``, ``/v1/responses``, ``/v1/completions``.

The wrapped entry points are ``litellm.anthropic_messages``, ``litellm.aresponses`` and
``litellm.atext_completion``. A buffered call runs as the ordinary non-streaming call inside
``buffering()``, so whatever HTTP request litellm makes for it goes over ``BufferingAsyncClient``:

- native routes whose wire it assembles (Anthropic messages, Responses, OpenAI text completions)
  are sent with ``stream: true`` and assembled into the body a non-streaming call returns, which
  litellm's non-streaming code turns into the response (fast path);
- routes litellm bridges to chat completions (``/v1/messages`` on ``hosted_vllm/``, Responses on
  providers without a Responses API) reach ``litellm.acompletion``, which buffers the chat
  completions it makes inside a buffered call (wire or generic path, as for a chat call);
- ``/v1/messages`` on ``openai/`` is bridged by litellm to the Responses API: its ``/responses``
  request is assembled like a native Responses call.

A call that no stream served (a provider whose wire is not assembled, a backend that ignored
``stream: true``) is the native call, unmarked. Documentation: docs/buffered-stream.md.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from litellm.buffered_stream.client import buffering
from litellm.buffered_stream.options import FIELD, BufferedStreamRequest, requested
from litellm.litellm_core_utils.upstream_surface import hidden_params_of, replace_hidden_params

RESPONSE_HEADER = "x-litellm-buffered-stream"


def _mark_metadata(kwargs: MutableMapping[str, Any], metadata_key: str) -> None:
    """Operators see in the logged metadata that the call was buffered."""
    kwargs[metadata_key] = {**(kwargs.get(metadata_key) or {}), FIELD: True}


def stamp(response: Any) -> Any:
    """The response header ``x-litellm-buffered-stream: true``, via the hidden params the proxy turns into headers.

    Response objects carry ``_hidden_params`` as an attribute (a dict, or ``HiddenParams`` on text
    completions, which reads and writes like one); ``/v1/messages`` answers are dicts, which carry it
    as a key (the proxy removes it before answering, as it does for upstream's own).
    """
    hidden: Any = hidden_params_of(response)
    if hidden is None and isinstance(response, dict):
        hidden = {}
        replace_hidden_params(response, hidden)
    if hasattr(hidden, "get") and hasattr(hidden, "__setitem__"):
        hidden["additional_headers"] = {**(hidden.get("additional_headers") or {}), RESPONSE_HEADER: "true"}
        hidden[FIELD] = True
    return response


def buffered_endpoint(metadata_key: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Wrap an async endpoint so that ``buffered_stream=True`` calls are served from a backend stream.

    ``metadata_key`` is where the endpoint keeps litellm's own metadata (``litellm_metadata`` where
    ``metadata`` is a field of the provider's API, as on ``/v1/messages`` and ``/v1/responses``).
    """

    def decorate(endpoint: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(endpoint)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not requested(kwargs):
                return await endpoint(*args, **kwargs)
            if not BufferedStreamRequest.take(kwargs, str(kwargs.get("model") or "")).enabled:
                return await endpoint(*args, **kwargs)
            _mark_metadata(kwargs, metadata_key)
            with buffering() as call:
                response = await endpoint(*args, **kwargs)
            return stamp(response) if call.served else response

        return wrapper

    return decorate
