"""Give freed heap memory back to the operating system when the proxy goes idle.

After a burst of long streams, every object of the requests is freed, but glibc's allocator keeps the
freed chunks of its heap mapped, so the process's RSS stays well above its pre-load level. ``malloc_trim(0)``
returns them. :class:`IdleMemoryRelease` (an ASGI middleware) counts the HTTP requests in flight; when the
count drops to zero and stays zero for ``LITELLM_IDLE_MEMORY_RELEASE_SECONDS`` (default 2; ``0`` turns it
off), it calls ``malloc_trim(0)`` once, on the event loop, so that no request runs meanwhile. A request
that arrives before the delay is over cancels the pending release; the next idle period gets its own.
Nothing runs per chunk. Where glibc is absent (musl, macOS) the release is a no-op.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from litellm.litellm_core_utils.upstream_surface import verbose_proxy_logger

SETTING = "LITELLM_IDLE_MEMORY_RELEASE_SECONDS"
DEFAULT_IDLE_SECONDS = 2.0

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def idle_seconds_setting(environ: MutableMapping[str, str] | None = None) -> float:
    """The delay from ``LITELLM_IDLE_MEMORY_RELEASE_SECONDS``: a number of seconds >= 0, ``0`` = off."""
    raw = (os.environ if environ is None else environ).get(SETTING, "").strip()
    if not raw:
        return DEFAULT_IDLE_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{SETTING} must be a number of seconds (0 turns it off), got {raw!r}") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{SETTING} must be a finite number of seconds >= 0 (0 turns it off), got {raw!r}")
    return seconds


def glibc_malloc_trim() -> Callable[[], int] | None:
    """``malloc_trim(0)`` of this process's C library, or ``None`` where it is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def release() -> int:
        result: int = trim(0)
        return result

    return release


class IdleReleaser:
    """Counts requests in flight; runs ``release`` once per idle period of ``idle_seconds``."""

    def __init__(self, idle_seconds: float, release: Callable[[], object] | None) -> None:
        self.idle_seconds = idle_seconds
        self.release = release
        self.in_flight = 0
        self.releases = 0
        self._pending: asyncio.TimerHandle | None = None
        self._released_this_idle = True  # nothing to give back before the first request

    @property
    def enabled(self) -> bool:
        return self.idle_seconds > 0 and self.release is not None

    def enter(self) -> None:
        self.in_flight += 1
        self._released_this_idle = False
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0 and self.enabled and not self._released_this_idle:
            self._pending = asyncio.get_running_loop().call_later(self.idle_seconds, self._release_if_idle)

    def _release_if_idle(self) -> None:
        self._pending = None
        if self.in_flight or self._released_this_idle or self.release is None:
            return
        self._released_this_idle = True
        self.releases += 1
        returned = self.release()
        verbose_proxy_logger.debug("idle for %ss: malloc_trim(0) returned %s", self.idle_seconds, returned)


class IdleMemoryRelease:
    """ASGI middleware: ``malloc_trim(0)`` once the proxy has served no HTTP request for a short delay."""

    def __init__(self, app: ASGIApp, idle_seconds: float | None = None) -> None:
        self.app = app
        release = glibc_malloc_trim()
        if release is None:
            verbose_proxy_logger.debug("%s: no glibc malloc_trim here, freed memory is not released", SETTING)
        self.releaser = IdleReleaser(idle_seconds_setting() if idle_seconds is None else idle_seconds, release)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or not self.releaser.enabled:
            await self.app(scope, receive, send)
            return
        self.releaser.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.releaser.leave()
