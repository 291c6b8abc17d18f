"""The merge rules for OpenAI chat completion chunks, shared by the two engines that assemble a stream.

``litellm.buffered_stream.assemblers.OpenAIChatAssembler`` assembles the raw ``chat.completion.chunk``
events of the wire; ``litellm.litellm_core_utils.stream_accumulator.StreamAccumulator`` assembles the
chunks litellm yields. Both decide here:

- which events name the answer: only ``chat.completion.chunk`` events (or events without an ``object``)
  give its ``id``, ``model`` and ``created``; others, such as Azure's content-filter events
  (``"object": ""``, ``"model": ""``, ``"created": 0``), are ignored for them (``is_completion_chunk``,
  ``AnswerIdentity``);
- the answer's ``id`` is the first non-empty one, its ``created`` the first non-zero one (else the first
  chunk's, even if empty or zero); its ``model`` the
  first non-empty one that differs from the first chunk's (Azure's model router names itself first, then
  the model that answered), else the first chunk's;
- which tool call a fragment belongs to (``ToolCalls``, ``ToolCallHead``): fragments at one ``index``
  continue one call, and its ``id`` and ``name`` fragments are joined while its arguments have not begun
  (``"call_"`` + ``"9f2c"``); a restated ``id`` or ``name`` changes nothing; once its arguments have
  begun, a fragment with a different ``id`` starts a new call at the same index (servers that send each
  parallel call complete, all at index 0). Calls come out ordered by index, then by arrival;
- a usage report's set fields replace earlier ones, its unset (``null`` or missing) fields keep what an
  earlier report said, token details key by key; a report without ``total_tokens`` gets the sum of the
  prompt and completion tokens (``merge_usage``).

Chunks with no choices (a usage-only final chunk, a content-filter event) still count for the answer's
usage; they start no choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Generic, TypeVar

CHUNK_OBJECT: Final = "chat.completion.chunk"


def is_completion_chunk(object_type: object) -> bool:
    """Whether an event with this ``object`` field is a chat completion chunk (a missing field counts as one)."""
    return object_type is None or object_type == CHUNK_OBJECT


class AnswerIdentity:
    """The assembled answer's ``id`` and ``model``, folded chunk by chunk (see the module docstring)."""

    __slots__ = ("id", "created", "first_model", "later_model", "_seen")

    def __init__(self) -> None:
        self.id: str | None = None
        self.created: int | None = None
        self.first_model: str | None = None
        self.later_model: str | None = None
        self._seen = False

    def add(self, object_type: object, chunk_id: object, model: object, created: object = None) -> None:
        if not is_completion_chunk(object_type):
            return
        if isinstance(chunk_id, str) and (self.id is None or (not self.id and chunk_id)):
            self.id = chunk_id
        if isinstance(created, int) and not isinstance(created, bool) and (self.created is None or not self.created):
            self.created = created
        if not self._seen:
            self._seen = True
            self.first_model = model if isinstance(model, str) else None
        elif self.later_model is None and isinstance(model, str) and model and model != self.first_model:
            self.later_model = model

    @property
    def model(self) -> str | None:
        return self.later_model or self.first_model


class ToolCallHead:
    """One streamed tool call's index, ``id`` and ``name``, joined across its fragments."""

    __slots__ = ("index", "id", "name", "arguments_began")

    def __init__(self, index: int) -> None:
        self.index = index
        self.id: str | None = None
        self.name: str | None = None
        self.arguments_began = False

    def continued_by(self, fragment_id: str | None) -> bool:
        """Whether a fragment with this ``id`` at this call's index belongs to this call."""
        return not (fragment_id and self.id and fragment_id != self.id and self.arguments_began)

    def take(self, fragment_id: str | None, fragment_name: str | None, arguments: str | None) -> None:
        self.id = _joined_identifier(self.id, fragment_id, self.arguments_began)
        self.name = _joined_identifier(self.name, fragment_name, self.arguments_began)
        if arguments:
            self.arguments_began = True


def _joined_identifier(current: str | None, fragment: str | None, closed: bool) -> str | None:
    if not fragment or fragment == current:
        return current  # absent, or restated
    if current is None or closed or not (isinstance(current, str) and isinstance(fragment, str)):
        return fragment  # the first value; after the arguments began, a later name replaces (as upstream)
    return current + fragment  # split across fragments


CallT = TypeVar("CallT", bound=ToolCallHead)


class ToolCalls(Generic[CallT]):
    """The tool calls of one choice: which call each fragment belongs to, and the calls in order."""

    __slots__ = ("_new_call", "_calls", "_current")

    def __init__(self, new_call: Callable[[int], CallT]) -> None:
        self._new_call = new_call
        self._calls: list[CallT] = []
        self._current: dict[int, CallT] = {}

    def fragment(self, index: int, fragment_id: str | None, fragment_name: str | None, arguments: str | None) -> CallT:
        """The call this fragment belongs to (new or continued), with the fragment's id and name taken."""
        call = self._current.get(index)
        if call is None or not call.continued_by(fragment_id):
            call = self._current[index] = self._new_call(index)
            self._calls.append(call)
        call.take(fragment_id, fragment_name, arguments)
        return call

    def ordered(self) -> list[CallT]:
        """The calls by index; calls at one index in the order they arrived."""
        return sorted(self._calls, key=lambda call: call.index)

    def __bool__(self) -> bool:
        return bool(self._calls)


def merge_usage(current: Mapping[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """A usage report folded into the earlier ones: set fields replace, unset ones keep (details key by key)."""
    merged: dict[str, Any] = dict(current or {})
    for key, value in new.items():
        if value is None:
            merged.setdefault(key, None)
            continue
        earlier = merged.get(key)
        if isinstance(value, Mapping) and isinstance(earlier, Mapping):
            merged[key] = {**earlier, **{k: v for k, v in value.items() if v is not None}}
        else:
            merged[key] = value
    if new.get("total_tokens") is None:
        prompt, completion = merged.get("prompt_tokens"), merged.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            merged["total_tokens"] = prompt + completion
    return merged
