"""``stream: true`` through the fork's proxy and the pristine upstream's, side by side: the same SSE bytes, event by
event, and the same logged response at the end.

Three proxies run with the same config in front of the same fake backend: the fork, whose chat streams take the
stream-through lane (litellm/proxy/stream_through.py; its debug log proves it served each stream), the fork with
that lane switched off (``litellm_settings: {stream_through: false}``, the ordinary per-chunk path), and the
pristine upstream. Any change to the stream path must keep all three identical. The only field normalised is
``created``: the proxy stamps its own clock on every chunk of a stream (checked to be one value per stream).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from unittest import mock

import httpx
import pytest

from tests.e2e.conftest import Proxy
from tests.e2e.processes import MASTER_KEY

UPSTREAM_SITE = Path(__file__).resolve().parents[2] / ".cache" / "upstream-site"
INCLUDE_USAGE = {"stream_options": {"include_usage": True}}

#: (case id, model: a route and the fake backend's scenario, extra request fields)
CASES = [
    ("text", "text+tokens=5", {}),
    ("text-usage", "text+tokens=5", INCLUDE_USAGE),
    ("text-usage-cached", "text+tokens=4+cached=3", INCLUDE_USAGE),
    ("text-usage-every-chunk", "text+tokens=4+usage=every", INCLUDE_USAGE),
    ("text-no-usage-from-backend", "text+tokens=4+usage=none", INCLUDE_USAGE),
    ("length", "text+tokens=4+finish=length", INCLUDE_USAGE),
    ("content-filter", "text+tokens=3+finish=content_filter", {}),
    ("tools", "tools+tokens=3", INCLUDE_USAGE),
    ("function-call", "function_call+tokens=2", {}),
    ("reasoning", "reasoning+tokens=3", INCLUDE_USAGE),
    ("logprobs", "text+tokens=3", {"logprobs": True, **INCLUDE_USAGE}),
    ("no-finish-reason", "text+tokens=3+fault=nofinish", {}),
]
CASES += [
    ("text-long", "text+tokens=300", INCLUDE_USAGE),
    ("text-long-small-writes", "text+tokens=40+write=7", {}),
    ("text-tricky-characters", "tricky+tokens=30", INCLUDE_USAGE),
    ("tools-same-index", "tools_same_index+tokens=3", {}),
    ("tools-split-id", "tools_split_id", INCLUDE_USAGE),
    ("n2", "text+tokens=4", {"n": 2, **INCLUDE_USAGE}),
    ("azure-content-filter-events", "text+tokens=4+filter=last", {}),
]
#: The backend stream fails: the client gets what upstream sends (the text before, then its error event).
FAILURE_CASES = [
    ("malformed-event", "text+tokens=20+fault=malformed+at=8", {}),
    ("cut-before-the-first-chunk-is-sent", "text+tokens=20+fault=cut+at=8", INCLUDE_USAGE),
    ("cut-mid-stream", "text+tokens=200+fault=cut+at=150+delay=0.002", INCLUDE_USAGE),
    ("error-event", "text+tokens=20+fault=error+at=8", {}),
    ("repeated-chunks", "repeat+tokens=120", {}),
]
CASES = [(case, f"parity/{scenario}", extra) for case, scenario, extra in CASES] + [
    ("azure-text-usage", "parity-azure/text+tokens=5", INCLUDE_USAGE),
    ("azure-tools", "parity-azure/tools+tokens=3", {}),
    ("azure-text-long", "parity-azure/text+tokens=200", INCLUDE_USAGE),
    # hosted_vllm/ is read line by line by litellm's own OpenAI-compatible iterator, not the OpenAI SDK
    ("vllm-text-usage", "parity-vllm/text+tokens=5", INCLUDE_USAGE),
    ("vllm-text-long", "parity-vllm/text+tokens=200", INCLUDE_USAGE),
    ("vllm-tools", "parity-vllm/tools+tokens=3", INCLUDE_USAGE),
    ("vllm-reasoning", "parity-vllm/reasoning+tokens=3", INCLUDE_USAGE),
    ("vllm-text-long-small-writes", "parity-vllm/text+tokens=40+write=7", {}),
    # lm_studio/ (like llamafile/ and custom_openai/) is read through the OpenAI SDK, as openai/ is
    ("lm-studio-text-usage", "parity-lmstudio/text+tokens=40", INCLUDE_USAGE),
]
FAILURE_CASES = [(case, f"parity/{scenario}", extra) for case, scenario, extra in FAILURE_CASES] + [
    ("vllm-cut-mid-stream", "parity-vllm/text+tokens=200+fault=cut+at=150+delay=0.002", INCLUDE_USAGE),
    ("vllm-error-event", "parity-vllm/text+tokens=20+fault=error+at=8", {}),
]
#: The fork logs what its stream accumulator assembles, which differs from upstream's assembly here on purpose
#: (docs/bounded-memory-streaming.md, "Deliberate differences from upstream"): both fork paths must log the same.
LOGGED_AS_THE_FORK_ASSEMBLES = {"tools-same-index", "tools-split-id", "n2"}
#: The fork's proxy with the stream-through lane (its log counts the streams it served) and without it.
FORKS = ("fork", "fork-per-chunk")
SERVED = "stream_through: serving"


@pytest.fixture(scope="module")
def proxies(backend, tmp_path_factory):
    if not (UPSTREAM_SITE / "litellm").is_dir():
        pytest.fail(f"pristine upstream not installed in {UPSTREAM_SITE}: run `make upstream-ref`")
    config = {
        "model_list": [
            {
                "model_name": "parity/*",
                "litellm_params": {"model": "openai/*", "api_base": f"{backend.url}/v1", "api_key": "sk-fake"},
            },
            {
                "model_name": "parity-vllm/*",
                "litellm_params": {"model": "hosted_vllm/*", "api_base": f"{backend.url}/v1", "api_key": "sk-fake"},
            },
            {
                "model_name": "parity-lmstudio/*",
                "litellm_params": {"model": "lm_studio/*", "api_base": f"{backend.url}/v1", "api_key": "sk-fake"},
            },
            {
                "model_name": "parity-azure/*",
                "litellm_params": {
                    "model": "azure/*",
                    "api_base": backend.url,
                    "api_key": "sk-fake",
                    "api_version": "2024-10-21",
                },
            },
        ],
        "litellm_settings": {"callbacks": ["event_log.event_log"]},
    }
    tmp = tmp_path_factory.mktemp("parity")
    per_chunk = {**config, "litellm_settings": {**config["litellm_settings"], "stream_through": False}}
    started = {}
    try:
        with mock.patch.dict(os.environ, {"LITELLM_LOG": "DEBUG"}):  # the lane logs each stream it serves
            started["fork"] = Proxy(config, tmp, name="fork")
            started["fork-per-chunk"] = Proxy(per_chunk, tmp, name="fork-per-chunk")
        started["upstream"] = Proxy(config, tmp, name="upstream", upstream_site=UPSTREAM_SITE)
        yield started
    finally:
        for proxy in started.values():
            proxy.stop()


def sse_events(body: bytes) -> list[str]:
    """The stream split into its events, exactly as sent (each without its blank-line terminator)."""
    assert body.endswith(b"\n\n"), body[-200:]
    return body.decode()[:-2].split("\n\n")


def normalised(events: list[str]) -> list[str]:
    """``created`` replaced by a placeholder, after checking that one stream carries one value."""
    created = set()
    out = []
    for event in events:
        if event.startswith("data: {"):
            chunk = json.loads(event[len("data: ") :])
            if "created" in chunk:
                created.add(chunk["created"])
                event = event.replace(f'"created":{chunk["created"]},', '"created":0,', 1)
        out.append(event)
    assert len(created) <= 1, created
    return out


def stream(proxy: Proxy, model: str, extra: dict, prompt: str) -> tuple[int, bytes]:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True, **extra}
    with httpx.stream(
        "POST",
        f"{proxy.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
        trust_env=False,
    ) as response:
        return response.status_code, response.read()


def client_view(status: int, body: bytes) -> list[str]:
    """The status, then each SSE event (normalised) of a stream, or the body of an error response."""
    return [f"status {status}", *(normalised(sse_events(body)) if status == 200 else [body.decode()])]


def logged(proxy: Proxy, timeout: float = 15) -> dict:
    """The one event the proxy logged for the last stream (logging runs after the last byte)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = proxy.events()
        if events:
            break
        time.sleep(0.05)
    [event] = proxy.events()
    proxy.clear_events()
    return event


def comparable_log(event: dict) -> dict:
    """The logged event less the proxy's clock and its own address (each proxy listens on its own port)."""
    response = dict(event["response"] or {})
    response.pop("created", None)
    requester = json.loads(json.dumps(event.get("requester_metadata") or {}))
    (requester.get("headers") or {}).pop("host", None)
    return {**event, "response": response, "requester_metadata": requester}


def served_through(proxy: Proxy) -> int:
    return proxy.log().count(SERVED)


def run_everywhere(proxies: dict[str, Proxy], case: str, model: str, extra: dict) -> dict[str, tuple[list, dict]]:
    """Each proxy's normalised events and logged event for one stream; checks which path served it."""
    results = {}
    for name, proxy in proxies.items():
        proxy.clear_events()
        served_before = served_through(proxy) if name in FORKS else 0
        status, body = stream(proxy, model, extra, prompt=f"parity {case}")
        results[name] = (client_view(status, body), comparable_log(logged(proxy)))
        if name == "fork":
            assert served_through(proxy) == served_before + 1, "the stream-through lane did not serve the stream"
        elif name == "fork-per-chunk":
            assert served_through(proxy) == 0
    return results


def assert_same_as_upstream(results: dict[str, tuple[list, dict]], case: str) -> None:
    upstream_events, upstream_log = results["upstream"]
    for name in FORKS:
        fork_events, fork_log = results[name]
        for index, (fork_event, upstream_event) in enumerate(zip(fork_events, upstream_events, strict=False)):
            assert fork_event == upstream_event, f"{name}: event {index} differs"
        assert len(fork_events) == len(upstream_events), name
        if case in LOGGED_AS_THE_FORK_ASSEMBLES:
            assert fork_log == results["fork-per-chunk"][1], name
        else:
            assert fork_log == upstream_log, name


@pytest.mark.parametrize(("case", "model", "extra"), CASES, ids=[c[0] for c in CASES])
def test_same_sse_bytes_and_logged_response_as_upstream(proxies, case, model, extra):
    results = run_everywhere(proxies, case, model, extra)
    assert_same_as_upstream(results, case)
    fork_events, fork_log = results["fork"]
    assert fork_events[0] == "status 200" and fork_events[-1] == "data: [DONE]"
    assert fork_log["kind"] == "success" and fork_log["response"]["choices"]


@pytest.mark.parametrize(("case", "model", "extra"), FAILURE_CASES, ids=[c[0] for c in FAILURE_CASES])
def test_a_failing_backend_stream_ends_as_upstream_ends_it(proxies, case, model, extra):
    results = run_everywhere(proxies, case, model, extra)
    assert_same_as_upstream(results, case)
    fork_events, fork_log = results["fork"]
    assert '"error"' in fork_events[-1] or '"error"' in fork_events[-2], fork_events[-2:]
    assert fork_log["kind"] == "failure"


@pytest.mark.parametrize("name", ["fork", "fork-per-chunk", "upstream"])
def test_a_client_that_goes_away_mid_stream_cancels_the_backend_stream(proxies, backend, name):
    """The backend's stream is closed, and the text sent so far is billed (how much more the proxy had read when it
    noticed depends on timing, so the billed text is checked to cover what the client received)."""
    proxy = proxies[name]
    proxy.clear_events()
    before = backend.disconnects
    body = {
        "model": "parity/text+tokens=400+delay=0.02",
        "messages": [{"role": "user", "content": "bye"}],
        "stream": True,
    }
    received = []
    with httpx.stream(
        "POST",
        f"{proxy.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
        trust_env=False,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                received.append(json.loads(line[len("data: ") :]))
            if len(received) == 10:
                break
    assert backend.wait_for(lambda: backend.disconnects > before, timeout=10), "the backend stream was not cancelled"
    sent_text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in received)
    event = logged(proxy)
    assert event["kind"] == "success" and event["completion_tokens"] > 0
    assert event["response"]["choices"][0]["message"]["content"].startswith(sent_text), (sent_text, event["response"])
