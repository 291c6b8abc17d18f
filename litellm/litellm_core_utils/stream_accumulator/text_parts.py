"""A string built by appending, at one list slot per block of pieces instead of one per piece."""

from __future__ import annotations

from typing import Final

# Joining many tiny strings at the end costs a list slot per chunk; fold them every so often.
_COMPACT_AT: Final = 256


class TextParts:
    """Small pieces are joined into blocks every ``_COMPACT_AT`` appends, so the text costs one list slot per
    block instead of one per chunk, and joining stays linear."""

    __slots__ = ("_blocks", "_tail")

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._tail: list[str] = []

    def add(self, part: str) -> None:
        self._tail.append(part)
        if len(self._tail) >= _COMPACT_AT:
            self._blocks.append("".join(self._tail))
            self._tail = []

    def text(self) -> str:
        return "".join(self._blocks) + "".join(self._tail)
