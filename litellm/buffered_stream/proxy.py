"""Proxy-side policy for buffered calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litellm.buffered_stream.options import FIELD, OVERRIDE_FIELD, client_value


def cancels_on_disconnect(request_data: Mapping[str, Any], llm_router: Any) -> bool:
    """Buffered calls stop the backend when the client goes away, whatever ``cancel_on_disconnect`` says.

    Nothing has been sent to the client of a buffered call, so a disconnect means nobody will
    read the answer: generating the rest of it only wastes the inference server.
    """
    if request_data.get("stream") is True:
        return False
    value = client_value(request_data)
    deployments = _deployments(request_data.get("model"), llm_router)
    if not deployments:
        return value is True
    return any(_buffers(params, value) for params in deployments)


def _buffers(deployment_params: Mapping[str, Any], client_value: object) -> bool:
    """The value the router will settle on for this deployment (``options.apply_deployment_policy``)."""
    if client_value is None or deployment_params.get(OVERRIDE_FIELD) is False:
        return deployment_params.get(FIELD) is True
    return client_value is True


def _deployments(model: object, llm_router: Any) -> list[Mapping[str, Any]]:
    if llm_router is None or not isinstance(model, str):
        return []
    try:
        deployments = llm_router.get_model_list(model_name=model) or []
    except Exception:
        return []
    return [d.get("litellm_params") or {} for d in deployments]
