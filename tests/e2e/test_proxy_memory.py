"""The proxy keeps no chunks of a long stream: its RSS stays flat while one runs, and the logged answer is whole.

A regression guard, not a benchmark (that is bench/proxy_memory.py): upstream's proxy grows by about 4-6 KB per
chunk served (it kept every chunk, and a suspended generator per chunk); the bound here is far above what the fork
needs (tens of bytes per chunk) and far below that, so a loaded machine does not make it flaky.
"""

from __future__ import annotations

import threading
import time

import openai
import pytest

from tests.e2e.conftest import Proxy
from tests.e2e.processes import ProxyProcess

CHUNKS = 6000
BYTES_PER_CHUNK_BOUND = 1000  # upstream: ~4,000-6,000


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


class PeakRSS:
    """The highest RSS of a process, sampled every 50 ms from a thread while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.peak = max(self.peak, rss_bytes(self.pid))


@pytest.fixture(scope="module")
def long_stream_proxy(backend, start_proxy):
    return start_proxy(
        {
            "model_list": [
                {
                    "model_name": "long",
                    "litellm_params": {
                        "model": f"openai/text+tokens={CHUNKS}",
                        "api_base": f"{backend.url}/v1",
                        "api_key": "sk-fake",
                    },
                }
            ],
            "litellm_settings": {"callbacks": ["event_log.event_log"]},
        }
    )


def stream_text(proxy) -> tuple[str, int]:
    stream = proxy.client(timeout=300).chat.completions.create(
        model="long", messages=[{"role": "user", "content": "long"}], stream=True
    )
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    return "".join(pieces), len(pieces)


def wait_for_success_event(proxy, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [e for e in proxy.events() if e["kind"] == "success"]
        if events:
            return events[-1]
        time.sleep(0.2)
    raise AssertionError(f"no success event logged; proxy log:\n{proxy.log()[-3000:]}")


def test_a_long_stream_keeps_nothing_per_chunk_in_the_proxy(long_stream_proxy):
    proxy = long_stream_proxy
    stream_text(proxy)  # warm up: first-call imports, pools and allocator arenas
    time.sleep(1)
    proxy.clear_events()
    before = rss_bytes(proxy.pid)
    with PeakRSS(proxy.pid) as rss:
        text, pieces = stream_text(proxy)
    assert pieces >= CHUNKS
    assert text == "".join(f"w{j}c0 " for j in range(CHUNKS))
    growth_per_chunk = (rss.peak - before) / CHUNKS
    assert growth_per_chunk < BYTES_PER_CHUNK_BOUND, (
        f"the proxy grew by {rss.peak - before:,} bytes ({growth_per_chunk:,.0f} per chunk) during one "
        f"{CHUNKS:,}-chunk stream: something on the stream path keeps chunks"
    )
    logged = wait_for_success_event(proxy)
    assert logged["stream"] is True
    assert logged["completion_tokens"] == CHUNKS
    assert logged["response"]["choices"][0]["message"]["content"] == text


# ------------------------------------------------------------------------------------- guardrails that hold a stream

GUARD_MODULE = '''
from litellm.integrations.custom_guardrail import CustomGuardrail


class AllowAll(CustomGuardrail):
    """A post_call guardrail that allows everything: the proxy still holds the stream for it."""

    async def apply_guardrail(self, inputs, request_data, input_type, logging_obj=None):
        return inputs
'''
GUARDED_LIMIT = 100


@pytest.fixture(scope="module")
def guarded_proxy(backend, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guarded")
    (tmp / "allow_all_guard.py").write_text(GUARD_MODULE)  # custom guardrails load from the config's folder
    proxy = Proxy(
        {
            "model_list": [
                {
                    "model_name": "guarded/*",
                    "litellm_params": {"model": "openai/*", "api_base": f"{backend.url}/v1", "api_key": "sk-fake"},
                }
            ],
            "guardrails": [
                {
                    "guardrail_name": "allow-all",
                    "litellm_params": {
                        "guardrail": "allow_all_guard.AllowAll",
                        "mode": "post_call",
                        "default_on": True,
                    },
                }
            ],
            "litellm_settings": {"max_guarded_stream_chunks": GUARDED_LIMIT},
        },
        tmp,
    )
    yield proxy
    proxy.stop()


def guarded_stream(proxy, tokens: int) -> str:
    stream = proxy.client(timeout=60).chat.completions.create(
        model=f"guarded/text+tokens={tokens}", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def test_a_guarded_stream_within_max_guarded_stream_chunks_is_served_whole(guarded_proxy):
    assert guarded_stream(guarded_proxy, GUARDED_LIMIT // 2).endswith(f"w{GUARDED_LIMIT // 2 - 1}c0 ")


def test_a_guarded_stream_past_max_guarded_stream_chunks_ends_with_an_error_naming_the_setting(guarded_proxy):
    with pytest.raises(openai.APIError) as raised:
        guarded_stream(guarded_proxy, GUARDED_LIMIT * 3)
    assert f"max_guarded_stream_chunks={GUARDED_LIMIT}" in str(raised.value)
    assert "allow-all" in str(raised.value)


# ---------------------------------------------------------------- the read-ahead of the backend connections

SMALLEST_READ_BUFFER = "1024"  # the minimum AIOHTTP_READ_BUFSIZE: reading pauses and resumes every couple of KB


@pytest.fixture(scope="module")
def small_read_buffer_proxy(backend, start_proxy):
    return start_proxy(
        {"model_list": [backend.deployment("small-buffer/*", "*")]}, env={"AIOHTTP_READ_BUFSIZE": SMALLEST_READ_BUFFER}
    )


def test_with_the_smallest_read_buffer_a_long_stream_arrives_whole(small_read_buffer_proxy):
    stream = small_read_buffer_proxy.client(timeout=120).chat.completions.create(
        model="small-buffer/text+tokens=3000", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "".join(f"w{j}c0 " for j in range(3000))


def test_with_the_smallest_read_buffer_a_large_answer_arrives_whole(small_read_buffer_proxy):
    answer = small_read_buffer_proxy.client(timeout=120).chat.completions.create(
        model="small-buffer/text+tokens=20000", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "".join(f"w{j}c0 " for j in range(20000))


def test_a_bad_read_buffer_setting_stops_the_proxy_at_start_naming_it(backend, tmp_path):
    proxy = ProxyProcess(
        {"model_list": [backend.deployment("m", "text")]}, tmp_path, extra_env={"AIOHTTP_READ_BUFSIZE": "64k"}
    )
    try:
        with pytest.raises(RuntimeError, match="exited early") as raised:
            proxy.wait_ready(120)
    finally:
        proxy.stop()
    assert "AIOHTTP_READ_BUFSIZE must be a whole number of bytes (at least 1024), got '64k'" in str(raised.value)
