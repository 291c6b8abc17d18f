"""Client and backend input quoted in error messages, bounded.

An error message that echoes what a client sent or a backend streamed must not grow with it: a
2 MB field would otherwise come back as a 2 MB error (and fill the logs). Every message of this
package that quotes such input goes through ``quoted`` (a value) or ``clipped`` (a backend's message).
"""

from __future__ import annotations

import reprlib

#: The most characters of input an error message quotes.
QUOTE_LIMIT = 200

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = QUOTE_LIMIT
_repr.maxlevel = 3


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters; a cut string or bytes gives its whole length.

    Strings and bytes are cut before ``repr``, so a huge value is never copied whole.
    """
    if isinstance(value, (str, bytes, bytearray)):
        if len(value) <= limit:
            return repr(value)
        unit = "characters" if isinstance(value, str) else "bytes"
        return f"{value[:limit]!r}... ({len(value)} {unit})"
    text = _repr.repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... (cut)"


def clipped(text: object, limit: int = QUOTE_LIMIT) -> str:
    """A backend's own message as text (not ``repr``), cut to ``limit`` characters, with its whole length."""
    if not isinstance(text, str):
        return quoted(text, limit)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def clip_message(exception: BaseException, limit: int = 4 * QUOTE_LIMIT) -> None:
    """Cut, in place, the message of an exception that may quote a backend's stream (litellm's own stream errors).

    The exceptions it wraps (``original_exception``, the cause) are cut too: an error handler may report those.
    """
    seen: set[int] = set()
    pending: list[object] = [exception]
    while pending and len(seen) < 8:
        error = pending.pop()
        if isinstance(error, BaseException) and id(error) not in seen:
            seen.add(id(error))
            _clip_one(error, limit)
            pending += [getattr(error, "original_exception", None), error.__cause__, error.__context__]


def _clip_one(exception: BaseException, limit: int) -> None:
    message = getattr(exception, "message", None)
    if isinstance(message, str) and len(message) > limit:
        try:
            exception.message = clipped(message, limit)  # type: ignore[attr-defined]
        except AttributeError:
            pass
    if exception.args and isinstance(exception.args[0], str) and len(exception.args[0]) > limit:
        exception.args = (clipped(exception.args[0], limit), *exception.args[1:])
