"""How far an aiohttp connection to a backend reads ahead of the code that consumes its response body.

aiohttp buffers a response body in the connection's ``StreamReader`` until the consumer reads it, and pauses
reading the socket only once the buffer holds twice ``read_bufsize``. The aiohttp in this distribution's lock
defaults ``read_bufsize`` to 256 KiB, so every backend connection may hold up to 512 KiB of body ahead of its
consumer, plus what one socket read brings in. A stream from a backend that writes faster than the proxy forwards
(a fast model, or a proxy busy with many streams) fills that buffer, one small ``bytes`` object per HTTP chunk of
the SSE stream: with 16 such streams, about 8 MB of small objects. Python's small-object allocator keeps the
arenas they took after the streams end, so the proxy's RSS stays several MB above its pre-load level.

``AIOHTTP_READ_BUFSIZE`` (bytes, default 64 KiB, aiohttp's default before it was raised) bounds that read-ahead for
every aiohttp session litellm opens to a backend. It is read once, when litellm is imported, like upstream's other
``AIOHTTP_*`` settings; a value that is not a whole number of bytes >= 1024 stops the import with an error naming
the variable. It changes how much is buffered, not what is read: a consumer that keeps up never fills it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

SETTING: Final = "AIOHTTP_READ_BUFSIZE"
DEFAULT_READ_BUFSIZE: Final = 64 * 1024
MINIMUM_READ_BUFSIZE: Final = 1024


def aiohttp_read_bufsize(environ: Mapping[str, str] | None = None) -> int:
    """``read_bufsize`` for litellm's aiohttp sessions, from ``AIOHTTP_READ_BUFSIZE`` (bytes, at least 1024)."""
    raw: Final = (os.environ if environ is None else environ).get(SETTING, "").strip()
    if not raw:
        return DEFAULT_READ_BUFSIZE
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(
            f"{SETTING} must be a whole number of bytes (at least {MINIMUM_READ_BUFSIZE}), got {raw!r}"
        ) from None
    if size < MINIMUM_READ_BUFSIZE:
        raise ValueError(f"{SETTING} must be at least {MINIMUM_READ_BUFSIZE} bytes, got {raw!r}")
    return size


AIOHTTP_READ_BUFSIZE: Final = aiohttp_read_bufsize()
