"""OpenAI SDK clients (OpenAI and Azure) that build streamed ``ChatCompletionChunk`` objects with pydantic's validator.

The SDK turns every event of a chat stream into a ``ChatCompletionChunk`` with its loose ``construct_type``,
which walks the model's fields in Python and, on Python 3.11, runs a runtime protocol check
(``isinstance(config, _ConfigProtocol)``) for each of the three models of a text chunk: ~75 us per chunk, about
a third of the proxy's CPU per streamed chunk (docs/streaming-cpu.md). Strict validation by pydantic-core builds
the same object in ~3 us.

The two agree exactly when strict validation succeeds and no float field is involved:

- strict validation succeeds only when every value already has its declared type, and then ``construct_type``
  keeps each value as it is (or builds the same nested models; union fields it validates itself, with the same
  result);
- no field of these models has a default other than ``None``, so a ``null`` is treated alike;
- the only float fields (``logprobs``, ``moderation``) are left to the SDK, which coerces integers its own way;
- pydantic counts extra keys (``reasoning_content``, provider fields) as set fields; the SDK's construct does not
  (it validates only union fields such as ``usage`` or ``delta.tool_calls``, with pydantic, and those keep them),
  so they are taken out of the set fields of the models the SDK constructs: the chunk, its choices, their deltas.

Any other event (a value of another type, a ``finish_reason`` outside the SDK's literals, logprobs, a
moderation result) is built by the SDK as before. ``_strict_response_validation`` clients are left alone.
``tests/test_litellm/llms/openai/test_chunk_parsing.py`` checks both builds field by field on a corpus.
"""

from __future__ import annotations

import functools
import typing
from typing import Any

import httpx
import pydantic
from openai import AsyncAzureOpenAI, AsyncOpenAI, AzureOpenAI, OpenAI
from openai.types.chat import ChatCompletionChunk

#: Keys whose values reach float fields: such events are built by the SDK.
_FLOAT_BEARING_CHOICE_KEYS = ("logprobs",)
_FLOAT_BEARING_KEYS = ("moderation",)


def validated_chunk(data: object) -> ChatCompletionChunk | None:
    """The chunk pydantic builds for ``data``, or None when the SDK must build it."""
    if type(data) is not dict or any(key in data for key in _FLOAT_BEARING_KEYS):
        return None
    choices = data.get("choices")
    if type(choices) is list:
        for choice in choices:
            if type(choice) is dict and any(choice.get(key) is not None for key in _FLOAT_BEARING_CHOICE_KEYS):
                return None
    try:
        chunk = ChatCompletionChunk.model_validate(data, strict=True)
    except pydantic.ValidationError:
        return None
    _unset_extras(chunk)
    return chunk


def _unset_extras(model: pydantic.BaseModel) -> None:
    """Extra keys out of the set fields of ``model`` and of the models the SDK's construct builds inside it."""
    extra = model.__pydantic_extra__
    if extra:
        object.__setattr__(model, "__pydantic_fields_set__", model.__pydantic_fields_set__.difference(extra))
    for name in _constructed_fields(type(model)):
        value = model.__dict__.get(name)
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, pydantic.BaseModel):
                _unset_extras(item)


@functools.cache
def _constructed_fields(cls: type[pydantic.BaseModel]) -> tuple[str, ...]:
    """Fields whose models ``construct_type`` builds with ``construct`` (a model or a list of models, not a union)."""
    names = []
    for name, field in cls.model_fields.items():
        annotation = field.annotation
        if typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            names.append(name)
    return tuple(names)


class _ValidatedChunks:
    """``_process_response_data`` that builds chat chunks with ``validated_chunk`` where it may."""

    _strict_response_validation: bool

    def _process_response_data(self, *, data: object, cast_to: Any, response: httpx.Response) -> Any:
        if cast_to is ChatCompletionChunk and not self._strict_response_validation:
            chunk = validated_chunk(data)
            if chunk is not None:
                return chunk
        return super()._process_response_data(data=data, cast_to=cast_to, response=response)  # type: ignore[misc]


class ChunkValidatingAsyncOpenAI(_ValidatedChunks, AsyncOpenAI):
    """``openai.AsyncOpenAI`` whose chat streams build their chunks with ``validated_chunk``."""


class ChunkValidatingOpenAI(_ValidatedChunks, OpenAI):
    """``openai.OpenAI`` whose chat streams build their chunks with ``validated_chunk``."""


class ChunkValidatingAsyncAzureOpenAI(_ValidatedChunks, AsyncAzureOpenAI):
    """``openai.AsyncAzureOpenAI`` whose chat streams build their chunks with ``validated_chunk``."""


class ChunkValidatingAzureOpenAI(_ValidatedChunks, AzureOpenAI):
    """``openai.AzureOpenAI`` whose chat streams build their chunks with ``validated_chunk``."""
