"""``StreamChunkLog``: what ``CustomStreamWrapper.chunks`` holds instead of every chunk of the stream.

It is a ``list`` façade: it subclasses ``list`` only so that readers checking ``isinstance(chunks, list)`` (the
router's fallback wrapper, the proxy's disconnect billing, the Anthropic adapters, which hand the object on to
``stream_chunk_builder``) keep working, and keeps nothing in the list's own storage. Each list operation either
gives the answer the full list would give or raises ``ChunkLogOperationError`` naming the operation, why the log
cannot answer and what to use instead:

==========================================  ===================================================================
works as on the full list                   ``append``, ``extend``, ``+=``, ``len``, ``bool``, ``clear()`` (starts
                                            over), ``[0]``, ``[-1]``, ``[-2]`` (and the same positions counted
                                            from the front, slices made of them), ``==`` / ``!=`` when the
                                            answer follows from the length (``log == []``), ``copy()``,
                                            ``copy.copy``, ``copy.deepcopy`` and ``pickle`` (an independent log
                                            with the same fold state)
raises ``ChunkLogOperationError``           iteration (``for``, ``list()``, ``reversed``, unpacking), ``in``,
(an ``IndexError`` for positions)           ``index``, ``count``, ``+``, ``*``, ``<`` and the other orderings,
                                            ``==`` between equal lengths, any other position, ``insert``,
                                            ``remove``, ``pop``, ``sort``, ``reverse``, item assignment and
                                            deletion, ``*=``
==========================================  ===================================================================

Iteration always raises, whatever the length: a reader that needs every chunk fails in its first test, not on the
first stream longer than three chunks. C code that takes a list subclass through iteration (``json.dumps``,
``str.join``) fails too, with a ``TypeError`` in its own words. ``tests/test_litellm/litellm_core_utils/
test_chunk_log_readers.py`` lists every upstream reader of ``.chunks``, so a new one fails by name when the pin
moves. ``litellm.stream_chunk_retention = "full"`` gives a plain list instead.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, SupportsIndex, overload

from litellm.litellm_core_utils.stream_accumulator.accumulator import StreamAccumulator
from litellm.litellm_core_utils.stream_accumulator.chunk_fields import choice0_has_generated_content
from litellm.litellm_core_utils.stream_accumulator.usage_fold import TotalUsageFold

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.utils import ModelResponse, TextCompletionResponse, Usage

_FULL_RETENTION_HINT: Final = (
    "or set litellm.stream_chunk_retention = 'full' (LITELLM_STREAM_CHUNK_RETENTION=full) to keep every chunk "
    "in a plain list"
)
_NOT_HELD: Final = "the log keeps only the first and the last two chunks of a stream; the others were folded"
_READ_INSTEAD: Final = (
    "use build() for the assembled response, total_usage() for the usage, has_generated_content, "
    "len(), or [0] / [-1] / [-2] for the chunks it holds"
)
_FOLDED: Final = "a chunk is folded into the log's accumulator when the next one arrives and cannot be changed"
_WRITE_INSTEAD: Final = "append() and extend() are its writes, clear() starts over"


class ChunkLogOperationError(TypeError):
    """A list operation ``StreamChunkLog`` cannot honour, with why and what to use instead."""

    def __init__(self, operation: str, why: str, instead: str) -> None:
        super().__init__(f"StreamChunkLog: {operation} is not supported: {why}; {instead}, {_FULL_RETENTION_HINT}")
        self.operation = operation


class ChunkNotHeldError(ChunkLogOperationError, IndexError):
    """A position the log does not hold (it is also an ``IndexError``, as for a list)."""


def _needs_every_chunk(operation: str) -> NoReturn:
    raise ChunkLogOperationError(operation, _NOT_HELD, _READ_INSTEAD)


def _changes_folded_chunks(operation: str) -> NoReturn:
    raise ChunkLogOperationError(operation, _FOLDED, _WRITE_INSTEAD)


def _restore(state: dict[str, Any]) -> StreamChunkLog:
    """Pickle's way back to a log (``StreamChunkLog.__reduce__``)."""
    log: Final = StreamChunkLog.__new__(StreamChunkLog)
    log.__dict__.update(state)
    return log


class StreamChunkLog(list[Any]):
    """A stream's chunks as readers use them, without keeping them (see the module docstring for each operation).

    ``append`` counts the chunk, keeps it as ``[-1]`` and folds the chunk before it into ``accumulator``
    (one step late: a consumer that edits a yielded chunk in place does so before it asks for the next).
    ``build()`` and ``total_usage()`` fold the held chunk first and answer from the accumulator.
    """

    def __init__(self) -> None:
        super().__init__()
        self._start()

    def _start(self) -> None:
        # CustomStreamWrapper appends chunks in the order it creates them, which is the order of their
        # created_at stamps: the sort upstream applied to the finished list is a no-op there.
        self.accumulator = StreamAccumulator(ordered=True)
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

    def extend(self, chunks: Iterable[object]) -> None:
        for chunk in chunks:
            self.append(chunk)

    def __iadd__(self, chunks: Iterable[object]) -> StreamChunkLog:  # type: ignore[misc]
        self.extend(chunks)
        return self

    def clear(self) -> None:
        """Forget every chunk: the log is empty again, with a new accumulator."""
        self._start()

    def _fold_last(self) -> None:
        if not self._last_folded:
            self.accumulator.add(self._last)
            self._last_folded = True

    def insert(self, index: SupportsIndex, chunk: object) -> NoReturn:
        _changes_folded_chunks("insert()")

    def remove(self, chunk: object) -> NoReturn:
        _changes_folded_chunks("remove()")

    def pop(self, index: SupportsIndex = -1) -> NoReturn:
        _changes_folded_chunks("pop()")

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> NoReturn:
        _changes_folded_chunks("sort()")

    def reverse(self) -> NoReturn:
        _changes_folded_chunks("reverse()")

    def __setitem__(self, index: Any, value: Any) -> NoReturn:
        _changes_folded_chunks("item assignment (log[i] = chunk)")

    def __delitem__(self, index: Any) -> NoReturn:
        _changes_folded_chunks("item deletion (del log[i])")

    def __imul__(self, times: SupportsIndex) -> NoReturn:
        _changes_folded_chunks("*=")

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

    @property
    def held(self) -> int:
        """How many chunks the log keeps (three at most, whatever the stream's length)."""
        return len(self._held())

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def _held(self) -> dict[int, object]:
        """The chunks it holds, by position."""
        if self._count == 0:
            return {}
        last: Final = self._count - 1
        held: Final = {position: chunk for position, chunk in ((0, self._first), (last - 1, self._previous))}
        held[last] = self._last
        return {position: chunk for position, chunk in held.items() if position >= 0}

    @overload
    def __getitem__(self, index: SupportsIndex) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        held: Final = self._held()
        if isinstance(index, slice):
            positions = range(*index.indices(self._count))
            if any(position not in held for position in positions):
                raise ChunkNotHeldError(
                    f"the slice [{index.start}:{index.stop}:{index.step}]", _NOT_HELD, _READ_INSTEAD
                )
            return [held[position] for position in positions]
        position = index.__index__()
        if position < 0:
            position += self._count
        if not 0 <= position < self._count:
            raise IndexError("list index out of range")
        if position not in held:
            raise ChunkNotHeldError(f"position {index.__index__()} of {self._count}", _NOT_HELD, _READ_INSTEAD)
        return held[position]

    def __iter__(self) -> Iterator[Any]:
        _needs_every_chunk("iteration (for, list(), unpacking)")

    def __reversed__(self) -> Iterator[Any]:
        _needs_every_chunk("reversed()")

    def __contains__(self, chunk: object) -> bool:
        _needs_every_chunk("the in operator")

    def index(self, chunk: object, start: SupportsIndex = 0, stop: SupportsIndex = 2**63 - 1) -> NoReturn:
        _needs_every_chunk("index()")

    def count(self, chunk: object) -> NoReturn:
        _needs_every_chunk("count()")

    def __add__(self, other: Any) -> NoReturn:
        _needs_every_chunk("+")

    def __radd__(self, other: Any) -> NoReturn:
        _needs_every_chunk("+")

    def __mul__(self, times: SupportsIndex) -> NoReturn:
        _needs_every_chunk("*")

    def __rmul__(self, times: SupportsIndex) -> NoReturn:
        _needs_every_chunk("*")

    def __lt__(self, other: Any) -> NoReturn:
        _needs_every_chunk("<")

    def __le__(self, other: Any) -> NoReturn:
        _needs_every_chunk("<=")

    def __gt__(self, other: Any) -> NoReturn:
        _needs_every_chunk(">")

    def __ge__(self, other: Any) -> NoReturn:
        _needs_every_chunk(">=")

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, list) or len(other) != self._count:
            return False
        if self._count == 0:
            return True
        _needs_every_chunk("== with a list of the same length")

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    # -- copying -----------------------------------------------------------------------------------
    def copy(self) -> StreamChunkLog:
        """An independent log with the same chunks and fold state (``list.copy``'s shallow copy)."""
        return self.__copy__()

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
        # list's default deepcopy would iterate the log and append its chunks on top of the copied state
        twin: Final = StreamChunkLog.__new__(StreamChunkLog)
        memo[id(self)] = twin
        twin.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return twin

    def __reduce__(self) -> tuple[Callable[[dict[str, Any]], StreamChunkLog], tuple[dict[str, Any]]]:
        # list's default reduce would iterate the log for its items
        return _restore, (dict(self.__dict__),)

    def __repr__(self) -> str:
        return f"<StreamChunkLog chunks={self._count} held={self.held}>"
