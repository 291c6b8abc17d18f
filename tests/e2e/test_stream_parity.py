"""``stream: true`` through the fork's proxy and the pristine upstream's, side by side: the same SSE bytes, event by
event, and the same logged response at the end.

Both proxies run with the same config in front of the same fake backend. Any change to the stream path (a fast
path, bounded-memory bookkeeping) must keep these identical. The only field normalised is ``created``: the proxy
stamps its own clock on every chunk of a stream (checked to be one value per stream).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

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
CASES = [(case, f"parity/{scenario}", extra) for case, scenario, extra in CASES] + [
    ("azure-text-usage", "parity-azure/text+tokens=5", INCLUDE_USAGE),
    ("azure-tools", "parity-azure/tools+tokens=3", {}),
]


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
    started = {}
    try:
        started["fork"] = Proxy(config, tmp, name="fork")
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


def stream(proxy: Proxy, model: str, extra: dict, prompt: str) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True, **extra}
    with httpx.stream(
        "POST",
        f"{proxy.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=60,
        trust_env=False,
    ) as response:
        assert response.status_code == 200, response.read()
        return response.read()


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


@pytest.mark.parametrize(("case", "model", "extra"), CASES, ids=[c[0] for c in CASES])
def test_same_sse_bytes_and_logged_response_as_upstream(proxies, case, model, extra):
    results = {}
    for name, proxy in proxies.items():
        proxy.clear_events()
        body = stream(proxy, model, extra, prompt=f"parity {case}")
        results[name] = (normalised(sse_events(body)), comparable_log(logged(proxy)))
    fork_events, fork_log = results["fork"]
    upstream_events, upstream_log = results["upstream"]
    assert fork_events[-1] == "data: [DONE]"
    for index, (fork_event, upstream_event) in enumerate(zip(fork_events, upstream_events, strict=False)):
        assert fork_event == upstream_event, f"event {index} differs"
    assert len(fork_events) == len(upstream_events)
    assert fork_log["kind"] == "success" and fork_log["response"]["choices"]
    assert fork_log == upstream_log
