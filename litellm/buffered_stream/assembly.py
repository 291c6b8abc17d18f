"""What every wire's assembler shares (sans-I/O): failures, event checks, string and delta merging, a base class.

The assemblers (``assemblers``: OpenAI chat, Anthropic messages, Ollama chat; ``responses``;
``text_completion``) subclass ``SSEAssembler`` or ``NDJSONAssembler``, which decode the framing, count
the events and hand each one to ``_on_event``. Their handlers are wrapped by ``event_handler`` and
``finisher``: an event that lacks what it must carry (``Malformed``) fails the stream naming it
(``StreamFailed``), and any other exception is a bug of ours, logged as one and propagated unchanged.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from litellm.buffered_stream.decoders import NDJSONDecoder, SSEDecoder, loads
from litellm.buffered_stream.quoting import quoted

Json = dict[str, Any]

BAD_GATEWAY = 502

_logger = logging.getLogger("LiteLLM")


class StreamFailed(Exception):
    """The backend stream cannot be turned into a complete answer."""

    def __init__(self, message: str, status_code: int = BAD_GATEWAY, body: Json | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.body = body


class Malformed(Exception):
    """The event being handled lacks what it must carry; reported by ``event_handler`` with the event."""


def quote(data: bytes) -> str:
    """``data`` for an error message: at most ``QUOTE_LIMIT`` bytes of it, and how much was cut."""
    return quoted(data)


def parse(data: bytes) -> Json:
    try:
        value = loads(data)
    except ValueError as e:
        raise Malformed("unparseable (not JSON)") from e
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


_TYPE_NAMES = {dict: "an object", list: "an array", str: "a string", int: "an integer"}


_T = TypeVar("_T")


def expect(value: object, kind: type[_T], what: str) -> _T:
    """``value`` if it is a ``kind`` (``bool`` is not an integer), else the event is malformed."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Malformed(f"{what} is not {_TYPE_NAMES[kind]}: {quote(repr(value).encode())}")
    return value


def optional(value: object, kind: type[_T], what: str) -> _T | None:
    return None if value is None else expect(value, kind, what)


_A = TypeVar("_A", bound="EventStreamAssembler")
_LOGGED = "_litellm_buffered_stream_logged"


def log_our_bug(error: Exception, where: str) -> None:
    """Log an exception of our own code once, as what it is: a bug in litellm, not the backend's fault."""
    if getattr(error, _LOGGED, False):
        return
    _logger.exception(
        "buffered_stream: internal error in %s (a bug in litellm, not a problem with the backend's data)", where
    )
    try:
        setattr(error, _LOGGED, True)
    except AttributeError:  # an exception type without attributes: logged again if it passes another guard
        pass


def event_handler(handler: Callable[[_A, str, bytes], None]) -> Callable[[_A, str, bytes], None]:
    """Number the events; a malformed one fails the stream naming it, a bug of ours is logged as one."""

    @functools.wraps(handler)
    def wrapper(self: _A, event: str, payload: bytes) -> None:
        self._events += 1
        try:
            handler(self, event, payload)
        except Malformed as e:
            what = f"{event} event" if event else self.unit
            raise StreamFailed(
                f"buffered_stream: the backend sent a malformed {what} (#{self._events} of the stream): "
                f"{e}: {quote(payload)}"
            ) from e
        except StreamFailed:
            raise
        except Exception as e:
            log_our_bug(e, f"litellm's {self.wire} assembler at event #{self._events}")
            raise

    return wrapper


def finisher(finish: Callable[[_A], Json]) -> Callable[[_A], Json]:
    """``finish`` with the same split as ``event_handler``: our own exceptions are logged as our bugs."""

    @functools.wraps(finish)
    def wrapper(self: _A) -> Json:
        try:
            return finish(self)
        except Malformed as e:
            raise StreamFailed(f"buffered_stream: the backend stream is malformed at its end: {e}") from e
        except StreamFailed:
            raise
        except Exception as e:
            log_our_bug(e, f"litellm's {self.wire} assembler at the end of the stream")
            raise

    return wrapper


#: Keys whose later value replaces the earlier one instead of being concatenated.
_REPLACED_KEYS = frozenset({"index", "type", "id", "name", "role", "expires_at"})


class Text(list[str]):
    """The pieces of a streamed string, joined once at the end (``+`` per chunk would copy the text each time)."""


def append_text(into: Json, key: str, text: str) -> None:
    current = into.get(key)
    if isinstance(current, Text):
        current.append(text)
    elif isinstance(current, str):
        into[key] = Text((current, text))
    else:
        into[key] = Text((text,))


def joined(value: Any) -> Any:
    """``value`` with every accumulated string joined, in place for containers."""
    if isinstance(value, Text):
        return "".join(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                value[key] = joined(item)
    elif isinstance(value, list):
        value[:] = [joined(item) for item in value]
    return value


def merge_delta(into: Json, delta: Json) -> None:
    """Merge one streamed delta into the accumulated object.

    Strings concatenate (content, arguments, reasoning), except identifiers and types, which the
    latest non-empty value replaces; objects merge recursively; lists of objects that carry an
    ``index`` merge entry by entry; other lists extend; ``None`` changes nothing.
    Concatenated strings stay in pieces until ``joined``. (OpenAI tool calls do not come here:
    ``OpenAIChatAssembler`` merges them by the rules of ``chat_chunk_merge``.)
    """
    for key, value in delta.items():
        if value is None:
            continue
        current = into.get(key)
        if isinstance(value, str):
            if key in _REPLACED_KEYS or not (current is None or isinstance(current, (str, Text))):
                if value or current is None:
                    into[key] = value
            else:
                append_text(into, key, value)
        elif current is None:
            if isinstance(value, dict):
                into[key] = {}
                merge_delta(into[key], value)
            elif isinstance(value, list):
                into[key] = []
                _merge_list(into[key], value)
            else:
                into[key] = value
        elif isinstance(value, dict) and isinstance(current, dict):
            merge_delta(current, value)
        elif isinstance(value, list) and isinstance(current, list) and not isinstance(current, Text):
            _merge_list(current, value)
        else:
            into[key] = value


def _merge_list(into: list[Any], items: list[Any]) -> None:
    for item in items:
        if isinstance(item, dict) and "index" in item:
            for existing in into:
                if isinstance(existing, dict) and existing.get("index") == item["index"]:
                    merge_delta(existing, item)
                    break
            else:
                entry: Json = {}
                merge_delta(entry, item)
                into.append(entry)
        else:
            into.append(item)


# --------------------------------------------------------------------------------------------
# The base of every assembler
# --------------------------------------------------------------------------------------------


class EventStreamAssembler:
    """One stream's assembly: the event count, and the hooks a wire's assembler fills in."""

    #: The wire's name, in the log line of a bug of ours.
    wire: ClassVar[str]
    #: What one event is called in a malformed event's error, when the event has no name.
    unit: ClassVar[str] = "stream event"

    def __init__(self) -> None:
        self._events = 0

    def feed(self, data: bytes) -> None:
        raise NotImplementedError

    def _on_event(self, event: str, payload: bytes) -> None:
        raise NotImplementedError

    def finish(self) -> Json:
        raise NotImplementedError

    @staticmethod
    def error_body(message: str) -> Json:
        """The error body the backend's API would send for ``message`` (the OpenAI shape unless a wire says)."""
        return {"error": {"message": message, "type": "bad_gateway", "code": "buffered_stream_incomplete"}}


class SSEAssembler(EventStreamAssembler):
    """An assembler of a server-sent events stream; ``event_names``: its handler is given each event's name."""

    event_names: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._sse = SSEDecoder()

    def feed(self, data: bytes) -> None:
        for event, payload in self._sse.feed(data):
            self._on_event(event if self.event_names else "", payload)

    def _flush(self) -> None:
        """Hand on what the stream's last bytes left in the decoder (from ``finish``)."""
        for event, payload in self._sse.flush():
            self._on_event(event if self.event_names else "", payload)


class NDJSONAssembler(EventStreamAssembler):
    """An assembler of a newline-delimited JSON stream: each line is one (unnamed) event."""

    unit = "stream line"

    def __init__(self) -> None:
        super().__init__()
        self._lines = NDJSONDecoder()

    def feed(self, data: bytes) -> None:
        for line in self._lines.feed(data):
            self._on_event("", line)

    def _flush(self) -> None:
        for line in self._lines.flush():
            self._on_event("", line)
