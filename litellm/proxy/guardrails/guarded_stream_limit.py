"""A bound on the chunks a post-call guardrail holds while it moderates a streamed response.

Two proxy features keep a stream's chunks by design, because their verdict needs the whole response so far:

- a ``post_call`` policy pipeline (``ProxyLogging._pipeline_gated_stream``) buffers the whole stream and releases
  nothing before its verdict;
- a ``post_call`` guardrail applied to a stream (``UnifiedLLMGuardrails.async_post_call_streaming_iterator_hook``)
  rescans every chunk received so far at each sampled chunk and at the end of the stream.

Each chunk held costs about 4 KB. ``max_guarded_stream_chunks`` bounds how many they may hold: past it the stream
ends with ``GuardedStreamTooLongError`` (HTTP 500 before anything was sent, an error event in the stream after)
instead of growing without limit. Set it with ``litellm.max_guarded_stream_chunks`` (``litellm_settings:
max_guarded_stream_chunks`` in the proxy config) or ``LITELLM_MAX_GUARDED_STREAM_CHUNKS``; ``0`` removes the
bound. Streams without such a guardrail never read it.
"""

from __future__ import annotations

import os
from typing import Final

MAX_GUARDED_STREAM_CHUNKS_SETTING: Final = "max_guarded_stream_chunks"
MAX_GUARDED_STREAM_CHUNKS_ENV: Final = "LITELLM_MAX_GUARDED_STREAM_CHUNKS"
DEFAULT_MAX_GUARDED_STREAM_CHUNKS: Final = 50_000


class GuardedStreamTooLongError(Exception):
    """A guardrail would have to hold more chunks of a stream than ``max_guarded_stream_chunks`` allows."""

    status_code = 500
    type = "guarded_stream_too_long"
    param = MAX_GUARDED_STREAM_CHUNKS_SETTING

    def __init__(self, holder: str, limit: int) -> None:
        self.message = (
            f"The streamed response is longer than {MAX_GUARDED_STREAM_CHUNKS_SETTING}={limit} chunks, which {holder} "
            f"must hold to moderate it: the stream was stopped. Ask for fewer tokens (max_tokens), or raise "
            f"{MAX_GUARDED_STREAM_CHUNKS_SETTING} (litellm_settings) or {MAX_GUARDED_STREAM_CHUNKS_ENV}; 0 removes "
            "the bound."
        )
        super().__init__(self.message)


def max_guarded_stream_chunks() -> int:
    """The bound in force (read when a guarded stream starts); 0 means none."""
    import litellm

    configured: Final = getattr(litellm, MAX_GUARDED_STREAM_CHUNKS_SETTING, None)
    raw: Final = configured if configured is not None else os.environ.get(MAX_GUARDED_STREAM_CHUNKS_ENV)
    if raw is None or str(raw).strip() == "":
        return DEFAULT_MAX_GUARDED_STREAM_CHUNKS
    try:
        value: Final = int(str(raw).strip())
    except ValueError:
        raise ValueError(
            f"{MAX_GUARDED_STREAM_CHUNKS_SETTING} / {MAX_GUARDED_STREAM_CHUNKS_ENV} must be a whole number of "
            f"chunks (0 for no bound), got {raw!r}"
        ) from None
    if value < 0:
        raise ValueError(f"{MAX_GUARDED_STREAM_CHUNKS_SETTING} must be 0 (no bound) or more, got {value}")
    return value


class GuardedStreamLimit:
    """Counts the chunks one guarded stream holds; ``hold()`` raises once there are more than the bound."""

    __slots__ = ("_holder", "_limit", "_held")

    def __init__(self, holder: str) -> None:
        self._holder = holder
        self._limit = max_guarded_stream_chunks()
        self._held = 0

    def hold(self) -> None:
        """One more chunk held."""
        self._held += 1
        if self._limit and self._held > self._limit:
            raise GuardedStreamTooLongError(self._holder, self._limit)
