"""One async iterator per provider stream, for a wrapper that reads it one chunk per ``__anext__``.

``CustomStreamWrapper.__anext__`` reads its provider stream with ``async for chunk in
self.completion_stream`` and returns after the first chunk it can serve. When the stream's
``__aiter__`` is an async generator function (openai's ``AsyncStream``, the stream of every
OpenAI-compatible backend), each call starts a new generator over the shared underlying iterator and
abandons it, suspended, holding the chunk it yielded. The event loop's async-generator finalizer then
schedules an ``aclose()`` task for each one, and on a fast backend those queue up (with their chunks)
until the proxy next waits for the network: megabytes per stream. ``AsyncChunkSource`` calls
``__aiter__`` once per stream object and hands the same iterator back every time: the chunks are the
same and nothing is left to finalize. A stream whose ``__aiter__`` returns itself (most of litellm's
own iterators) is read exactly as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, TypeVar, cast

_T = TypeVar("_T")


class AsyncChunkSource:
    """``aiter(stream)``, made once per stream object."""

    __slots__ = ("_stream", "_iterator")

    def __init__(self) -> None:
        self._stream: object = None
        self._iterator: AsyncIterator[Any] | None = None

    def of(self, stream: AsyncIterable[_T]) -> AsyncIterator[_T]:
        """The iterator of ``stream``: the one made earlier when it is the same object, else a new one."""
        if self._iterator is None or self._stream is not stream:
            self._iterator = stream.__aiter__()
            self._stream = stream
        return cast("AsyncIterator[_T]", self._iterator)
