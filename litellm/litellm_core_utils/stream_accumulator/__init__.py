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

``StreamChunkLog`` is what ``CustomStreamWrapper.chunks`` holds: a ``list`` façade that counts chunks, keeps
the first and the last two (what the repetition check and the proxy read) and feeds every other chunk to an
accumulator one step late, so in-place edits a consumer makes to a chunk after it was yielded (the proxy
rewrites ``chunk.model``) are seen exactly as upstream saw them when it rebuilt from the list at the end.

``litellm.stream_chunk_retention = "full"`` (or ``LITELLM_STREAM_CHUNK_RETENTION=full``) makes
``new_stream_chunk_log()`` return a plain list again: every chunk kept, for debugging.

The modules, one job each: ``chunk_fields`` (reading a chunk's fields), ``text_parts`` (a string built by
appending), ``choice_fold`` (one choice's deltas folded), ``choice_message`` (a folded choice written into the
message), ``usage_fold`` (usage folded), ``accumulator`` (``StreamAccumulator``), ``response_build`` (the
assembled response), ``errors`` (``StreamAssemblyError``), ``chunk_log`` (``StreamChunkLog``), ``retention`` (the
setting), ``chunk_lists`` (upstream's functions over a list of chunks, which the patches call). Private upstream
names are used only through ``litellm.litellm_core_utils.upstream_surface``.
"""

from litellm.litellm_core_utils.stream_accumulator.accumulator import StreamAccumulator
from litellm.litellm_core_utils.stream_accumulator.chunk_lists import (
    build_stream_response,
    stream_has_generated_content,
    total_usage_of,
)
from litellm.litellm_core_utils.stream_accumulator.chunk_log import ChunkLogOperationError, StreamChunkLog
from litellm.litellm_core_utils.stream_accumulator.errors import StreamAssemblyError
from litellm.litellm_core_utils.stream_accumulator.retention import (
    BOUNDED_RETENTION,
    FULL_RETENTION,
    RETENTION_ENV_VAR,
    new_stream_chunk_log,
    stream_chunk_retention,
)

__all__ = [
    "BOUNDED_RETENTION",
    "FULL_RETENTION",
    "RETENTION_ENV_VAR",
    "ChunkLogOperationError",
    "StreamAccumulator",
    "StreamAssemblyError",
    "StreamChunkLog",
    "build_stream_response",
    "new_stream_chunk_log",
    "stream_chunk_retention",
    "stream_has_generated_content",
    "total_usage_of",
]
