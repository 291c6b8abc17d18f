"""Bounded-memory assembly of a chat completion stream.

``StreamAccumulator`` folds ``ModelResponseStream`` chunks into running state as they pass (sans-I/O: it
never reads a stream, callers feed it) and can produce, at any moment:

- ``build()``: the assembled ``ModelResponse``, equal to what upstream's ``stream_chunk_builder`` built
  from the whole list of chunks, except for the deliberate differences listed in
  ``docs/bounded-memory-streaming.md`` (``n>1`` choices stay separate, tool call fragments are merged by
  the rules of ``chat_chunk_merge`` that the buffered stream's wire assembler shares: parallel calls at one
  index stay apart, a split ``id``/``name`` is joined; a later usage chunk cannot erase
  ``prompt_tokens_details`` fields an earlier one reported);
- ``total_usage()``: the running usage, equal to ``calculate_total_usage`` (same difference for details).

``StreamChunkLog`` is what ``CustomStreamWrapper.chunks`` holds: a ``list`` look-alike (it subclasses
``list`` so ``isinstance(x, list)`` readers keep working) that counts chunks, keeps the first and the last
two (what the repetition check and the proxy read) and feeds every other chunk to an accumulator one step
late, so in-place edits a consumer makes to a chunk after it was yielded (the proxy rewrites
``chunk.model``) are seen exactly as upstream saw them when it rebuilt from the list at the end.

``litellm.stream_chunk_retention = "full"`` (or ``LITELLM_STREAM_CHUNK_RETENTION=full``) makes
``new_stream_chunk_log()`` return a plain list again: every chunk kept, for debugging.
"""

from __future__ import annotations

import base64
import functools
import os
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Final, Self, SupportsIndex, cast, overload

from litellm.litellm_core_utils.chat_chunk_merge import AnswerIdentity, ToolCallHead, ToolCalls
from litellm.types.llms.vertex_ai import VERTEX_AI_PROVIDER_METADATA_FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from openai.types.completion_usage import CompletionTokensDetails

    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.litellm_core_utils.streaming_chunk_builder_utils import UsagePerChunk
    from litellm.types.utils import (
        CacheCreationTokenDetails,
        ModelResponse,
        PromptTokensDetailsWrapper,
        ServerToolUse,
        TextCompletionResponse,
        Usage,
    )

RETENTION_ENV_VAR: Final = "LITELLM_STREAM_CHUNK_RETENTION"
FULL_RETENTION: Final = "full"
BOUNDED_RETENTION: Final = "bounded"

_NON_TEXT_DELTA_FIELDS: Final = (
    "tool_calls",
    "function_call",
    "reasoning_content",
    "thinking_blocks",
    "annotations",
    "audio",
    "images",
    "provider_specific_fields",
)
_GENERATED_CONTENT_FIELDS: Final = (
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
_DELTA_FIELDS: Final = ("content", "role", *_NON_TEXT_DELTA_FIELDS)
_NON_TEXT_DELTA_FIELD_SET: Final = frozenset(_NON_TEXT_DELTA_FIELDS)
_GENERATED_CONTENT_FIELD_SET: Final = frozenset(_GENERATED_CONTENT_FIELDS)
_PRICING_FIELDS: Final = ("inference_geo", "speed")
# Joining many tiny strings at the end costs a list slot per chunk; fold them every so often.
_PARTS_COMPACT_AT: Final = 256


def stream_chunk_retention() -> str:
    """``"full"`` keeps every chunk of a stream (upstream behaviour, for debugging); default ``"bounded"``."""
    import litellm

    configured: Final = getattr(litellm, "stream_chunk_retention", None) or os.environ.get(RETENTION_ENV_VAR)
    return FULL_RETENTION if str(configured or "").strip().lower() == FULL_RETENTION else BOUNDED_RETENTION


_MISSING: Final = object()


def _get(obj: object, key: str) -> Any:
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


def _present(obj: object) -> list[tuple[str, Any]]:
    """The fields of a delta that are set (not None), dict or pydantic model."""
    if isinstance(obj, Mapping):
        return [(k, v) for k, v in obj.items() if v is not None]
    extra = getattr(obj, "__pydantic_extra__", _MISSING)
    if extra is _MISSING:
        return [(k, v) for k in _DELTA_FIELDS if (v := getattr(obj, k, None)) is not None]
    present = [(k, v) for k, v in obj.__dict__.items() if v is not None]
    if isinstance(extra, dict):
        present.extend((k, v) for k, v in extra.items() if v is not None)
    return present


@functools.cache
def _deps() -> Any:
    """Upstream helpers, imported once on first use (this module is imported by streaming_handler)."""
    from litellm.litellm_core_utils import streaming_chunk_builder_utils as builder_utils
    from litellm.litellm_core_utils import streaming_handler
    from litellm.types import utils as types_utils

    return SimpleNamespace(
        ChunkProcessor=builder_utils.ChunkProcessor,
        capture_cache_creation_token_details=builder_utils.capture_cache_creation_token_details,
        reports_prompt_side_usage=builder_utils._reports_prompt_side_usage,
        coerce_token_details=streaming_handler._coerce_token_details,
        ServerToolUse=types_utils.ServerToolUse,
        TextChoices=types_utils.TextChoices,
        PromptTokensDetailsWrapper=types_utils.PromptTokensDetailsWrapper,
        CompletionTokensDetailsWrapper=types_utils.CompletionTokensDetailsWrapper,
    )


def _hidden_params_of(chunk: object) -> object:
    if isinstance(chunk, dict):
        return chunk.get("_hidden_params")
    return getattr(chunk, "_hidden_params", None)


class _Parts:
    """A string built by appending: small pieces are joined into blocks every ``_PARTS_COMPACT_AT`` appends,
    so it costs one list slot per block instead of one per chunk, and joining stays linear."""

    __slots__ = ("_blocks", "_tail")

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._tail: list[str] = []

    def add(self, part: str) -> None:
        self._tail.append(part)
        if len(self._tail) >= _PARTS_COMPACT_AT:
            self._blocks.append("".join(self._tail))
            self._tail = []

    def text(self) -> str:
        return "".join(self._blocks) + "".join(self._tail)


class _ToolCallState(ToolCallHead):
    """One tool call: its head (index, id, name: ``chat_chunk_merge``) and the rest of its fragments."""

    __slots__ = ("type", "custom_name", "provider_specific_fields", "arguments", "input")

    def __init__(self, tool_index: int) -> None:
        super().__init__(tool_index)
        self.type: str | None = None
        self.custom_name: str | None = None
        self.provider_specific_fields: dict[str, object] | None = None
        self.arguments = _Parts()
        self.input = _Parts()


class _ChoiceState:
    """Everything one choice's deltas contributed, folded."""

    def __init__(self, index: int, role: str) -> None:
        self.index = index
        self.role = role
        self.finish_reason: str | None = None
        self.content = _Parts()
        self.saw_content = False
        self.reasoning = _Parts()
        self.saw_reasoning = False
        self.saw_tool_calls = False
        self.tool_calls: ToolCalls[_ToolCallState] = ToolCalls(_ToolCallState)
        self.saw_function_call = False
        self.function_call_name: str | None = None
        self.function_call_arguments = _Parts()
        self.saw_thinking = False
        self.thinking_blocks: list[dict[str, str]] = []
        self.thinking_parts: list[str] = []
        self.annotations: list[object] | None = None
        self.images: list[object] | None = None
        self.saw_audio = False
        self.audio_data = bytearray()
        self.audio_transcript = _Parts()
        self.audio_expires_at: int | None = None
        self.audio_id: str | None = None
        self.saw_provider_fields = False
        self.citations: list[object] = []
        self.provider_fields: dict[str, object] = {}

    # -- folding ---------------------------------------------------------------------------------
    def fold(self, present: list[tuple[str, Any]]) -> None:
        """Fold a delta's set fields (``_present(delta)``)."""
        for key, value in present:
            if key == "content":
                self.saw_content = True
                if isinstance(value, str):
                    self.content.add(value)
            elif key == "tool_calls":
                self.saw_tool_calls = True
                for tool_call in value:
                    if tool_call:
                        self._fold_tool_call(tool_call)
            elif key == "function_call":
                if not self.saw_function_call:
                    self.function_call_name = value.name
                self.saw_function_call = True
                self.function_call_arguments.add(value.arguments)
            elif key == "thinking_blocks":
                self.saw_thinking = True
                if isinstance(value, list):
                    for block in value:
                        self._fold_thinking_block(block)
            elif key == "reasoning_content":
                self.saw_reasoning = True
                self.reasoning.add(value)
            elif key == "annotations":
                self.annotations = [*(self.annotations or ()), *value]
            elif key == "audio":
                self.saw_audio = True
                self._fold_audio(value)
            elif key == "images":
                self.images = [*(self.images or ()), *value]
            elif key == "provider_specific_fields":
                self.saw_provider_fields = True
                if isinstance(value, dict):
                    if value.get("citation") is not None:
                        self.citations.append(value["citation"])
                    self.provider_fields.update((k, v) for k, v in value.items() if k != "citation")

    def _fold_tool_call(self, tool_call: object) -> None:
        function: Final = _get(tool_call, "function")
        custom: Final = _get(tool_call, "custom")
        if function is None and custom is None:
            return
        tool_index: Final = tool_call.get("index", 0) if isinstance(tool_call, dict) else getattr(tool_call, "index", 0)
        arguments: Final = _get(function, "arguments")
        custom_input: Final = _get(custom, "input")
        # Deliberate differences (chat_chunk_merge): upstream merges by index alone, so parallel calls sent
        # complete at one index fuse into one call, and an id or name split across fragments keeps only its tail.
        state: Final = self.tool_calls.fragment(
            tool_index, _get(tool_call, "id"), _get(function, "name"), arguments or custom_input
        )
        if fragment_type := _get(tool_call, "type"):
            state.type = fragment_type
        if custom_name := _get(custom, "name"):
            state.custom_name = custom_name
        provider_fields = _get(tool_call, "provider_specific_fields") or _get(function, "provider_specific_fields")
        if provider_fields:
            if state.provider_specific_fields is None:
                state.provider_specific_fields = {}
            if isinstance(provider_fields, dict):
                state.provider_specific_fields.update(provider_fields)
        if arguments:
            state.arguments.add(arguments)
        if custom_input:
            state.input.add(custom_input)

    def _fold_thinking_block(self, block: Mapping[str, Any]) -> None:
        if block.get("type", None) == "redacted_thinking":
            self.thinking_parts = []
            if data := block.get("data", None):
                self.thinking_blocks.append({"type": "redacted_thinking", "data": data})
            return
        if text := block.get("thinking", None):
            self.thinking_parts.append(text)
        if signature := block.get("signature", None):
            self.thinking_blocks.append(
                {"type": "thinking", "thinking": "".join(self.thinking_parts), "signature": signature}
            )
            self.thinking_parts = []

    def _fold_audio(self, audio: Mapping[str, Any]) -> None:
        for key, value in audio.items():
            if key == "data" and isinstance(value, str):
                self.audio_data += base64.b64decode(value)
            elif key == "transcript" and isinstance(value, str):
                self.audio_transcript.add(value)
            elif key == "expires_at" and isinstance(value, int):
                self.audio_expires_at = value
            elif key == "id" and isinstance(value, str):
                self.audio_id = value

    # -- building --------------------------------------------------------------------------------
    def tool_call_list(self) -> list[Any]:
        from litellm.types.utils import (
            ChatCompletionCustomToolCallPayload,
            ChatCompletionMessageCustomToolCall,
            ChatCompletionMessageToolCall,
            Function,
        )

        built: Final[list[Any]] = []
        for state in self.tool_calls.ordered():
            if state.id and state.custom_name:
                built.append(
                    ChatCompletionMessageCustomToolCall(
                        id=state.id,
                        custom=ChatCompletionCustomToolCallPayload(name=state.custom_name, input=state.input.text()),
                    )
                )
            elif state.id and state.name:
                params: dict[str, Any] = {
                    "id": state.id,
                    "function": Function(arguments=state.arguments.text() or "{}", name=state.name),
                    "type": state.type or "function",
                }
                if state.provider_specific_fields:
                    params["provider_specific_fields"] = state.provider_specific_fields
                built.append(ChatCompletionMessageToolCall(**params))
        return built

    def apply_to(self, message: Any) -> None:
        """Set the message fields in upstream's order (later ones override ``content``)."""
        from litellm.types.utils import ChatCompletionAudioResponse, FunctionCall

        if self.saw_tool_calls:
            message.content = None
            message.tool_calls = self.tool_call_list()
        if self.saw_function_call:
            message.content = None
            message.function_call = FunctionCall(
                name=self.function_call_name, arguments=self.function_call_arguments.text()
            )
        if self.saw_content:
            message["content"] = self.content.text()
        if self.saw_thinking:
            message["thinking_blocks"] = [dict(block) for block in self.thinking_blocks] or None
        if self.saw_reasoning:
            message["reasoning_content"] = self.reasoning.text()
        if self.annotations is not None:
            message["annotations"] = list(self.annotations)
        if self.saw_audio:
            message.audio = ChatCompletionAudioResponse(
                data=base64.b64encode(bytes(self.audio_data)).decode("utf-8"),
                expires_at=self.audio_expires_at or int(time.time() + 3600),
                transcript=self.audio_transcript.text(),
                id=self.audio_id,
            )
        if self.images is not None:
            message["images"] = list(self.images)
        if self.saw_provider_fields:
            from litellm.main import _joined_streamed_citations

            combined: Final = {
                **({"citations": _joined_streamed_citations(tuple(self.citations))} if self.citations else {}),
                **self.provider_fields,
            }
            if combined:
                message.provider_specific_fields = combined


def _merge_token_details(current: Any, incoming: Any) -> Any:
    """Field-wise: a later report's set fields win, its unset ones keep what an earlier one said."""
    if incoming is None:
        return current
    if current is None or type(current) is not type(incoming):
        return incoming
    updates: Final = {key: value for key, value in incoming.model_dump(exclude_none=True).items()}
    return current.model_copy(update=updates) if updates else current


class _UsageFold:
    """The running state of ChunkProcessor._calculate_usage_per_chunk, one chunk at a time."""

    def __init__(self) -> None:
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.completion_usage_updates = 0
        self.cache_creation_input_tokens: int | None = None
        self.cache_read_input_tokens: int | None = None
        self.server_tool_use: ServerToolUse | None = None
        self.web_search_requests: int | None = None
        self.google_maps_grounding_requests: int | None = None
        self.completion_tokens_details: CompletionTokensDetails | None = None
        self.prompt_tokens_details: PromptTokensDetailsWrapper | None = None
        self.cache_creation_token_details: CacheCreationTokenDetails | None = None
        self.cost: float | None = None
        self.pricing: dict[str, str] = {}
        # calculate_total_usage's own (simpler) fold
        self.total_prompt_tokens = 0
        self.total_completion_tokens = 0
        self.total_seen = False
        self.total_cost: float | None = None
        self.total_prompt_tokens_details: Any = None
        self.total_completion_tokens_details: Any = None
        self.total_cache_creation_token_details: Any = None

    def copy(self) -> _UsageFold:
        twin: Final = _UsageFold.__new__(_UsageFold)
        twin.__dict__.update(self.__dict__)
        twin.pricing = dict(self.pricing)
        return twin

    def fold(self, chunk: object) -> None:
        deps: Final = _deps()
        self._fold_total(chunk)
        if _get(chunk, "usage") is None:
            hidden = _hidden_params_of(chunk)
            if not isinstance(hidden, dict) or hidden.get("usage") is None:
                return  # what _extract_usage_chunk would find: nothing
        usage_chunk: Final = deps.ChunkProcessor._extract_usage_chunk(cast(Any, chunk))
        if usage_chunk is None:
            return
        summary: Final = deps.ChunkProcessor._usage_chunk_calculation_helper(cast(Any, None), usage_chunk)
        if summary["prompt_tokens"] is not None and (summary["prompt_tokens"] > 0 or self.prompt_tokens is None):
            self.prompt_tokens = summary["prompt_tokens"]
        completion: Final = summary["completion_tokens"]
        if completion is not None and (completion > 0 or self.completion_tokens is None):
            self.completion_tokens = completion
        if completion is not None and completion > 0:
            self.completion_usage_updates += 1
        if summary["cache_creation_input_tokens"] is not None and (
            deps.reports_prompt_side_usage(summary) or self.cache_creation_input_tokens is None
        ):
            self.cache_creation_input_tokens = summary["cache_creation_input_tokens"]
        if summary["cache_read_input_tokens"] is not None and (
            deps.reports_prompt_side_usage(summary) or self.cache_read_input_tokens is None
        ):
            self.cache_read_input_tokens = summary["cache_read_input_tokens"]
        if summary["completion_tokens_details"] is not None:
            self.completion_tokens_details = summary["completion_tokens_details"]
        server_tool_use: Final = getattr(usage_chunk, "server_tool_use", None)
        if server_tool_use is not None:
            ServerToolUse: Final = deps.ServerToolUse  # noqa: N806
            if isinstance(server_tool_use, dict):
                self.server_tool_use = ServerToolUse(**server_tool_use)
            elif isinstance(server_tool_use, ServerToolUse):
                self.server_tool_use = server_tool_use
            else:
                self.server_tool_use = ServerToolUse.model_validate(server_tool_use)
        details: Final = summary["prompt_tokens_details"]
        if details is not None:
            if (web_search := getattr(details, "web_search_requests", None)) is not None:
                self.web_search_requests = web_search
            if (maps := getattr(details, "google_maps_grounding_requests", None)) is not None:
                self.google_maps_grounding_requests = maps
        self.prompt_tokens_details = _merge_token_details(self.prompt_tokens_details, details)
        self.cache_creation_token_details = deps.capture_cache_creation_token_details(
            self.prompt_tokens_details, self.cache_creation_token_details
        )
        if summary["cost"] is not None:
            self.cost = summary["cost"]
        for field in _PRICING_FIELDS:
            if isinstance(value := getattr(usage_chunk, field, None), str):
                self.pricing[field] = value

    def _fold_total(self, chunk: object) -> None:
        usage: Final = _get(chunk, "usage")
        if usage is None:
            return
        deps: Final = _deps()
        coerce_token_details: Final = deps.coerce_token_details
        self.total_seen = True
        if "prompt_tokens" in usage:
            self.total_prompt_tokens = usage.get("prompt_tokens", 0) or 0
        if "completion_tokens" in usage:
            self.total_completion_tokens = usage.get("completion_tokens", 0) or 0
        incoming_details: Final = coerce_token_details(usage, "prompt_tokens_details", deps.PromptTokensDetailsWrapper)
        self.total_cache_creation_token_details = deps.capture_cache_creation_token_details(
            incoming_details, self.total_cache_creation_token_details
        )
        self.total_prompt_tokens_details = _merge_token_details(self.total_prompt_tokens_details, incoming_details)
        self.total_completion_tokens_details = (
            coerce_token_details(usage, "completion_tokens_details", deps.CompletionTokensDetailsWrapper)
            or self.total_completion_tokens_details
        )
        self.total_cost = usage.get("cost") if isinstance(usage, dict) else getattr(usage, "cost", None)

    def total_usage(self) -> Usage:
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import attach_cache_creation_token_details
        from litellm.types.utils import Usage

        usage: Final = Usage(
            prompt_tokens=self.total_prompt_tokens,
            completion_tokens=self.total_completion_tokens,
            total_tokens=self.total_prompt_tokens + self.total_completion_tokens,
            prompt_tokens_details=attach_cache_creation_token_details(
                self.total_prompt_tokens_details, self.total_cache_creation_token_details
            ),
            completion_tokens_details=self.total_completion_tokens_details,
        )
        if self.total_seen and self.total_cost is not None:
            usage.cost = self.total_cost
        return usage

    def per_chunk(self, saw_finish_reason: bool, first_chunk: object) -> UsagePerChunk:
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import attach_cache_creation_token_details
        from litellm.types.litellm_core_utils.streaming_chunk_builder_utils import UsagePerChunk

        completion_tokens = self.completion_tokens
        cursor_was_reset = False
        if not (self.completion_usage_updates >= 2 or saw_finish_reason):
            hidden: Final = _hidden_params_of(first_chunk)
            if isinstance(hidden, dict) and hidden.get("custom_llm_provider") == "anthropic":
                cursor_was_reset = completion_tokens is not None
                completion_tokens = None
        return UsagePerChunk(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=completion_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens,
            server_tool_use=self.server_tool_use,
            web_search_requests=self.web_search_requests,
            google_maps_grounding_requests=self.google_maps_grounding_requests,
            completion_tokens_details=None if cursor_was_reset else self.completion_tokens_details,
            prompt_tokens_details=attach_cache_creation_token_details(
                self.prompt_tokens_details, self.cache_creation_token_details
            ),
            cost=self.cost,
            inference_geo=self.pricing.get("inference_geo"),
            speed=self.pricing.get("speed"),
        )


class StreamAccumulator:
    """Incremental assembly of a chat completion stream (see the module docstring).

    ``add(chunk)`` folds one chunk; ``build(...)`` returns the assembled ``ModelResponse`` (or ``None``
    before the first chunk); ``total_usage()`` the running usage; ``partial()`` is ``build()`` without cost
    stamping, for a look at a stream still in flight. ``has_generated_content`` says whether any choice
    produced output. Building never changes the state, so it can be called any number of times.
    """

    def __init__(self, *, ordered: bool = False) -> None:
        # ordered: the chunks come in their final order (a sorted list, or a wrapper's creation order), so
        # created_at stamps never make it keep them for sorting.
        self._ordered = ordered
        self.count = 0
        self.first_chunk: object = None
        self.last_chunk: object = None
        self.identity = AnswerIdentity()
        self.service_tier: str | None = None
        self.provider_response_models: list[str] = []
        self.hidden_provider_fields_owner: object = None
        self.choices: dict[int, _ChoiceState] = {}
        self.simple_text = True
        self.saw_finish_reason = False
        self.has_generated_content = False
        self.usage = _UsageFold()
        self.provider_metadata: dict[str, list[object]] = {}
        # Text completions and explicitly ordered (created_at) chunks keep the list: rare, upstream path.
        self.retained: list[object] | None = None
        self._error: BaseException | None = None

    # -- feeding ---------------------------------------------------------------------------------
    def add(self, chunk: object) -> None:
        """Fold one chunk. Never raises: a chunk that cannot be folded makes ``build()`` raise instead."""
        self.count += 1
        if self.retained is not None:
            self.retained.append(chunk)
            return
        try:
            self._fold(chunk)
        except Exception as e:  # noqa: BLE001  # surfaced by build(), as stream_chunk_builder would raise
            self._error = self._error or e

    def _fold(self, chunk: object) -> None:
        TextChoices: Final = _deps().TextChoices  # noqa: N806

        choices: Final = _get(chunk, "choices") or ()
        if self.first_chunk is None:
            self.first_chunk = chunk
            hidden: Final = _hidden_params_of(chunk)
            if (not self._ordered and isinstance(hidden, dict) and hidden.get("created_at")) or (
                choices and isinstance(choices[0], TextChoices)
            ):
                self.retained = [chunk]
                return
        elif choices and not self.choices and isinstance(choices[0], TextChoices):
            raise ValueError("text completion choices in a chat completion stream")
        self.last_chunk = chunk
        self.identity.add(_get(chunk, "object"), _get(chunk, "id"), _get(chunk, "model"), _get(chunk, "created"))
        if isinstance(tier := _get(chunk, "service_tier"), str) and tier:
            self.service_tier = tier
        hidden_params: Final = _hidden_params_of(chunk)
        if isinstance(hidden_params, Mapping):
            if isinstance(model := hidden_params.get("provider_response_model"), str) and model:
                if len(self.provider_response_models) < 2 and (
                    not self.provider_response_models or model != self.provider_response_models[0]
                ):
                    self.provider_response_models.append(model)
            if "provider_specific_fields" in hidden_params:
                self.hidden_provider_fields_owner = hidden_params
        for field in VERTEX_AI_PROVIDER_METADATA_FIELDS:
            value = _provider_metadata_attr(chunk, field) if isinstance(chunk, dict) else _get(chunk, field)
            if value:
                merged = self.provider_metadata.setdefault(field, [])
                if isinstance(value, list):
                    merged.extend(value)
                else:
                    merged.append(value)
        for position, choice in enumerate(choices):
            index = _get(choice, "index")
            index = index if isinstance(index, int) else position
            delta = _get(choice, "delta")
            state = self.choices.get(index)
            if state is None:
                role = _deps().ChunkProcessor._role_of_choice(choice)
                state = self.choices[index] = _ChoiceState(index, role)
            finish_reason = _get(choice, "finish_reason")
            if finish_reason is not None:
                state.finish_reason = finish_reason
                self.saw_finish_reason = True
            if delta is None:
                continue
            present = _present(delta)
            if self.simple_text and any(key in _NON_TEXT_DELTA_FIELD_SET for key, _ in present):
                self.simple_text = False
            if position == 0 and not self.has_generated_content:
                self.has_generated_content = any(key in _GENERATED_CONTENT_FIELD_SET and v for key, v in present)
            state.fold(present)
        self.usage.fold(chunk)

    # -- reading ---------------------------------------------------------------------------------
    def total_usage(self) -> Usage:
        """The stream's usage so far, as ``calculate_total_usage`` computes it."""
        if self.retained is not None:
            return total_usage_of(self.retained)
        return self.usage.total_usage()

    def partial(self, messages: Sequence[Any] | None = None) -> ModelResponse | TextCompletionResponse | None:
        """What has arrived so far, assembled (no cost stamping)."""
        return self.build(messages=messages, stamp_cost=False)

    def build(
        self,
        messages: Sequence[Any] | None = None,
        logging_obj: Logging | None = None,
        count_prompt_tokens: Callable[[], int] | None = None,
        stamp_cost: bool = True,
    ) -> ModelResponse | TextCompletionResponse | None:
        """The assembled response, as upstream's ``stream_chunk_builder`` builds it from the same chunks."""
        if self._error is not None:
            raise self._error
        if self.count == 0:
            return None
        if self.retained is not None:
            return _build_from_retained(self.retained, messages, logging_obj, count_prompt_tokens)
        from litellm.litellm_core_utils.prompt_templates.common_utils import get_content_from_model_response
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor
        from litellm.types.utils import ModelResponse

        first: Final = cast(Any, self.first_chunk)
        first_model: Final = first["model"]
        model: Final = self.identity.model or first_model
        states: Final = [self.choices[i] for i in sorted(self.choices)] or [_ChoiceState(0, "assistant")]
        response: Final = ModelResponse(
            id=self.identity.id or "",
            object=first["object"],
            created=self.identity.created or first["created"],
            model=model,
            system_fingerprint=first.get("system_fingerprint", None),
            **({"service_tier": self.service_tier} if self.service_tier is not None else {}),
            choices=[
                {
                    "index": state.index,
                    "message": {"role": state.role, "content": ""},
                    "finish_reason": state.finish_reason or "stop",
                }
                for state in states
            ],
            usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        )
        helper: Final = ChunkProcessor.__new__(ChunkProcessor)
        # Upstream's build_base_response reuses its loop variable here: the hidden params (shared, not
        # copied) are the last chunk's, not the first's.
        helper.update_model_response_with_hidden_params(model_response=response, chunk=cast(Any, self.last_chunk))
        if self.provider_response_models:
            provider_model = next(
                (m for m in self.provider_response_models if m != first_model), self.provider_response_models[0]
            )
            response._hidden_params = dict(response._hidden_params, provider_response_model=provider_model)
        for state, choice in zip(states, response.choices, strict=True):
            message = cast(Any, choice).message
            if self.simple_text:
                if text := state.content.text():
                    message["content"] = text
            else:
                state.apply_to(message)
        usage: Final = _FoldedUsageProcessor(self.usage.per_chunk(self.saw_finish_reason, first)).calculate_usage(
            chunks=(),
            model=first_model,
            completion_output=get_content_from_model_response(response),
            messages=messages,
            reasoning_tokens=0 if self.simple_text else helper.count_reasoning_tokens(response),
            count_prompt_tokens=count_prompt_tokens,
        )
        response.usage = usage  # type: ignore[attr-defined]  # set in ModelResponse.__init__, not a declared field
        owner: Final = self.hidden_provider_fields_owner
        if isinstance(owner, Mapping):
            fields: Final = response.hidden_params.setdefault("provider_specific_fields", {})
            cast(MutableMapping[str, Any], fields).update(owner["provider_specific_fields"])
        if stamp_cost:
            from litellm.main import _set_stream_builder_response_cost, _stamp_streaming_usage_cost

            _stamp_streaming_usage_cost(usage, response, logging_obj)
            _set_stream_builder_response_cost(response, logging_obj)
        ChunkProcessor.apply_provider_assembled_streaming_metadata(
            response, [dict(self.provider_metadata)], logging_obj
        )
        return response


def _provider_metadata_attr(chunk: object, field_name: str) -> object:
    """Same lookup as VertexGeminiConfig._get_stream_chunk_attr."""
    if isinstance(chunk, dict):
        value = chunk.get(field_name)
        if value is not None:
            return value
        model_extra: Final = chunk.get("model_extra")
        if isinstance(model_extra, dict) and (value := model_extra.get(field_name)) is not None:
            return value
        hidden: Final = chunk.get("_hidden_params")
        return hidden.get(field_name) if isinstance(hidden, dict) else None
    return getattr(chunk, field_name, None)


def _load_usage_processor() -> type:
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    class FoldedUsageProcessor(ChunkProcessor):
        """ChunkProcessor.calculate_usage (estimation, details, cost) over an already folded summary."""

        def __init__(self, per_chunk: UsagePerChunk) -> None:  # no chunks: they were folded as they came
            self._per_chunk = per_chunk

        def _calculate_usage_per_chunk(self, chunks: Sequence[Any]) -> UsagePerChunk:
            return self._per_chunk

    return FoldedUsageProcessor


class _LazyUsageProcessor:
    _cls: type | None = None

    def __call__(self, per_chunk: UsagePerChunk) -> Any:
        if _LazyUsageProcessor._cls is None:
            _LazyUsageProcessor._cls = _load_usage_processor()
        return _LazyUsageProcessor._cls(per_chunk)


_FoldedUsageProcessor: Final = _LazyUsageProcessor()


def _build_from_retained(
    chunks: list[object],
    messages: Sequence[Any] | None,
    logging_obj: Logging | None,
    count_prompt_tokens: Callable[[], int] | None,
) -> ModelResponse | TextCompletionResponse | None:
    """Upstream's order-dependent cases: chunks stamped with ``created_at`` are sorted, text completions
    go to ``stream_chunk_builder_text_completion``. Both keep the list; neither is a chat stream's path."""
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor
    from litellm.main import stream_chunk_builder_text_completion
    from litellm.types.utils import TextChoices

    ordered: Final = ChunkProcessor.__new__(ChunkProcessor)._sort_chunks(chunks)
    first_with_choices: Final = next((c for c in ordered if _get(c, "choices")), None)
    if first_with_choices is not None and isinstance(_get(first_with_choices, "choices")[0], TextChoices):
        return stream_chunk_builder_text_completion(chunks=ordered, messages=messages)
    accumulator: Final = StreamAccumulator(ordered=True)
    for chunk in ordered:
        accumulator.add(chunk)
    return accumulator.build(messages=messages, logging_obj=logging_obj, count_prompt_tokens=count_prompt_tokens)


def build_stream_response(
    chunks: Sequence[object],
    messages: Sequence[Any] | None = None,
    logging_obj: Logging | None = None,
    count_prompt_tokens: Callable[[], int] | None = None,
) -> ModelResponse | TextCompletionResponse | None:
    """``stream_chunk_builder``'s body: a ``StreamChunkLog`` answers from its accumulator, a list is fed to one."""
    if isinstance(chunks, StreamChunkLog):
        return chunks.build(messages=messages, logging_obj=logging_obj, count_prompt_tokens=count_prompt_tokens)
    if not chunks:
        return None
    from litellm.types.utils import TextChoices

    first_with_choices: Final = next((c for c in chunks if _get(c, "choices")), None)
    if first_with_choices is not None and isinstance(_get(first_with_choices, "choices")[0], TextChoices):
        return _build_from_retained(list(chunks), messages, logging_obj, count_prompt_tokens)
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    accumulator: Final = StreamAccumulator(ordered=True)
    for chunk in ChunkProcessor.__new__(ChunkProcessor)._sort_chunks(list(chunks)):
        accumulator.add(chunk)
    return accumulator.build(messages=messages, logging_obj=logging_obj, count_prompt_tokens=count_prompt_tokens)


def total_usage_of(chunks: Sequence[object]) -> Usage:
    """``calculate_total_usage``: a ``StreamChunkLog`` answers from its accumulator, a list is folded."""
    if isinstance(chunks, StreamChunkLog):
        return chunks.total_usage()
    fold: Final = _UsageFold()
    for chunk in chunks:
        fold._fold_total(chunk)
    return fold.total_usage()


def stream_has_generated_content(chunks: Sequence[object]) -> bool | None:
    """Router's generated-content check for a ``StreamChunkLog`` (``None`` for anything else)."""
    return chunks.has_generated_content if isinstance(chunks, StreamChunkLog) else None


def new_stream_chunk_log() -> list[Any]:
    """What ``CustomStreamWrapper.chunks`` starts as: bounded by default, a plain list with full retention."""
    return [] if stream_chunk_retention() == FULL_RETENTION else StreamChunkLog()


def _choice0_has_generated_content(chunk: object) -> bool:
    choices: Final = _get(chunk, "choices")
    if not choices:
        return False
    delta: Final = _get(choices[0], "delta")
    return delta is not None and any(_get(delta, field) for field in _GENERATED_CONTENT_FIELDS)


_WINDOW_MESSAGE: Final = (
    "StreamChunkLog keeps only the first and the last two chunks of a stream; "
    "set litellm.stream_chunk_retention = 'full' (or LITELLM_STREAM_CHUNK_RETENTION=full) to keep them all"
)


class StreamChunkLog(list[Any]):  # a list subclass so that isinstance(chunks, list) readers keep working
    """A stream's chunks as readers use them, without keeping them.

    ``append`` counts the chunk, keeps it as ``[-1]`` and folds the chunk before it into ``accumulator``
    (one step late: a consumer that edits a yielded chunk in place does so before it asks for the next).
    ``len``, truthiness, ``[0]``, ``[-1]`` and ``[-2]`` behave as on the full list; other positions raise
    ``IndexError``; iteration yields the chunks still held (first, last two). ``build()`` and
    ``total_usage()`` fold the held chunk first and answer from the accumulator.
    """

    def __init__(self) -> None:
        super().__init__()
        # CustomStreamWrapper appends chunks in the order it creates them, which is the order of their
        # created_at stamps: the sort upstream applied to the finished list is a no-op there.
        self.accumulator: Final = StreamAccumulator(ordered=True)
        self._count = 0
        self._first: object = None
        self._previous: object = None
        self._last: object = None
        self._last_folded = True

    # -- writing -----------------------------------------------------------------------------------
    def append(self, chunk: object) -> None:
        self._fold_last()
        if self._count == 0:
            self._first = chunk
        self._previous = self._last
        self._last = chunk
        self._last_folded = False
        self._count += 1

    def extend(self, chunks: object) -> None:
        for chunk in cast(Any, chunks):
            self.append(chunk)

    def __iadd__(self, chunks: Iterable[Any]) -> Self:  # type: ignore[misc]  # as on list: += takes any iterable, + a list
        self.extend(chunks)
        return self

    def _fold_last(self) -> None:
        if not self._last_folded:
            self.accumulator.add(self._last)
            self._last_folded = True

    # -- reading -----------------------------------------------------------------------------------
    def build(
        self,
        messages: Sequence[Any] | None = None,
        logging_obj: Logging | None = None,
        count_prompt_tokens: Callable[[], int] | None = None,
    ) -> ModelResponse | TextCompletionResponse | None:
        self._fold_last()
        return self.accumulator.build(
            messages=messages, logging_obj=logging_obj, count_prompt_tokens=count_prompt_tokens
        )

    def total_usage(self) -> Usage:
        """Usage including the held chunk, without folding it (it may still be edited)."""
        accumulator: Final = self.accumulator
        if self._last_folded:
            return accumulator.total_usage()
        if accumulator.retained is not None:
            return total_usage_of([*accumulator.retained, self._last])
        preview: Final = accumulator.usage.copy()
        preview._fold_total(self._last)
        return preview.total_usage()

    @property
    def has_generated_content(self) -> bool:
        if not self._last_folded and _choice0_has_generated_content(self._last):
            return True
        if self.accumulator.retained is not None:
            return any(_choice0_has_generated_content(chunk) for chunk in self.accumulator.retained)
        return self.accumulator.has_generated_content

    def _held(self) -> list[object]:
        positions: Final = sorted({0, self._count - 2, self._count - 1} & set(range(self._count)))
        return [self[position] for position in positions]

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        if isinstance(index, slice):
            raise IndexError(_WINDOW_MESSAGE)
        position = index.__index__()
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError("list index out of range")
        if position == self._count - 1:
            return self._last
        if position == self._count - 2:
            return self._previous
        if position == 0:
            return self._first
        raise IndexError(_WINDOW_MESSAGE)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._held())

    def __reversed__(self) -> Iterator[Any]:
        return reversed(self._held())

    def copy(self) -> list[Any]:
        return self._held()

    def __copy__(self) -> StreamChunkLog:
        # The fold state is copied (sharing it would fold the held chunk twice); the chunks are shared.
        shared: Final = (
            self._first,
            self._previous,
            self._last,
            self.accumulator.first_chunk,
            self.accumulator.last_chunk,
        )
        return self.__deepcopy__({id(item): item for item in shared if item is not None})

    def __deepcopy__(self, memo: dict[int, Any]) -> StreamChunkLog:
        # list's default deepcopy would re-append the held chunks on top of the copied state
        import copy

        twin: Final = StreamChunkLog.__new__(StreamChunkLog)
        memo[id(self)] = twin
        twin.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return twin

    def __repr__(self) -> str:
        return f"<StreamChunkLog chunks={self._count} held={len(self._held())}>"

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return self._count == 0 and isinstance(other, list) and len(other) == 0

    __hash__ = None
