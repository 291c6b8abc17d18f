"""The client hop of buffered calls: keepalive whitespace, the failure signal after the commit, the total cap.

The real proxy runs as a process in front of the fake backend on 127.0.0.1; where the test says so, a
real nginx (Debian package, `make system-deps`) sits between the OpenAI SDK and the proxy with a
2 s ``proxy_read_timeout``, and the backend's answer takes 10 s.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import httpx
import openai
import pytest

from tests.e2e.conftest import HI, needs_nginx
from tests.e2e.processes import MASTER_KEY

INTERVAL = 0.5
SLOW = "text+tokens=50+delay=0.2"  # 10 s: five times nginx's 2 s idle timeout
SLOW_WORDS = [f"w{j}c0" for j in range(50)]
CUT = "text+tokens=30+delay=0.1+fault=cut+at=20"  # cut ~2 s in: after the commit
KEEPALIVE = {"buffered_stream_keepalive_seconds": INTERVAL}
# Fast answers take tens of milliseconds; a generous first interval keeps a loaded machine from committing them.
FAST_KEEPALIVE = {"buffered_stream_keepalive_seconds": 2}


@pytest.fixture(scope="module")
def ka_proxy(backend, start_proxy):
    def model(name: str, scenario: str, **params: object) -> dict:
        return backend.deployment(name, scenario, **{"buffered_stream": True, **params})

    long = {"buffered_stream_max_seconds": 60}  # the deployment's cap wins over litellm_settings'
    proxy = start_proxy(
        {
            "model_list": [
                model("slow", SLOW, **long),
                model("slow-ka", SLOW, **KEEPALIVE, **long),
                model("slow-ka-pinned-off", SLOW, allow_client_buffered_stream_override=False, **long),
                model("fast-ka", "text+tokens=4", **FAST_KEEPALIVE),
                model("error-ka", "text+fault=status500", **FAST_KEEPALIVE),
                model("cut-ka", CUT, **KEEPALIVE),
                model("long-ka", "text+tokens=400+delay=0.05", **KEEPALIVE, **long),
                model("capped", "text+tokens=100+delay=0.1", buffered_stream_max_seconds=1.5),
                model("capped-ka", "text+tokens=100+delay=0.1", buffered_stream_max_seconds=2, **KEEPALIVE),
                # Not buffered by the operator; `timeout` (1 s) would bound its whole answer.
                model("trickle", "text+tokens=10+fault=trickle+at=3", buffered_stream=False, timeout=1),
            ],
            "router_settings": {"num_retries": 0},
            "litellm_settings": {"callbacks": ["event_log.event_log"], "buffered_stream_max_seconds": 4},
        }
    )
    raw_post(proxy.url, {"model": "fast-ka", "messages": HI})  # warm up: the first call imports and builds clients
    return proxy


@pytest.fixture(scope="module")
def nginx(ka_proxy, start_nginx):
    return start_nginx(ka_proxy, read_timeout=2)


def sdk(base_url: str, timeout: float = 60) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=timeout)


def async_sdk(base_url: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{base_url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=60)


def raw_post(url: str, body: dict, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=timeout,
        trust_env=False,
    )


def wait_for_failure_event(proxy, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = proxy.events()
        if any(e["kind"] == "failure" for e in events):
            return events
        time.sleep(0.1)
    return proxy.events()


# ------------------------------------------------------------------------------------------------ through nginx


@needs_nginx
def test_without_keepalive_nginx_cuts_the_silent_call_with_a_504(nginx, backend):
    with pytest.raises(openai.InternalServerError) as raised:
        sdk(nginx.url).chat.completions.create(model="slow", messages=HI)
    assert raised.value.status_code == 504


@needs_nginx
def test_with_keepalive_the_full_answer_gets_through_nginx(nginx, backend):
    started = time.monotonic()
    response = sdk(nginx.url).chat.completions.with_raw_response.create(model="slow-ka", messages=HI)
    completion = response.parse()
    assert time.monotonic() - started > 8, "the answer took five times nginx's idle timeout"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-litellm-buffered-stream"] == "true"
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content.split() == SLOW_WORDS
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 50)
    [seen] = backend.requests
    assert seen.body["stream"] is True and "buffered_stream_keepalive_seconds" not in seen.body


@needs_nginx
def test_a_client_may_ask_for_keepalive_unless_the_operator_pins_it(nginx, backend):
    completion = sdk(nginx.url).chat.completions.create(model="slow", messages=HI, extra_body=KEEPALIVE)
    assert completion.choices[0].message.content.split() == SLOW_WORDS
    with pytest.raises(openai.InternalServerError) as raised:
        sdk(nginx.url).chat.completions.create(model="slow-ka-pinned-off", messages=HI, extra_body=KEEPALIVE)
    assert raised.value.status_code == 504


@needs_nginx
def test_failure_after_the_commit_raises_in_the_sync_sdk(nginx, ka_proxy):
    ka_proxy.clear_events()
    with pytest.raises(openai.APIConnectionError):
        sdk(nginx.url).chat.completions.create(model="cut-ka", messages=HI)
    assert {e["kind"] for e in wait_for_failure_event(ka_proxy)} == {"failure"}


@needs_nginx
def test_failure_after_the_commit_raises_in_the_async_sdk(nginx):
    async def call() -> object:
        async with async_sdk(nginx.url) as client:
            return await client.chat.completions.create(model="cut-ka", messages=HI)

    with pytest.raises(openai.APIConnectionError):
        asyncio.run(call())


@needs_nginx
def test_failure_after_the_commit_makes_curl_fail(nginx):
    result = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", f"{nginx.url}/v1/chat/completions"]
        + ["-H", f"Authorization: Bearer {MASTER_KEY}", "-H", "Content-Type: application/json"]
        + ["-d", json.dumps({"model": "cut-ka", "messages": HI})],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0, result.stdout
    body = result.stdout.decode()
    assert body.startswith(" ") and '"error"' in body, "whitespace, then the OpenAI error shape, then no end"


@needs_nginx
def test_an_http10_hop_gets_no_keepalive_rather_than_an_unsignalled_failure(nginx):
    """nginx's default proxy_http_version 1.0 reads a dropped connection as the end of the body."""
    with pytest.raises(openai.InternalServerError) as raised:
        sdk(f"{nginx.url}/http10").chat.completions.create(model="slow-ka", messages=HI)
    assert raised.value.status_code == 504


# ------------------------------------------------------------------------------------------------ the proxy itself


def test_client_read_timeout_shorter_than_the_answer(ka_proxy):
    started = time.monotonic()
    completion = sdk(ka_proxy.url, timeout=1.5).chat.completions.create(model="slow-ka", messages=HI)
    assert time.monotonic() - started > 8
    assert completion.choices[0].message.content.split() == SLOW_WORDS
    with pytest.raises(openai.APITimeoutError):
        sdk(ka_proxy.url, timeout=1.5).chat.completions.create(model="slow", messages=HI)


def test_wire_format_after_the_commit(ka_proxy):
    with httpx.stream(
        "POST",
        f"{ka_proxy.url}/v1/chat/completions",
        json={"model": "fast-ka", "messages": HI},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
        trust_env=False,
    ) as response:
        body = response.read()
    assert response.status_code == 200
    # fast-ka answers well within its 2 s interval: nothing is committed early.
    assert not body.startswith(b" ") and "x-litellm-model-group" in response.headers
    slow = raw_post(ka_proxy.url, {"model": "slow-ka", "messages": HI, "buffered_stream_keepalive_seconds": 1})
    assert slow.status_code == 200
    assert slow.headers["content-type"] == "application/json"
    assert slow.headers["x-litellm-buffered-stream"] == "true"
    spaces = len(slow.content) - len(slow.content.lstrip(b" "))
    assert 7 <= spaces <= 15, "one space per second of a 10 s answer"
    assert json.loads(slow.content)["choices"][0]["message"]["content"].split() == SLOW_WORDS


def test_fast_answer_is_byte_for_byte_the_same(ka_proxy):
    """Same model, with and without keepalive: status, headers (but their timings and ids) and body are equal."""
    volatile = {"date", "x-litellm-call-id", "llm_provider-date"}
    answers = [
        raw_post(ka_proxy.url, {"model": "fast-ka", "messages": HI, **extra})
        for extra in ({"buffered_stream_keepalive_seconds": 0}, {})
    ]
    without, with_keepalive = answers
    assert with_keepalive.status_code == without.status_code == 200
    assert with_keepalive.content == without.content

    def headers(response: httpx.Response) -> dict[str, str]:
        return {
            k: v
            for k, v in response.headers.items()
            if k not in volatile and not k.endswith(("-duration-ms", "response_ms"))
        }

    assert headers(with_keepalive) == headers(without)


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        ({"model": "error-ka"}, 500, None),
        ({"model": "fast-ka", "buffered_stream_keepalive_seconds": "soon"}, 400, "buffered_stream_keepalive_seconds"),
        ({"model": "fast-ka", "buffered_stream_keepalive_seconds": -1}, 400, "buffered_stream_keepalive_seconds"),
        ({"model": "no-such-model", "buffered_stream": True, **FAST_KEEPALIVE}, 400, None),
    ],
)
def test_fast_errors_keep_their_real_status(ka_proxy, body, status, named):
    response = raw_post(ka_proxy.url, {"messages": HI, **body})
    assert response.status_code == status
    assert not response.content.startswith(b" ")
    error = response.json()["error"]
    if named:
        assert named in error["message"]


@pytest.mark.parametrize("through", ["proxy", pytest.param("nginx", marks=needs_nginx)])
def test_client_disconnect_during_keepalive_cancels_the_backend(ka_proxy, backend, request, through):
    url = ka_proxy.url if through == "proxy" else request.getfixturevalue("nginx").url
    with httpx.stream(
        "POST",
        f"{url}/v1/chat/completions",
        json={"model": "long-ka", "messages": HI},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
        trust_env=False,
    ) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()  # held: dropping the iterator would close the connection here
        assert next(chunks).strip() == b"", "keepalive whitespace"
        assert backend.wait_for(lambda: backend.requests, timeout=10.0), "the backend is generating"
    # The client closed the connection early in a 20 s answer: the backend stream must close soon after.
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=5.0)
    assert backend.completed == 0


# ------------------------------------------------------------------------------------------------ the total cap


def test_total_cap_before_the_commit_is_a_408(ka_proxy, backend):
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as raised:
        sdk(ka_proxy.url).chat.completions.create(model="capped", messages=HI)
    assert raised.value.status_code == 408
    assert "buffered_stream_max_seconds" in str(raised.value)
    assert time.monotonic() - started < 5
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=5.0), "the backend request was cancelled"


def test_total_cap_after_the_commit_is_the_failure_signal(ka_proxy, backend):
    ka_proxy.clear_events()
    response = None
    with pytest.raises(httpx.RemoteProtocolError):
        response = raw_post(ka_proxy.url, {"model": "capped-ka", "messages": HI})
    assert response is None
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=5.0)
    assert {e["kind"] for e in wait_for_failure_event(ka_proxy)} == {"failure"}
    with pytest.raises(openai.APIConnectionError):
        sdk(ka_proxy.url).chat.completions.create(model="capped-ka", messages=HI)


def test_a_client_cannot_hold_a_call_past_the_default_cap_with_a_trickling_backend(ka_proxy, backend):
    """A client turns buffering on, so `timeout` only bounds gaps; the backend sends a comment every 0.2 s forever."""
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as raised:
        sdk(ka_proxy.url).chat.completions.create(
            model="trickle", messages=HI, extra_body={"buffered_stream": True, "buffered_stream_max_seconds": 0}
        )
    elapsed = time.monotonic() - started
    assert raised.value.status_code == 408
    assert "buffered_stream_max_seconds" in str(raised.value), "litellm_settings' cap, not the client's 0"
    assert 3.5 < elapsed < 8
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=5.0), "the backend request was cancelled"
