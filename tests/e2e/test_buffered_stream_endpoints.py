"""buffered_stream on /v1/messages, /v1/responses and /v1/completions, through the real proxy.

Clients are the official SDKs (anthropic for /v1/messages, openai ``responses.create`` and
``completions.create``); the backend is the fake LLM on 127.0.0.1 speaking each API's real stream
format (Anthropic message events, Responses events, text completion chunks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.e2e.conftest import BUFFERED, HI, fresh, needs_nginx, wildcard_models
from tests.e2e.processes import MASTER_KEY


def anthropic_client(proxy, **kwargs: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=MASTER_KEY, max_retries=0, **kwargs)


# ------------------------------------------------------------------------------------------------ one call per endpoint


class Endpoint:
    """One endpoint as a client calls it: name, the backend path it reaches natively, a call, a parity view."""

    name: str

    def call(
        self,
        proxy,
        model: str,
        extra: dict | None = None,
        timeout: float = 30,
        prompt: str | None = None,
        **params: Any,
    ) -> Any:
        raise NotImplementedError

    def raw(self, proxy, model: str, extra: dict | None = None, **params: Any) -> Any:
        raise NotImplementedError

    def comparable(self, answer: Any) -> dict:
        raise NotImplementedError

    def words(self, answer: Any) -> list[str]:
        raise NotImplementedError


class Messages(Endpoint):
    name = "messages"

    def call(self, proxy, model, extra=None, timeout=30, prompt=None, **params):
        return anthropic_client(proxy, timeout=timeout).messages.create(
            model=model,
            max_tokens=200,
            messages=[{"role": "user", "content": prompt or fresh()}],
            extra_body=extra,
            **params,
        )

    def raw(self, proxy, model, extra=None, **params):
        return anthropic_client(proxy).messages.with_raw_response.create(
            model=model, max_tokens=200, messages=HI, extra_body=extra, **params
        )

    def comparable(self, answer):
        return answer.model_dump(exclude={"id"})

    def words(self, answer):
        return "".join(block.text for block in answer.content if block.type == "text").split()


class Responses(Endpoint):
    name = "responses"

    def call(self, proxy, model, extra=None, timeout=30, prompt=None, **params):
        return proxy.client(timeout=timeout).responses.create(
            model=model, input=prompt or fresh(), extra_body=extra, **params
        )

    def raw(self, proxy, model, extra=None, **params):
        return proxy.client().responses.with_raw_response.create(model=model, input="hi", extra_body=extra, **params)

    def comparable(self, answer):
        # Bridged calls name their output items with fresh uuids, natively too.
        view = answer.model_dump(exclude={"id", "created_at"})
        for item in view["output"]:
            if "-" in (item.get("id") or ""):
                item.pop("id")
        return view

    def words(self, answer):
        return answer.output_text.split()


class TextCompletions(Endpoint):
    name = "completions"

    def call(self, proxy, model, extra=None, timeout=30, prompt=None, **params):
        return proxy.client(timeout=timeout).completions.create(
            model=model, prompt=prompt or fresh(), extra_body=extra, **params
        )

    def raw(self, proxy, model, extra=None, **params):
        return proxy.client().completions.with_raw_response.create(model=model, prompt="hi", extra_body=extra, **params)

    def comparable(self, answer):
        return answer.model_dump(exclude={"id", "created"})

    def words(self, answer):
        return answer.choices[0].text.split()


MESSAGES, RESPONSES, TEXT = Messages(), Responses(), TextCompletions()
ENDPOINTS = [MESSAGES, RESPONSES, TEXT]

#: (endpoint, route prefix of the shared proxy, the backend path the call reaches, path kind)
ROUTES = [
    (MESSAGES, "claude", "/v1/messages"),  # native Anthropic
    (MESSAGES, "vllm", "/v1/chat/completions"),  # litellm's bridge to chat completions
    (MESSAGES, "oai", "/v1/responses"),  # litellm's bridge to the Responses API
    (MESSAGES, "nim", "/v1/chat/completions"),  # bridge to chat completions, generic path
    (RESPONSES, "oai", "/v1/responses"),  # native Responses
    (RESPONSES, "vllm", "/v1/responses"),
    (RESPONSES, "azure", "/openai/responses"),
    (RESPONSES, "ollama", "/api/chat"),  # bridged to chat completions
    (TEXT, "oai", "/v1/completions"),  # native text completions
    (TEXT, "vllm", "/v1/completions"),
    (TEXT, "ollama", "/api/chat"),  # text completions litellm serves from chat completions
]


def route_id(route: tuple) -> str:
    return f"{route[0].name}-{route[1]}"


def status_of(error: Exception) -> int:
    return getattr(error, "status_code", 0)


API_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)


# ------------------------------------------------------------------------------------------------ the switch


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_buffered_call_is_served_from_a_backend_stream(proxy, backend, route):
    endpoint, prefix, path = route
    response = endpoint.raw(proxy, f"{prefix}/text+tokens=8", BUFFERED)
    answer = response.parse()
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-litellm-buffered-stream") == "true"
    assert endpoint.words(answer) == [f"w{j}c0" for j in range(8)]
    [seen] = backend.requests
    assert seen.path == path
    assert seen.body["stream"] is True
    assert "buffered_stream" not in seen.body


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_without_the_switch_nothing_changes(proxy, backend, route):
    endpoint, prefix, path = route
    response = endpoint.raw(proxy, f"{prefix}/text+tokens=3")
    assert "x-litellm-buffered-stream" not in response.headers
    assert endpoint.words(response.parse()) == [f"w{j}c0" for j in range(3)]
    [seen] = backend.requests
    assert seen.path == path
    assert not seen.body.get("stream")


def stream_messages(proxy, extra: dict | None) -> list[str]:
    with anthropic_client(proxy).messages.stream(
        model="claude/text+tokens=4", max_tokens=50, messages=HI, extra_body=extra
    ) as stream:
        return [event.type for event in stream]


def stream_responses(proxy, extra: dict | None) -> list[str]:
    return [
        e.type
        for e in proxy.client().responses.create(model="oai/text+tokens=4", input="hi", stream=True, extra_body=extra)
    ]


def stream_text(proxy, extra: dict | None) -> list[str]:
    chunks = proxy.client().completions.create(model="oai/text+tokens=4", prompt="hi", stream=True, extra_body=extra)
    return [c.choices[0].text if c.choices else "" for c in chunks]


@pytest.mark.parametrize("stream", [stream_messages, stream_responses, stream_text], ids=lambda f: f.__name__)
def test_stream_true_is_untouched(proxy, backend, stream):
    """A streaming request with the switch is the same streaming request without it, on the wire and to the client."""
    plain = stream(proxy, None)
    with_switch = stream(proxy, BUFFERED)
    assert with_switch == plain and len(plain) > 4
    first, second = backend.requests
    assert "buffered_stream" not in second.body
    assert (first.path, first.body) == (second.path, second.body)
    assert "x-litellm-buffered-stream" not in second.headers


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("value", ["yes", 1])
def test_non_boolean_value_is_a_400_naming_the_field(proxy, backend, endpoint, value):
    with pytest.raises(API_ERRORS) as raised:
        endpoint.call(proxy, "oai/text", {"buffered_stream": value})
    assert status_of(raised.value) == 400
    assert "buffered_stream" in str(raised.value)
    assert backend.requests == []


# ------------------------------------------------------------------------------------------------ parity

PARITY = [
    (MESSAGES, "claude", "text+tokens=12", {}),
    (MESSAGES, "claude", "tools+tokens=4", {}),
    (MESSAGES, "claude", "reasoning+tokens=6", {}),
    (MESSAGES, "claude", "text+tokens=6+cached=5", {}),
    (MESSAGES, "claude", "text+tokens=6+finish=length", {}),
    (MESSAGES, "vllm", "tools+tokens=6", {}),
    (MESSAGES, "vllm", "reasoning+tokens=5", {}),
    (MESSAGES, "oai", "text+tokens=5+cached=3", {}),
    (MESSAGES, "oai", "tools+tokens=4", {}),
    (RESPONSES, "oai", "text+tokens=12", {}),
    (RESPONSES, "oai", "tools+tokens=4", {}),
    (RESPONSES, "oai", "reasoning+tokens=5", {}),
    (RESPONSES, "oai", "text+tokens=5+cached=4", {}),
    (RESPONSES, "oai", "text+tokens=5+finish=length", {}),
    (RESPONSES, "vllm", "tools+tokens=4", {}),
    (RESPONSES, "ollama", "reasoning+tokens=4", {}),
    (TEXT, "oai", "text+tokens=12", {}),
    (TEXT, "oai", "text+tokens=5+finish=length", {}),
    (TEXT, "oai", "text+tokens=4", {"n": 2}),
    (TEXT, "oai", "text+tokens=4", {"logprobs": 1}),
]


@pytest.mark.parametrize(("endpoint", "prefix", "scenario", "params"), PARITY, ids=lambda v: getattr(v, "name", None))
def test_buffered_answer_equals_the_native_answer(proxy, backend, endpoint, prefix, scenario, params):
    native = endpoint.raw(proxy, f"{prefix}/{scenario}", **params).parse()
    buffered = endpoint.raw(proxy, f"{prefix}/{scenario}", BUFFERED, **params).parse()
    streamed = [bool(r.body.get("stream")) for r in backend.requests]
    assert streamed == [False, True]
    assert endpoint.comparable(buffered) == endpoint.comparable(native)


def test_messages_tool_use_and_thinking_blocks_arrive_whole(proxy):
    tools = anthropic_client(proxy).messages.create(
        model="claude/tools+tokens=9", max_tokens=100, messages=HI, extra_body=BUFFERED
    )
    assert [(b.type, getattr(b, "name", None), getattr(b, "input", None)) for b in tools.content] == [
        ("text", None, None),
        ("tool_use", "get_weather", {"city": "Paris", "unit": "c"}),
        ("tool_use", "get_time", {"tz": "Europe/Paris"}),
    ]
    assert tools.stop_reason == "tool_use"
    thinking = anthropic_client(proxy).messages.create(
        model="claude/reasoning+tokens=5+cached=4", max_tokens=100, messages=HI, extra_body=BUFFERED
    )
    assert [b.type for b in thinking.content] == ["thinking", "redacted_thinking", "text"]
    assert thinking.content[0].signature == "sig-1" and thinking.content[1].data == "opaque-redacted"
    assert (thinking.usage.input_tokens, thinking.usage.output_tokens) == (11, 5)
    assert thinking.usage.cache_read_input_tokens == 4


def test_anthropic_sdk_sends_a_long_non_streaming_request_once_it_has_a_timeout(proxy, backend):
    """The SDK refuses max_tokens it expects to take over 10 minutes unless the client sets a timeout."""
    request = {"model": "claude/text+tokens=5", "max_tokens": 32000, "messages": HI, "extra_body": BUFFERED}
    with pytest.raises(ValueError, match="Streaming is required"):
        anthropic_client(proxy).messages.create(**request)
    message = anthropic_client(proxy, timeout=3600).messages.create(**request)
    assert message.content[0].text.split() == [f"w{j}c0" for j in range(5)]
    [seen] = backend.requests
    assert seen.body["stream"] is True and seen.body["max_tokens"] == 32000


def test_responses_incomplete_is_an_answer_with_its_status(proxy):
    response = proxy.client().responses.create(model="oai/text+tokens=5+finish=length", input="hi", extra_body=BUFFERED)
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.output_text.split() == [f"w{j}c0" for j in range(5)]


# ------------------------------------------------------------------------------------------------ operator policy, timeouts


@pytest.fixture(scope="module")
def policy_proxy(backend, start_proxy):
    def model(name: str, provider: str, scenario: str, **params: Any) -> dict:
        return backend.deployment(name, scenario, provider, **params)

    slow, stall, steady = "text+tokens=30+delay=0.1", "text+tokens=10+fault=stall+at=3", "text+tokens=20"
    models = []
    fallbacks = []
    for endpoint, provider in ((MESSAGES, "anthropic"), (RESPONSES, "openai"), (TEXT, "openai")):
        name = endpoint.name
        models += [
            model(f"{name}-on-by-config", provider, "text+tokens=6", buffered_stream=True),
            model(
                f"{name}-pinned-off",
                provider,
                "text+tokens=6",
                buffered_stream=False,
                allow_client_buffered_stream_override=False,
            ),
            model(
                f"{name}-pinned-on",
                provider,
                "text+tokens=6",
                buffered_stream=True,
                allow_client_buffered_stream_override=False,
            ),
            model(f"{name}-slow", provider, slow, timeout=1.5),
            model(f"{name}-stall", provider, stall, timeout=1.5),
            model(f"{name}-flaky", provider, "text+tokens=20+fault=cut+at=5", buffered_stream=True),
            model(f"{name}-steady", provider, steady, buffered_stream=True),
            model(
                f"{name}-capped",
                provider,
                "text+tokens=100+delay=0.1",
                buffered_stream=True,
                buffered_stream_max_seconds=1.5,
            ),
        ]
        fallbacks.append({f"{name}-flaky": [f"{name}-steady"]})
    return start_proxy(
        {
            "model_list": [*models, *wildcard_models(backend.url)],
            "router_settings": {"num_retries": 2, "retry_after": 0, "fallbacks": fallbacks},
            "litellm_settings": {
                "callbacks": ["event_log.event_log"],
                "cache": True,
                "cache_params": {
                    "type": "local",
                    "supported_call_types": ["anthropic_messages", "aresponses", "atext_completion"],
                },
            },
        }
    )


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize(
    ("model", "client_value", "streamed"),
    [
        ("on-by-config", None, True),
        ("on-by-config", False, False),
        ("pinned-off", True, False),
        ("pinned-on", False, True),
    ],
)
def test_operator_config_and_client_precedence(policy_proxy, backend, endpoint, model, client_value, streamed):
    extra = None if client_value is None else {"buffered_stream": client_value}
    answer = endpoint.call(policy_proxy, f"{endpoint.name}-{model}", extra)
    assert endpoint.words(answer)[0] == "w0c0"
    [seen] = backend.requests
    assert bool(seen.body.get("stream")) is streamed
    assert "allow_client_buffered_stream_override" not in seen.body and "buffered_stream" not in seen.body


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_timeout_bounds_the_gaps_not_the_generation(policy_proxy, backend, endpoint):
    """3 s of tokens at 0.1 s gaps behind `timeout: 1.5`, with the router allowed 2 retries."""
    with pytest.raises(API_ERRORS) as raised:
        endpoint.call(policy_proxy, f"{endpoint.name}-slow", timeout=60)
    assert status_of(raised.value) == 408
    assert len(backend.requests) == 3, "the native call times out on every attempt"

    backend.reset()
    started = time.monotonic()
    answer = endpoint.call(policy_proxy, f"{endpoint.name}-slow", BUFFERED, timeout=60)
    assert len(endpoint.words(answer)) == 30
    assert len(backend.requests) == 1, "one backend generation, no retry"
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_stall_past_the_timeout_fails_as_a_timeout(policy_proxy, backend, endpoint):
    with pytest.raises(API_ERRORS) as raised:
        endpoint.call(policy_proxy, f"{endpoint.name}-stall", BUFFERED, timeout=60)
    assert status_of(raised.value) == 408
    assert len(backend.requests) == 3


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_stream_cut_on_one_deployment_is_answered_in_full_by_the_fallback(policy_proxy, backend, endpoint):
    answer = endpoint.call(policy_proxy, f"{endpoint.name}-flaky")
    assert len(endpoint.words(answer)) == 20
    models = [r.body["model"] for r in backend.requests]
    assert "text+tokens=20+fault=cut+at=5" in models and models[-1] == "text+tokens=20"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_assembled_answer_is_cached_like_the_native_one(policy_proxy, backend, endpoint):
    prompt = fresh()
    first = endpoint.call(policy_proxy, f"{endpoint.name}-on-by-config", prompt=prompt)
    second = endpoint.call(policy_proxy, f"{endpoint.name}-on-by-config", prompt=prompt)
    assert endpoint.words(second) == endpoint.words(first)
    [seen] = backend.requests
    assert seen.body["stream"] is True


# ------------------------------------------------------------------------------------------------ failures

BROKEN = [
    (MESSAGES, "claude", ["cut", "malformed", "nofinish", "error"]),
    (MESSAGES, "vllm", ["cut", "nofinish", "error"]),
    (RESPONSES, "oai", ["cut", "malformed", "nofinish", "error", "failed"]),
    (TEXT, "oai", ["cut", "malformed", "nofinish", "error"]),
]


@pytest.mark.parametrize(
    ("endpoint", "prefix", "fault"),
    [(endpoint, prefix, fault) for endpoint, prefix, faults in BROKEN for fault in faults],
    ids=lambda v: getattr(v, "name", None),
)
def test_broken_stream_is_an_error_never_a_truncated_answer(proxy, backend, endpoint, prefix, fault):
    with pytest.raises(API_ERRORS) as raised:
        endpoint.call(proxy, f"{prefix}/text+tokens=12+fault={fault}+at=4", BUFFERED)
    assert status_of(raised.value) >= 500
    assert backend.requests, "the backend was asked"
    if endpoint is MESSAGES:  # in Anthropic's error format, as every error of that endpoint
        assert raised.value.body["type"] == "error"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_backend_http_error_reaches_the_client_as_for_a_native_call(proxy, endpoint):
    prefix = "claude" if endpoint is MESSAGES else "oai"
    errors = []
    for extra in (None, BUFFERED):
        with pytest.raises(API_ERRORS) as raised:
            endpoint.call(proxy, f"{prefix}/text+fault=status500", extra)
        errors.append((type(raised.value), status_of(raised.value)))
    assert errors[0] == errors[1]


# ------------------------------------------------------------------------------------------------ disconnects, logging


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_client_disconnect_cancels_the_backend_stream(proxy, backend, endpoint):
    prefix = "claude" if endpoint is MESSAGES else "oai"
    with pytest.raises((openai.APITimeoutError, anthropic.APITimeoutError)):
        endpoint.call(proxy, f"{prefix}/text+tokens=200+delay=0.05", BUFFERED, timeout=1.0)
    # The client gave up after 1 s; the backend must see its stream closed soon after, not 10 s later.
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=3.0)
    assert backend.completed == 0


def events_settle(proxy, predicate: Callable[[list[dict]], bool], timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = proxy.events()
        if predicate(events):
            time.sleep(0.3)
            return proxy.events()
        time.sleep(0.1)
    return proxy.events()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_logged_like_the_native_non_streaming_call(policy_proxy, endpoint):
    """One success event per call, with the same stream flag, usage and cost as the native call's."""
    prefix = "claude" if endpoint is MESSAGES else "oai"
    logged = []
    for extra in (None, BUFFERED):
        policy_proxy.clear_events()
        endpoint.call(policy_proxy, f"{prefix}/text+tokens=7", extra)
        [event] = events_settle(policy_proxy, bool)
        logged.append(event)
    native, buffered = logged
    assert buffered["kind"] == native["kind"] == "success"
    assert (buffered["prompt_tokens"], buffered["completion_tokens"]) == (11, 7)
    fields = ("stream", "prompt_tokens", "completion_tokens", "response_cost")
    assert {k: buffered[k] for k in fields} == {k: native[k] for k in fields}
    assert buffered["buffered_stream"] is True and not native["buffered_stream"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_failed_attempts_are_logged_as_failures(policy_proxy, endpoint):
    policy_proxy.clear_events()
    prefix = "claude" if endpoint is MESSAGES else "oai"
    with pytest.raises(API_ERRORS):
        endpoint.call(policy_proxy, f"{prefix}/text+tokens=9+fault=nofinish", BUFFERED)
    events = events_settle(policy_proxy, bool)
    assert {e["kind"] for e in events} == {"failure"}


def test_unauthenticated_buffered_messages_request_never_reaches_the_backend(proxy, backend):
    response = httpx.post(
        f"{proxy.url}/v1/messages",
        json={"model": "claude/text", "max_tokens": 10, "messages": HI, "buffered_stream": True},
        headers={"x-api-key": f"{MASTER_KEY}x"},
        timeout=10,
    )
    assert response.status_code >= 400
    assert backend.requests == []


# ------------------------------------------------------------------------------------------------ the client hop

KEEPALIVE = {**BUFFERED, "buffered_stream_keepalive_seconds": 0.3}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_keepalive_carries_an_answer_longer_than_the_clients_read_timeout(policy_proxy, backend, endpoint):
    """3 s of tokens; the client gives up after 1 s of silence unless the proxy's whitespace keeps it reading."""
    with pytest.raises((openai.APITimeoutError, anthropic.APITimeoutError)):
        endpoint.call(policy_proxy, f"{endpoint.name}-slow", BUFFERED, timeout=1.0)
    answer = endpoint.call(policy_proxy, f"{endpoint.name}-slow", KEEPALIVE, timeout=1.0)
    assert len(endpoint.words(answer)) == 30


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_total_cap_ends_a_long_buffered_call_with_a_timeout(policy_proxy, backend, endpoint):
    started = time.monotonic()
    with pytest.raises(API_ERRORS) as raised:
        endpoint.call(policy_proxy, f"{endpoint.name}-capped", timeout=60)
    assert status_of(raised.value) == 408
    assert time.monotonic() - started < 8, "10 s of tokens, capped at 1.5 s"
    assert backend.wait_for(lambda: backend.disconnects >= 1, timeout=3.0), "the backend request was cancelled"
    assert backend.completed == 0


def test_failure_after_the_keepalive_commit_is_an_error_in_the_anthropic_sdk(policy_proxy):
    """Cut after its 200 went out: the SDK sees the connection dropped, never a truncated message."""
    with pytest.raises(anthropic.APIConnectionError):
        MESSAGES.call(policy_proxy, "claude/text+tokens=30+delay=0.1+fault=cut+at=20", KEEPALIVE, timeout=60)


@pytest.fixture(scope="module")
def nginx(policy_proxy, start_nginx):
    return start_nginx(policy_proxy, read_timeout=1)


@needs_nginx
def test_messages_behind_nginx_with_keepalive(nginx, backend):
    """nginx's proxy_read_timeout (1 s) cuts the silent 3 s call with a 504; with keepalive it gets through."""
    client = anthropic.Anthropic(base_url=nginx.url, api_key=MASTER_KEY, max_retries=0, timeout=60)
    request = {"model": "messages-slow", "max_tokens": 100, "messages": HI}
    with pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(**request, extra_body=BUFFERED)
    assert raised.value.status_code == 504
    message = client.messages.create(**request, extra_body=KEEPALIVE)
    assert len(message.content[0].text.split()) == 30


def test_messages_on_the_rust_path_are_served_natively_and_the_log_says_why(backend, start_proxy):
    """LITELLM_RUST serves /v1/messages to anthropic/ outside the Python code that buffers: the proxy warns."""
    rust_proxy = start_proxy({"model_list": wildcard_models(backend.url)}, env={"LITELLM_RUST": "1"})
    client = anthropic_client(rust_proxy)
    for _ in range(2):
        raw = client.messages.with_raw_response.create(
            model="claude/text+tokens=3", max_tokens=50, messages=HI, extra_body=BUFFERED
        )
        assert raw.parse().content[0].text == "w0c0 w1c0 w2c0 "
        assert "x-litellm-buffered-stream" not in raw.headers
    warnings = [line for line in rust_proxy.log().splitlines() if "served natively" in line]
    assert len(warnings) == 1, warnings
    assert "/v1/messages" in warnings[0] and "LITELLM_RUST" in warnings[0]
