"""StreamChunkLog as a list façade: every list operation either answers as the full list would or raises an error
that names the operation, why, and what to use instead."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from litellm.litellm_core_utils.stream_accumulator import StreamChunkLog
from litellm.litellm_core_utils.stream_accumulator.chunk_log import ChunkLogOperationError, ChunkNotHeldError
from litellm.types.utils import Delta, ModelResponseStream, StreamingChoices, Usage

MESSAGES = [{"role": "user", "content": "hi"}]


def _chunk(content: str | None, **kwargs: Any) -> ModelResponseStream:
    return ModelResponseStream(
        id="chatcmpl-1",
        created=1700000000,
        model="gpt-4o-mini",
        choices=[StreamingChoices(index=0, delta=Delta(content=content), finish_reason=kwargs.pop("finish", None))],
        **kwargs,
    )


def _log(count: int) -> tuple[StreamChunkLog, list[ModelResponseStream]]:
    chunks = [_chunk(f"w{i} ") for i in range(count)]
    log = StreamChunkLog()
    for chunk in chunks:
        log.append(chunk)
    return log, chunks


def _content(log: StreamChunkLog) -> str:
    built = log.build(messages=MESSAGES)
    assert built is not None
    return str(built.choices[0].message.content)  # type: ignore[union-attr]


# -- operations that work as on the full list ---------------------------------------------------------


def test_it_is_a_list_for_isinstance_readers_and_stores_nothing_in_the_list_itself() -> None:
    log, _ = _log(5)
    assert isinstance(log, list)
    assert list.__len__(log) == 0  # the list's own storage stays empty: the façade answers every method


def test_append_extend_and_iadd_count_and_fold_every_chunk() -> None:
    log, chunks = _log(2)
    log.extend([_chunk("x "), _chunk("y ")])
    log += [_chunk("z")]
    assert len(log) == 5 and bool(log)
    assert _content(log) == "w0 w1 x y z"
    assert log[0] is chunks[0]


def test_len_and_bool_are_the_full_lists() -> None:
    empty = StreamChunkLog()
    assert len(empty) == 0 and not empty and empty.held == 0
    log, _ = _log(1000)
    assert len(log) == 1000 and log and log.held == 3


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_first_and_last_two_positions_from_either_end(count: int) -> None:
    log, chunks = _log(count)
    assert log[0] is chunks[0] and log[-1] is chunks[-1] and log[count - 1] is chunks[-1]
    if count >= 2:
        assert log[-2] is chunks[-2] and log[count - 2] is chunks[-2]
    with pytest.raises(IndexError, match="list index out of range"):
        log[count]
    with pytest.raises(IndexError, match="list index out of range"):
        log[-count - 1]


def test_slices_of_held_positions() -> None:
    log, chunks = _log(10)
    assert log[-2:] == [chunks[8], chunks[9]]
    assert log[:1] == [chunks[0]]
    assert log[::9] == [chunks[0], chunks[9]]
    assert log[3:3] == []
    short, short_chunks = _log(3)
    assert short[:] == short_chunks


def test_a_position_or_slice_it_does_not_hold_raises_an_index_error_naming_it() -> None:
    log, _ = _log(10)
    with pytest.raises(ChunkNotHeldError, match=r"position 4 of 10 .*first and the last two.*build\(\)") as caught:
        log[4]
    assert isinstance(caught.value, IndexError)
    with pytest.raises(ChunkNotHeldError, match=r"slice \[None:None:None\].*stream_chunk_retention = 'full'"):
        log[:]


def test_clear_starts_over() -> None:
    log, _ = _log(4)
    log.clear()
    assert len(log) == 0 and not log and log.build() is None
    log.append(_chunk("again"))
    assert _content(log) == "again"


def test_equality_that_follows_from_the_length() -> None:
    log, _ = _log(3)
    assert log == log and not (log != log)
    assert log != [] and not (log == [])
    assert log != [1, 2] and log != "abc"
    assert StreamChunkLog() == [] and not (StreamChunkLog() != [])
    with pytest.raises(ChunkLogOperationError, match="== with a list of the same length"):
        _ = log == [1, 2, 3]


def test_copy_copy_module_and_deepcopy_give_independent_logs() -> None:
    log, _ = _log(4)
    for twin in (log.copy(), copy.copy(log), copy.deepcopy(log)):
        assert isinstance(twin, StreamChunkLog) and twin is not log
        assert len(twin) == 4 and _content(twin) == "w0 w1 w2 w3 "
        twin.append(_chunk("more"))
        assert len(twin) == 5 and len(log) == 4
    assert _content(log) == "w0 w1 w2 w3 "
    shallow = log.copy()
    assert shallow[-1] is log[-1]  # the chunks are shared, the fold state is not


def test_pickle_round_trip_keeps_the_fold() -> None:
    log, _ = _log(6)
    log.append(_chunk(None, usage=Usage(prompt_tokens=2, completion_tokens=6, total_tokens=8)))
    restored = pickle.loads(pickle.dumps(log))
    assert isinstance(restored, StreamChunkLog)
    assert len(restored) == 7 and restored.held == 3
    assert _content(restored) == _content(log)
    assert restored.total_usage().total_tokens == 8
    restored.append(_chunk("tail"))
    assert len(restored) == 8 and len(log) == 7


def test_repr_says_what_it_holds() -> None:
    log, _ = _log(9)
    assert repr(log) == "<StreamChunkLog chunks=9 held=3>"


def test_unhashable_like_a_list() -> None:
    with pytest.raises(TypeError):
        hash(StreamChunkLog())


# -- operations that need every chunk: always refused, whatever the length -----------------------------

NEEDS_EVERY_CHUNK: dict[str, Callable[[StreamChunkLog], object]] = {
    "iteration": lambda log: list(log),
    "iteration ": lambda log: [c for c in log],
    "iteration  ": lambda log: tuple(log),
    "reversed()": lambda log: reversed(log),
    "the in operator": lambda log: log[0] in log,
    "index()": lambda log: log.index(log[0]),
    "count()": lambda log: log.count(log[0]),
    "+": lambda log: log + [1],
    "+ ": lambda log: [1] + log,
    "*": lambda log: log * 2,
    "* ": lambda log: 2 * log,
    "<": lambda log: log < [],
    "<=": lambda log: log <= [],
    ">": lambda log: log > [],
    ">=": lambda log: log >= [],
}


@pytest.mark.parametrize("count", [1, 10])
@pytest.mark.parametrize("operation", sorted(NEEDS_EVERY_CHUNK))
def test_operations_that_need_every_chunk_raise_naming_the_operation(operation: str, count: int) -> None:
    log, _ = _log(count)
    with pytest.raises(ChunkLogOperationError) as caught:
        NEEDS_EVERY_CHUNK[operation](log)
    message = str(caught.value)
    assert message.startswith(f"StreamChunkLog: {operation.strip()}")
    assert "first and the last two" in message and "build()" in message and "stream_chunk_retention" in message
    assert caught.value.operation.startswith(operation.strip())
    assert len(log) == count  # nothing changed


def test_unpacking_is_iteration() -> None:
    log, _ = _log(3)
    with pytest.raises(ChunkLogOperationError, match="iteration"):
        a, b, c = log


# -- writes other than append: refused, the log unchanged ----------------------------------------------

CHANGES_FOLDED_CHUNKS: dict[str, Callable[[StreamChunkLog], object]] = {
    "insert()": lambda log: log.insert(0, _chunk("x")),
    "remove()": lambda log: log.remove(log[0]),
    "pop()": lambda log: log.pop(),
    "sort()": lambda log: log.sort(),
    "reverse()": lambda log: log.reverse(),
    "item assignment": lambda log: log.__setitem__(0, _chunk("x")),
    "item deletion": lambda log: log.__delitem__(0),
    "*=": lambda log: log.__imul__(2),
}


@pytest.mark.parametrize("operation", sorted(CHANGES_FOLDED_CHUNKS))
def test_writes_that_would_change_folded_chunks_raise(operation: str) -> None:
    log, chunks = _log(5)
    with pytest.raises(ChunkLogOperationError) as caught:
        CHANGES_FOLDED_CHUNKS[operation](log)
    message = str(caught.value)
    assert message.startswith(f"StreamChunkLog: {operation}")
    assert "cannot be changed" in message and "append() and extend()" in message
    assert len(log) == 5 and log[-1] is chunks[-1] and _content(log) == "w0 w1 w2 w3 w4 "


def test_item_assignment_statements_raise_too() -> None:
    log, _ = _log(2)
    with pytest.raises(ChunkLogOperationError, match="item assignment"):
        log[0] = _chunk("x")
    with pytest.raises(ChunkLogOperationError, match="item deletion"):
        del log[0]
    with pytest.raises(ChunkLogOperationError, match=r"\*="):
        log *= 2


def test_c_level_readers_fail_too_though_with_their_own_message() -> None:
    """json's encoder and str.join take a list subclass through iteration, so they fail too (a TypeError, but
    with their own words: C code replaces the message)."""
    log, _ = _log(3)
    with pytest.raises(TypeError):
        json.dumps(log)
    with pytest.raises(TypeError):
        "".join(log)
