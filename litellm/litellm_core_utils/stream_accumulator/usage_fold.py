"""A stream's usage, folded chunk by chunk: the two upstream computations that used to walk the whole list.

- ``UsageFold``: ``ChunkProcessor._calculate_usage_per_chunk`` (what ``stream_chunk_builder`` reports),
- ``TotalUsageFold``: ``calculate_total_usage`` (the wrapper's running usage).

Both mirror upstream loops one step at a time, so ``upstream_surface.MIRRORED`` records the source of each
upstream function and ``tests/test_litellm/litellm_core_utils/test_upstream_surface.py`` runs both on a corpus.
Deliberate difference: a later usage report's unset ``prompt_tokens_details`` fields keep what an earlier one said
(upstream replaces the whole object, erasing cached-token counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, cast

from openai.types.completion_usage import CompletionTokensDetails

from litellm.litellm_core_utils import upstream_surface
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import get_field
from litellm.types.utils import (
    CacheCreationTokenDetails,
    CompletionTokensDetailsWrapper,
    PromptTokensDetailsWrapper,
    ServerToolUse,
    Usage,
)

if TYPE_CHECKING:
    from litellm.types.litellm_core_utils.streaming_chunk_builder_utils import UsagePerChunk

_PRICING_FIELDS: Final = ("inference_geo", "speed")


def merge_token_details(current: Any, incoming: Any) -> Any:
    """Field-wise: a later report's set fields win, its unset ones keep what an earlier one said."""
    if incoming is None:
        return current
    if current is None or type(current) is not type(incoming):
        return incoming
    updates: Final = dict(incoming.model_dump(exclude_none=True))
    return current.model_copy(update=updates) if updates else current


def _server_tool_use(value: object) -> ServerToolUse:
    if isinstance(value, dict):
        return ServerToolUse(**value)
    if isinstance(value, ServerToolUse):
        return value
    return ServerToolUse.model_validate(value)


def _carries_usage(chunk: object) -> bool:
    """Whether ``ChunkProcessor._extract_usage_chunk`` could find usage on the chunk (a cheap pre-check)."""
    if get_field(chunk, "usage") is not None:
        return True
    hidden: Final = upstream_surface.hidden_params_of(chunk)
    return isinstance(hidden, dict) and hidden.get("usage") is not None


class UsageFold:
    """The running state of ``ChunkProcessor._calculate_usage_per_chunk``, one chunk at a time."""

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
        self._processor: Any = None  # upstream's ChunkProcessor, made for the first usage chunk

    def fold(self, chunk: object) -> None:
        if not _carries_usage(chunk):
            return
        usage_chunk: Final = upstream_surface.extract_usage_chunk(chunk)
        if usage_chunk is None:
            return
        if self._processor is None:
            self._processor = upstream_surface.chunk_processor([chunk])
        summary: Final = upstream_surface.usage_summary(self._processor, usage_chunk)
        self._fold_token_counts(summary)
        self._fold_cache_counts(summary)
        if summary["completion_tokens_details"] is not None:
            self.completion_tokens_details = summary["completion_tokens_details"]
        if (server_tool_use := getattr(usage_chunk, "server_tool_use", None)) is not None:
            self.server_tool_use = _server_tool_use(server_tool_use)
        self._fold_prompt_details(summary["prompt_tokens_details"])
        if summary["cost"] is not None:
            self.cost = summary["cost"]
        for field in _PRICING_FIELDS:
            if isinstance(value := getattr(usage_chunk, field, None), str):
                self.pricing[field] = value

    def _fold_token_counts(self, summary: Any) -> None:
        prompt: Final = summary["prompt_tokens"]
        if prompt is not None and (prompt > 0 or self.prompt_tokens is None):
            self.prompt_tokens = prompt
        completion: Final = summary["completion_tokens"]
        if completion is not None and (completion > 0 or self.completion_tokens is None):
            self.completion_tokens = completion
        if completion is not None and completion > 0:
            self.completion_usage_updates += 1

    def _fold_cache_counts(self, summary: Any) -> None:
        prompt_side: Final = upstream_surface.reports_prompt_side_usage(summary)
        if summary["cache_creation_input_tokens"] is not None and (
            prompt_side or self.cache_creation_input_tokens is None
        ):
            self.cache_creation_input_tokens = summary["cache_creation_input_tokens"]
        if summary["cache_read_input_tokens"] is not None and (prompt_side or self.cache_read_input_tokens is None):
            self.cache_read_input_tokens = summary["cache_read_input_tokens"]

    def _fold_prompt_details(self, details: PromptTokensDetailsWrapper | None) -> None:
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import capture_cache_creation_token_details

        if details is not None:
            if (web_search := getattr(details, "web_search_requests", None)) is not None:
                self.web_search_requests = web_search
            if (maps := getattr(details, "google_maps_grounding_requests", None)) is not None:
                self.google_maps_grounding_requests = maps
        self.prompt_tokens_details = merge_token_details(self.prompt_tokens_details, details)
        self.cache_creation_token_details = capture_cache_creation_token_details(
            self.prompt_tokens_details, self.cache_creation_token_details
        )

    def per_chunk(self, saw_finish_reason: bool, first_chunk: object) -> UsagePerChunk:
        """What ``_calculate_usage_per_chunk`` returns for the chunks folded so far."""
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import attach_cache_creation_token_details
        from litellm.types.litellm_core_utils.streaming_chunk_builder_utils import UsagePerChunk

        completion_tokens = self.completion_tokens
        cursor_was_reset = False
        if not (self.completion_usage_updates >= 2 or saw_finish_reason):
            # Anthropic's message_start cursor, never followed by message_delta (_reset_anthropic_cursor_...)
            hidden: Final = upstream_surface.hidden_params_of(first_chunk)
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


class TotalUsageFold:
    """The running state of ``calculate_total_usage``: the latest usage report, details carried."""

    def __init__(self) -> None:
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.seen = False
        self.cost: float | None = None
        self.prompt_tokens_details: Any = None
        self.completion_tokens_details: Any = None
        self.cache_creation_token_details: Any = None

    @classmethod
    def of(cls, chunks: Any) -> TotalUsageFold:
        fold: Final = cls()
        for chunk in chunks:
            fold.fold(chunk)
        return fold

    def copy(self) -> TotalUsageFold:
        twin: Final = TotalUsageFold()
        twin.__dict__.update(self.__dict__)
        return twin

    def fold(self, chunk: object) -> None:
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import capture_cache_creation_token_details

        usage: Final = get_field(chunk, "usage")
        if usage is None:
            return
        self.seen = True
        if "prompt_tokens" in usage:
            self.prompt_tokens = usage.get("prompt_tokens", 0) or 0
        if "completion_tokens" in usage:
            self.completion_tokens = usage.get("completion_tokens", 0) or 0
        incoming_details: Final = upstream_surface.coerce_token_details(
            usage, "prompt_tokens_details", PromptTokensDetailsWrapper
        )
        self.cache_creation_token_details = capture_cache_creation_token_details(
            incoming_details, self.cache_creation_token_details
        )
        self.prompt_tokens_details = merge_token_details(self.prompt_tokens_details, incoming_details)
        self.completion_tokens_details = (
            upstream_surface.coerce_token_details(usage, "completion_tokens_details", CompletionTokensDetailsWrapper)
            or self.completion_tokens_details
        )
        self.cost = cast(float | None, usage.get("cost") if isinstance(usage, dict) else getattr(usage, "cost", None))

    def usage(self) -> Usage:
        from litellm.litellm_core_utils.streaming_chunk_builder_utils import attach_cache_creation_token_details

        usage: Final = Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
            prompt_tokens_details=attach_cache_creation_token_details(
                self.prompt_tokens_details, self.cache_creation_token_details
            ),
            completion_tokens_details=self.completion_tokens_details,
        )
        if self.seen and self.cost is not None:
            usage.cost = self.cost
        return usage
