"""``StreamChunkLog``: what ``CustomStreamWrapper.chunks`` holds instead of every chunk of the stream."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, SupportsIndex, cast, overload

from litellm.litellm_core_utils.stream_accumulator.accumulator import StreamAccumulator
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import choice0_has_generated_content
from litellm.litellm_core_utils.stream_accumulator.usage_fold import TotalUsageFold

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.utils import ModelResponse, TextCompletionResponse, Usage

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

    def __iadd__(self, chunks: object) -> StreamChunkLog:  # type: ignore[misc]
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
            return TotalUsageFold.of([*accumulator.retained, self._last]).usage()
        preview: Final = accumulator.total.copy()
        preview.fold(self._last)
        return preview.usage()

    @property
    def has_generated_content(self) -> bool:
        if not self._last_folded and choice0_has_generated_content(self._last):
            return True
        if self.accumulator.retained is not None:
            return any(choice0_has_generated_content(chunk) for chunk in self.accumulator.retained)
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
