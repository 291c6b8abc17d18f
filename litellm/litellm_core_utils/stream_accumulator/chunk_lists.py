"""Upstream's functions over a stream's list of chunks (``stream_chunk_builder``, ``calculate_total_usage``, the
router's generated-content check): a ``StreamChunkLog`` answers from its fold, a plain list is folded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from litellm.litellm_core_utils.stream_accumulator.accumulator import StreamAccumulator, build_retained
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import get_field
from litellm.litellm_core_utils.stream_accumulator.chunk_log import StreamChunkLog
from litellm.litellm_core_utils.stream_accumulator.response_build import sorted_chunks
from litellm.litellm_core_utils.stream_accumulator.usage_fold import TotalUsageFold
from litellm.types.utils import TextChoices

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.utils import ModelResponse, TextCompletionResponse, Usage


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
    first_with_choices: Final = next((c for c in chunks if get_field(c, "choices")), None)
    if first_with_choices is not None and isinstance(get_field(first_with_choices, "choices")[0], TextChoices):
        return build_retained(list(chunks), messages, logging_obj, count_prompt_tokens)
    accumulator: Final = StreamAccumulator(ordered=True)
    for chunk in sorted_chunks(list(chunks), messages):
        accumulator.add(chunk)
    return accumulator.build(messages=messages, logging_obj=logging_obj, count_prompt_tokens=count_prompt_tokens)


def total_usage_of(chunks: Sequence[object]) -> Usage:
    """``calculate_total_usage``: a ``StreamChunkLog`` answers from its accumulator, a list is folded."""
    if isinstance(chunks, StreamChunkLog):
        return chunks.total_usage()
    return TotalUsageFold.of(chunks).usage()


def stream_has_generated_content(chunks: Sequence[object]) -> bool | None:
    """Router's generated-content check for a ``StreamChunkLog`` (``None`` for anything else)."""
    return chunks.has_generated_content if isinstance(chunks, StreamChunkLog) else None
