"""The idle release: once per idle period, never while a request is in flight (real asyncio, real ASGI calls)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest

from litellm.proxy.idle_memory_release import (
    DEFAULT_IDLE_SECONDS,
    SETTING,
    IdleMemoryRelease,
    glibc_malloc_trim,
    idle_seconds_setting,
)

IDLE = 0.05


class Recorder:
    """The release function: records the requests in flight at each call."""

    def __init__(self, middleware: IdleMemoryRelease) -> None:
        self.middleware = middleware
        self.in_flight_at_calls: list[int] = []

    def __call__(self) -> int:
        self.in_flight_at_calls.append(self.middleware.releaser.in_flight)
        return 1


async def _app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    await asyncio.sleep(float(scope.get("seconds", 0)))


def _middleware(idle: float = IDLE) -> tuple[IdleMemoryRelease, Recorder]:
    middleware = IdleMemoryRelease(_app, idle_seconds=idle)
    recorder = Recorder(middleware)
    middleware.releaser.release = recorder
    return middleware, recorder


async def _request(middleware: IdleMemoryRelease, seconds: float = 0.0, kind: str = "http") -> None:
    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        return None

    await middleware({"type": kind, "seconds": seconds}, receive, send)


async def test_releases_once_after_the_last_request_and_the_delay() -> None:
    middleware, recorder = _middleware()
    await asyncio.gather(*(_request(middleware, 0.02 * i) for i in range(5)))
    assert recorder.in_flight_at_calls == []  # not before the delay
    await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == [0]
    await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == [0]  # at most once per idle period


async def test_a_request_within_the_delay_postpones_the_release() -> None:
    middleware, recorder = _middleware()
    await _request(middleware)
    await asyncio.sleep(IDLE / 2)
    long_request = asyncio.create_task(_request(middleware, IDLE * 4))
    await asyncio.sleep(IDLE * 2)
    assert recorder.in_flight_at_calls == []  # in flight: no release
    await long_request
    await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == [0]


async def test_each_idle_period_gets_one_release() -> None:
    middleware, recorder = _middleware()
    for _ in range(3):
        await _request(middleware)
        await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == [0, 0, 0]


async def test_no_release_before_any_request_nor_for_non_http_scopes() -> None:
    middleware, recorder = _middleware()
    await _request(middleware, kind="lifespan")
    await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == []


async def test_zero_turns_it_off() -> None:
    middleware, recorder = _middleware(idle=0)
    await _request(middleware)
    await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == []
    assert middleware.releaser.in_flight == 0


async def test_a_failing_request_still_leaves() -> None:
    async def failing(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    middleware, recorder = _middleware()
    middleware.app = failing
    with pytest.raises(RuntimeError):
        await _request(middleware)
    await asyncio.sleep(IDLE * 3)
    assert recorder.in_flight_at_calls == [0]


def test_setting() -> None:
    assert idle_seconds_setting({}) == DEFAULT_IDLE_SECONDS
    assert idle_seconds_setting({SETTING: "0"}) == 0
    assert idle_seconds_setting({SETTING: " 5.5 "}) == 5.5
    for bad in ("soon", "-1", "nan", "inf"):
        with pytest.raises(ValueError, match=SETTING):
            idle_seconds_setting({SETTING: bad})


def test_glibc_malloc_trim_runs_here() -> None:
    release = glibc_malloc_trim()
    if release is None:
        pytest.skip("no glibc on this platform")
    assert release() in (0, 1)
