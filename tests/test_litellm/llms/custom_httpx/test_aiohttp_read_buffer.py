"""AIOHTTP_READ_BUFSIZE: the setting, and the read-ahead of the aiohttp sessions litellm opens to a backend.

The sessions are checked through aiohttp's public ``StreamReader.get_read_buffer_limits()`` on a real response
from a server on 127.0.0.1: (low water, high water) = (read_bufsize, 2 x read_bufsize).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession

from litellm.llms.custom_httpx.aiohttp_read_buffer import (
    AIOHTTP_READ_BUFSIZE,
    DEFAULT_READ_BUFSIZE,
    MINIMUM_READ_BUFSIZE,
    SETTING,
    aiohttp_read_bufsize,
)
from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler
from litellm.proxy.proxy_server import initialize_shared_aiohttp_session


def test_the_default_is_64_kib() -> None:
    assert aiohttp_read_bufsize({}) == DEFAULT_READ_BUFSIZE == 65536
    assert aiohttp_read_bufsize({SETTING: "  "}) == DEFAULT_READ_BUFSIZE


def test_a_whole_number_of_bytes_is_taken() -> None:
    assert aiohttp_read_bufsize({SETTING: "16384"}) == 16384
    assert aiohttp_read_bufsize({SETTING: f" {MINIMUM_READ_BUFSIZE} "}) == MINIMUM_READ_BUFSIZE


@pytest.mark.parametrize("raw", ["64k", "1.5", "lots", "0x400"])
def test_a_value_that_is_not_a_number_of_bytes_names_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match=f"{SETTING} must be a whole number of bytes .*{raw!r}"):
        aiohttp_read_bufsize({SETTING: raw})


@pytest.mark.parametrize("raw", ["0", "-1", "1023"])
def test_a_value_below_the_minimum_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=f"{SETTING} must be at least 1024 bytes, got {raw!r}"):
        aiohttp_read_bufsize({SETTING: raw})


def _python(code: str, value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SETTING: value, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_the_value_is_read_once_when_litellm_is_imported() -> None:
    done = _python(
        "from litellm.llms.custom_httpx.aiohttp_read_buffer import AIOHTTP_READ_BUFSIZE as v; print(v)", "8192"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "8192"


def test_a_bad_value_stops_the_import_with_a_message_naming_the_setting() -> None:
    done = _python("import litellm", "lots")
    assert done.returncode != 0
    assert f"ValueError: {SETTING} must be a whole number of bytes (at least 1024), got 'lots'" in done.stderr


async def _serve_chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(3):
        frame = b'data: {"x": 1}\n\n'
        writer.write(b"%x\r\n%s\r\n" % (len(frame), frame))
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    writer.close()


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(_serve_chunked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1/stream"
    finally:
        server.close()
        await server.wait_closed()


async def _read_buffer_limits(session: ClientSession, url: str) -> tuple[int, int]:
    async with session.get(url) as response:
        limits = response.content.get_read_buffer_limits()
        assert (await response.read()).count(b"data:") == 3
    return limits


async def test_the_proxys_shared_backend_session_reads_ahead_at_most_twice_the_setting(server_url: str) -> None:
    session = await initialize_shared_aiohttp_session()
    assert session is not None
    try:
        assert await _read_buffer_limits(session, server_url) == (AIOHTTP_READ_BUFSIZE, 2 * AIOHTTP_READ_BUFSIZE)
    finally:
        await session.close()


async def test_the_sdks_aiohttp_transport_session_reads_ahead_at_most_twice_the_setting(server_url: str) -> None:
    transport = AsyncHTTPHandler.create_aiohttp_transport()
    session = transport.get_valid_client_session()
    try:
        assert await _read_buffer_limits(session, server_url) == (AIOHTTP_READ_BUFSIZE, 2 * AIOHTTP_READ_BUFSIZE)
    finally:
        await transport.aclose()
