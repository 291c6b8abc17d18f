"""AsyncChunkSource: one iterator per stream object, so reading a chunk per `async for` leaves nothing behind."""

from __future__ import annotations

import gc

from litellm.litellm_core_utils.stream_source import AsyncChunkSource


class GeneratorPerIteration:
    """Like openai's AsyncStream: ``__aiter__`` is an async generator over one shared iterator."""

    def __init__(self, items: list[int]) -> None:
        self.started = 0
        self._iterator = self._items(items)

    async def _items(self, items: list[int]):
        for item in items:
            yield item

    async def __aiter__(self):
        self.started += 1
        async for item in self._iterator:
            yield item


async def first(iterable) -> int | None:
    async for item in iterable:
        return item
    return None


async def test_one_generator_per_stream_and_the_same_chunks() -> None:
    stream = GeneratorPerIteration([1, 2, 3])
    source = AsyncChunkSource()
    assert [await first(source.of(stream)) for _ in range(4)] == [1, 2, 3, None]
    assert stream.started == 1


async def test_without_it_each_chunk_starts_and_abandons_a_generator() -> None:
    stream = GeneratorPerIteration([1, 2, 3])
    assert [await first(stream) for _ in range(3)] == [1, 2, 3]
    assert stream.started == 3
    gc.collect()


async def test_a_new_stream_object_gets_a_new_iterator() -> None:
    source = AsyncChunkSource()
    one, two = GeneratorPerIteration([1, 2]), GeneratorPerIteration([7, 8])
    assert await first(source.of(one)) == 1
    assert await first(source.of(two)) == 7
    assert await first(source.of(two)) == 8
