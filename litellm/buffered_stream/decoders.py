"""Incremental decoders for streamed response bodies (sans-I/O).

Bytes go in as they arrive, in pieces of any size; complete events come out. Nothing here
does I/O, so the same decoders serve the sync and the async transport.
"""

from __future__ import annotations

from collections.abc import Callable


class LineDecoder:
    """Splits a byte stream into lines (``\\n``, ``\\r\\n`` or ``\\r``), keeping the unfinished line.

    The unfinished line is kept as a list of pieces and joined once, when it ends (as httpx's
    ``LineDecoder`` does), so a line of any size costs time linear in its size however small the
    reads it arrives in.
    """

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        # A trailing "\r" may be the first half of "\r\n": held back until the next byte is known.
        self._held_cr = False

    def feed(self, data: bytes) -> list[bytes]:
        if not data:
            return []
        if self._held_cr:
            data = b"\r" + data
            self._held_cr = False
        if data.endswith(b"\r"):
            self._held_cr = True
            data = data[:-1]
        if b"\n" not in data and b"\r" not in data:
            if data:
                self._pieces.append(data)
            return []
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = data.split(b"\n")
        if self._pieces:
            self._pieces.append(lines[0])
            lines[0] = b"".join(self._pieces)
            self._pieces = []
        tail = lines.pop()
        if tail:
            self._pieces.append(tail)
        return lines

    def flush(self) -> list[bytes]:
        tail = b"".join(self._pieces)
        ended = self._held_cr
        self._pieces, self._held_cr = [], False
        return [tail] if tail or ended else []


class SSEDecoder:
    """Server-sent events: yields ``(event, data)`` for each event terminated by a blank line.

    Only the ``event`` and ``data`` fields matter to chat streams; comments (``:``) and other
    fields are skipped. An event that is still open when the stream ends is not returned by
    ``feed``: ``flush`` returns it, and the caller decides whether a missing blank line matters.
    """

    def __init__(self) -> None:
        self._lines = LineDecoder()
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        return self._decode(self._lines.feed(data))

    def flush(self) -> list[tuple[str, bytes]]:
        events = self._decode(self._lines.flush())
        if self._data:
            events.append((self._event, b"\n".join(self._data)))
            self._event, self._data = "", []
        return events

    def _decode(self, lines: list[bytes]) -> list[tuple[str, bytes]]:
        events: list[tuple[str, bytes]] = []
        for line in lines:
            if not line:
                if self._data:
                    events.append((self._event, b"\n".join(self._data)))
                self._event, self._data = "", []
                continue
            field, _, value = line.partition(b":")
            if value.startswith(b" "):
                value = value[1:]
            if field == b"data":
                self._data.append(value)
            elif field == b"event":
                self._event = value.decode("utf-8", "replace")
        return events


class NDJSONDecoder:
    """Newline-delimited JSON (Ollama's native stream): one document per non-empty line."""

    def __init__(self) -> None:
        self._lines = LineDecoder()

    def feed(self, data: bytes) -> list[bytes]:
        return [line for line in self._lines.feed(data) if line.strip()]

    def flush(self) -> list[bytes]:
        return [line for line in self._lines.flush() if line.strip()]


def _json_loads() -> Callable[[bytes], object]:
    try:
        import orjson

        return orjson.loads
    except ImportError:  # orjson comes with the proxy extra; the SDK alone uses the standard library
        import json

        return json.loads


def _json_dumps() -> Callable[[object], bytes]:
    try:
        import orjson

        return orjson.dumps
    except ImportError:
        import json

        return lambda obj: json.dumps(obj, separators=(",", ":")).encode()


loads: Callable[[bytes], object] = _json_loads()
dumps: Callable[[object], bytes] = _json_dumps()
