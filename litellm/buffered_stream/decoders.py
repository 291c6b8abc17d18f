"""Incremental decoders for streamed response bodies (sans-I/O).

Bytes go in as they arrive, in pieces of any size; complete events come out. Nothing here
does I/O, so the same decoders serve the sync and the async transport.
"""

from __future__ import annotations

from collections.abc import Callable


class LineDecoder:
    """Splits a byte stream into lines (``\\n``, ``\\r\\n`` or ``\\r``), keeping the unfinished tail."""

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes]:
        if not data:
            return []
        buffer = self._tail + data
        # A trailing "\r" may be the first half of "\r\n": hold it back until the next byte is known.
        held = b"\r" if buffer.endswith(b"\r") else b""
        if held:
            buffer = buffer[:-1]
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buffer.split(b"\n")
        self._tail = lines.pop() + held
        return lines

    def flush(self) -> list[bytes]:
        tail, self._tail = self._tail, b""
        if tail.endswith(b"\r"):
            return [tail[:-1]]
        return [tail] if tail else []


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
