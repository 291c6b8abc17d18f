"""Reading the fields of a stream chunk, whether it is a dict or a pydantic model, without pydantic's slow
failing ``__getattr__``; and the names of the delta fields the accumulator tells apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from litellm.litellm_core_utils.upstream_surface import hidden_params_of

DELTA_NON_TEXT_FIELDS: Final = (
    "tool_calls",
    "function_call",
    "reasoning_content",
    "thinking_blocks",
    "annotations",
    "audio",
    "images",
    "provider_specific_fields",
)
"""A delta that sets any of these makes the stream more than plain text."""
GENERATED_CONTENT_FIELDS: Final = frozenset(
    (
        "content",
        "tool_calls",
        "function_call",
        "reasoning_content",
        "thinking_blocks",
        "reasoning_items",
        "audio",
        "images",
        "annotations",
    )
)
"""A delta that sets any of these (non-empty) means the model generated output (the router's fallback check)."""
DELTA_NON_TEXT_FIELD_SET: Final = frozenset(DELTA_NON_TEXT_FIELDS)
_DELTA_FIELDS: Final = ("content", "role", *DELTA_NON_TEXT_FIELDS)
_MISSING: Final = object()


def get_field(obj: object, key: str) -> Any:
    """``obj.get(key)`` / ``getattr(obj, key, None)``, without pydantic's slow failing ``__getattr__``."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    try:
        fields = obj.__dict__
    except AttributeError:
        return getattr(obj, key, None)
    value = fields.get(key, _MISSING)
    if value is not _MISSING:
        return value
    extra = getattr(obj, "__pydantic_extra__", _MISSING)
    if extra is _MISSING:
        return getattr(obj, key, None)
    return extra.get(key) if extra else None


def present_fields(delta: object) -> list[tuple[str, Any]]:
    """The fields of a delta that are set (not None), dict or pydantic model."""
    if isinstance(delta, Mapping):
        return [(k, v) for k, v in delta.items() if v is not None]
    extra: Final[Any] = getattr(delta, "__pydantic_extra__", _MISSING)
    if extra is _MISSING:
        return [(k, v) for k in _DELTA_FIELDS if (v := getattr(delta, k, None)) is not None]
    present: Final = [(k, v) for k, v in delta.__dict__.items() if v is not None]
    if extra:
        present.extend((k, v) for k, v in extra.items() if v is not None)
    return present


def provider_metadata_attr(chunk: object, field_name: str) -> object:
    """Same lookup as ``VertexGeminiConfig._get_stream_chunk_attr``."""
    if not isinstance(chunk, dict):
        return get_field(chunk, field_name)
    value = chunk.get(field_name)
    if value is not None:
        return value
    model_extra: Final = chunk.get("model_extra")
    if isinstance(model_extra, dict) and (value := model_extra.get(field_name)) is not None:
        return value
    hidden: Final = hidden_params_of(chunk)
    return hidden.get(field_name) if isinstance(hidden, dict) else None


def choice0_has_generated_content(chunk: object) -> bool:
    """Whether the chunk's first choice carries generated output (the router's per-chunk check)."""
    choices: Final = get_field(chunk, "choices")
    if not choices:
        return False
    delta: Final = get_field(choices[0], "delta")
    return delta is not None and any(get_field(delta, field) for field in GENERATED_CONTENT_FIELDS)
