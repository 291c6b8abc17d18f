"""The ``stream_chunk_retention`` setting: what a stream wrapper's chunk list starts as."""

from __future__ import annotations

import os
from typing import Any, Final

from litellm.litellm_core_utils.stream_accumulator.chunk_log import StreamChunkLog

RETENTION_ENV_VAR: Final = "LITELLM_STREAM_CHUNK_RETENTION"
FULL_RETENTION: Final = "full"
BOUNDED_RETENTION: Final = "bounded"


def stream_chunk_retention() -> str:
    """``"full"`` keeps every chunk of a stream (upstream behaviour, for debugging); default ``"bounded"``."""
    import litellm

    configured: Final = getattr(litellm, "stream_chunk_retention", None) or os.environ.get(RETENTION_ENV_VAR)
    return FULL_RETENTION if str(configured or "").strip().lower() == FULL_RETENTION else BOUNDED_RETENTION


def new_stream_chunk_log() -> list[Any]:
    """What ``CustomStreamWrapper.chunks`` starts as: bounded by default, a plain list with full retention."""
    return [] if stream_chunk_retention() == FULL_RETENTION else StreamChunkLog()
