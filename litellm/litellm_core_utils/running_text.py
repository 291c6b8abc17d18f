"""A string that grows by appending, for text folded from a stream chunk by chunk.

``str += piece`` on an attribute copies the whole string at every chunk (CPython only grows a string in place
when it is a local variable): quadratic time, and an allocation the size of the text so far per chunk, which the
allocator keeps after a long stream. ``RunningText`` keeps the pieces joined in blocks (the accumulator's
``TextParts``) and joins them when the text is read.
"""

from __future__ import annotations

from litellm.litellm_core_utils.stream_accumulator.text_parts import TextParts


class RunningText:
    """``add(piece)`` appends; ``str(text)`` is everything added, in order."""

    __slots__ = ("_parts",)

    def __init__(self, initial: str = "") -> None:
        self._parts = TextParts()
        if initial:
            self._parts.add(initial)

    def add(self, piece: str) -> None:
        self._parts.add(piece)

    def __str__(self) -> str:
        return self._parts.text()
