"""buffered_stream through the real proxy, with the OpenAI SDK as the client and fake backends on 127.0.0.1."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.e2e.conftest import BUFFERED, HI, WILDCARD_PROVIDERS, wildcard_models
from tests.e2e.conftest import fresh_messages as fresh
from tests.e2e.processes import MASTER_KEY

PROVIDERS = list(WILDCARD_PROVIDERS)
OPENAI_WIRE = ["oai", "vllm", "custom", "groq", "azure"]


@pytest.fixture(scope="module")
def policy_proxy(backend, start_proxy):
    """Operator-side settings: per-model switch, pinned values, a short timeout, a fallback pair, a cache."""

    model = backend.deployment
    return start_proxy(
        {
            "model_list": [
                model("on-by-config", "text+tokens=6", buffered_stream=True),
                model("pinned-on", "text+tokens=6", buffered_stream=True, allow_client_buffered_stream_override=False),
                model(
                    "pinned-off", "text+tokens=6", buffered_stream=False, allow_client_buffered_stream_override=False
                ),
                model("slow", "text+tokens=30+delay=0.1", timeout=1.5),
                model("slow-stall", "text+tokens=10+fault=stall+at=3", timeout=1.5),
                model("flaky", "text+tokens=20+fault=cut+at=5", buffered_stream=True),
                model("steady", "text+tokens=20", buffered_stream=True),
                model("cached", "text+tokens=6", buffered_stream=True),
                *wildcard_models(backend.url),
            ],
            "router_settings": {"num_retries": 2, "retry_after": 0, "fallbacks": [{"flaky": ["steady"]}]},
            "litellm_settings": {
                "callbacks": ["event_log.event_log"],
                "cache": True,
                "cache_params": {"type": "local", "supported_call_types": ["acompletion"]},
            },
        }
    )


def comparable(completion: openai.types.chat.ChatCompletion) -> dict:
    """What a client can compare between two answers: everything but the id and the creation time."""
    return completion.model_dump(exclude={"id", "created"})


# ------------------------------------------------------------------------------------------------ providers


@pytest.mark.parametrize("prefix", PROVIDERS)
def test_buffered_call_streams_from_the_backend_and_answers_plainly(proxy, backend, prefix):
    response = proxy.client().chat.completions.with_raw_response.create(
        model=f"{prefix}/text+tokens=8", messages=HI, extra_body=BUFFERED
    )
    completion = response.parse()
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-litellm-buffered-stream") == "true"
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content.split() == [f"w{j}c0" for j in range(8)]
    assert completion.choices[0].finish_reason == "stop"
    if prefix == "nim":  # the provider cannot ask for usage in a stream: the tokenizer counts
        assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens >= 8
    else:
        assert completion.usage.prompt_tokens == 11 and completion.usage.completion_tokens == 8
    [seen] = backend.requests
    assert seen.body["stream"] is True
    assert "buffered_stream" not in seen.body and "buffered_stream" not in (seen.body.get("options") or {})
    if prefix in OPENAI_WIRE:
        assert seen.body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("prefix", PROVIDERS)
def test_without_the_switch_nothing_changes(proxy, backend, prefix):
    response = proxy.client().chat.completions.with_raw_response.create(model=f"{prefix}/text+tokens=3", messages=HI)
    assert "x-litellm-buffered-stream" not in response.headers
    [seen] = backend.requests
    assert not seen.body.get("stream")


# ------------------------------------------------------------------------------------------------ parity

PARITY_SCENARIOS = [
    ("oai", "text+tokens=12", {}),
    ("oai", "tools+tokens=6", {}),
    ("oai", "function_call+tokens=4", {}),
    ("oai", "reasoning+tokens=5", {}),
    ("oai", "text+tokens=5+finish=length", {}),
    ("oai", "text+tokens=5+finish=content_filter", {}),
    ("oai", "text+tokens=5+cached=7", {}),
    ("oai", "text+tokens=5+usage=every", {}),
    ("oai", "text+tokens=4", {"n": 3}),
    ("oai", "tools+tokens=3", {"n": 2}),
    ("oai", "text+tokens=4", {"logprobs": True}),
    ("vllm", "tools+tokens=6", {}),
    ("vllm", "reasoning+tokens=5", {}),
    ("custom", "text+tokens=4", {"n": 2}),
    ("azure", "tools+tokens=4", {}),
    ("groq", "text+tokens=5+cached=3", {}),
    ("ollama", "reasoning+tokens=5", {}),
    ("claude", "tools+tokens=4", {}),
    ("claude", "reasoning+tokens=6", {}),
    ("claude", "text+tokens=6+cached=5", {}),
]


@pytest.mark.parametrize(("prefix", "scenario", "params"), PARITY_SCENARIOS)
def test_buffered_answer_equals_the_native_answer(proxy, backend, prefix, scenario, params):
    client = proxy.client()
    native = client.chat.completions.create(model=f"{prefix}/{scenario}", messages=HI, **params)
    buffered = client.chat.completions.create(model=f"{prefix}/{scenario}", messages=HI, extra_body=BUFFERED, **params)
    assert [bool(r.body.get("stream")) for r in backend.requests] == [False, True]
    assert comparable(buffered) == comparable(native)
    assert len(buffered.choices) == (params.get("n") or 1)


def test_parallel_tool_calls_keep_their_own_id_name_and_arguments(proxy):
    completion = proxy.client().chat.completions.create(model="oai/tools+tokens=9", messages=HI, extra_body=BUFFERED)
    calls = completion.choices[0].message.tool_calls
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == [
        ("call_a0", "get_weather", '{"city": "Paris", "unit": "c"}'),
        ("call_b0", "get_time", '{"tz": "Europe/Paris"}'),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


# ------------------------------------------------------------------------------------------------ switches


def test_stream_true_requests_are_untouched(proxy, backend):
    stream = proxy.client().chat.completions.create(
        model="oai/text+tokens=4", messages=HI, stream=True, extra_body=BUFFERED
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).split() == [
        f"w{j}c0" for j in range(4)
    ]
    [seen] = backend.requests
    assert seen.body["stream"] is True and "buffered_stream" not in seen.body


@pytest.mark.parametrize("value", ["yes", 1, "true", {"on": True}])
def test_non_boolean_value_is_a_400_naming_the_field(proxy, backend, value):
    with pytest.raises(openai.BadRequestError) as raised:
        proxy.client().chat.completions.create(model="oai/text", messages=HI, extra_body={"buffered_stream": value})
    assert raised.value.status_code == 400
    assert "buffered_stream" in str(raised.value)
    assert backend.requests == []


@pytest.mark.parametrize(
    ("model", "client_value", "streamed"),
    [
        ("on-by-config", None, True),
        ("on-by-config", False, False),
        ("pinned-on", False, True),
        ("pinned-on", None, True),
        ("pinned-off", True, False),
        ("oai/text+tokens=6", True, True),
    ],
)
def test_operator_config_and_client_precedence(policy_proxy, backend, model, client_value, streamed):
    extra = None if client_value is None else {"buffered_stream": client_value}
    response = policy_proxy.client().chat.completions.with_raw_response.create(
        model=model, messages=fresh(), extra_body=extra
    )
    assert response.parse().choices[0].message.content.split()[0] == "w0c0"
    assert bool(backend.requests[-1].body.get("stream")) is streamed
    assert (response.headers.get("x-litellm-buffered-stream") == "true") is streamed


def test_client_cannot_lift_the_operator_pin(policy_proxy, backend):
    policy_proxy.client().chat.completions.create(
        model="pinned-off",
        messages=fresh(),
        extra_body={"buffered_stream": True, "allow_client_buffered_stream_override": True},
    )
    [seen] = backend.requests
    assert not seen.body.get("stream")
    assert "allow_client_buffered_stream_override" not in seen.body


# ------------------------------------------------------------------------------------------------ timeouts


def test_timeout_bounds_the_gaps_not_the_generation(policy_proxy, backend):
    """Headline: 3 s of tokens at 0.1 s gaps behind `timeout: 1.5`, with the router allowed 2 retries."""
    client = policy_proxy.client(timeout=60)
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model="slow", messages=fresh())
    assert raised.value.status_code == 408
    assert len(backend.requests) == 3, "the native call times out on every attempt"

    backend.reset()
    started = time.monotonic()
    completion = client.chat.completions.create(model="slow", messages=fresh(), extra_body=BUFFERED)
    elapsed = time.monotonic() - started
    assert len(completion.choices[0].message.content.split()) == 30
    assert len(backend.requests) == 1, "one backend generation, no retry"
    assert elapsed < 30


def test_stall_past_the_timeout_fails_instead_of_waiting(policy_proxy, backend):
    with pytest.raises(openai.APIStatusError) as raised:
        policy_proxy.client(timeout=60).chat.completions.create(
            model="slow-stall", messages=fresh(), extra_body=BUFFERED
        )
    assert raised.value.status_code == 408
    assert len(backend.requests) == 3


# ------------------------------------------------------------------------------------------------ failures


@pytest.mark.parametrize("prefix", ["oai", "vllm", "ollama", "claude", "nim"])
@pytest.mark.parametrize("fault", ["cut", "malformed", "nofinish", "error"])
def test_broken_stream_is_an_error_never_a_truncated_answer(proxy, backend, prefix, fault):
    with pytest.raises(openai.APIStatusError) as raised:
        proxy.client().chat.completions.create(
            model=f"{prefix}/text+tokens=12+fault={fault}+at=4", messages=HI, extra_body=BUFFERED
        )
    assert raised.value.status_code >= 500
    assert backend.requests, "the backend was asked"


def test_backend_http_error_reaches_the_client_as_for_a_native_call(proxy):
    errors = []
    for extra in (None, BUFFERED):
        with pytest.raises(openai.APIStatusError) as raised:
            proxy.client().chat.completions.create(model="oai/text+fault=status500", messages=HI, extra_body=extra)
        errors.append((type(raised.value), raised.value.status_code))
    assert errors[0] == errors[1]


def test_stream_cut_on_one_deployment_is_answered_in_full_by_the_fallback(policy_proxy, backend):
    completion = policy_proxy.client().chat.completions.create(model="flaky", messages=fresh())
    assert len(completion.choices[0].message.content.split()) == 20
    assert completion.choices[0].finish_reason == "stop"
    models = [r.body["model"] for r in backend.requests]
    assert models[-1] == "text+tokens=20" and "text+tokens=20+fault=cut+at=5" in models


# ------------------------------------------------------------------------------------------------ disconnects


@pytest.mark.parametrize("prefix", ["oai", "nim"])
def test_client_disconnect_cancels_the_backend_stream(proxy, backend, prefix):
    with pytest.raises(openai.APITimeoutError):
        proxy.client(timeout=1.0).chat.completions.create(
            model=f"{prefix}/text+tokens=200+delay=0.05", messages=HI, extra_body=BUFFERED
        )
    # The client gave up after 1 s; the backend must see its stream closed soon after, not 10 s later.
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=3.0)
    assert backend.completed == 0


# ------------------------------------------------------------------------------------------------ logging, cache


def test_one_success_event_with_the_assembled_response_and_real_usage(policy_proxy, backend):
    policy_proxy.clear_events()
    completion = policy_proxy.client().chat.completions.create(
        model="oai/text+tokens=7", messages=fresh(), extra_body=BUFFERED
    )
    assert policy_proxy_events_settle(policy_proxy, 1)
    [event] = policy_proxy.events()
    assert event["kind"] == "success"
    assert (event["prompt_tokens"], event["completion_tokens"]) == (11, 7)
    assert event["buffered_stream"] is True
    assert event["response"]["choices"][0]["message"]["content"] == completion.choices[0].message.content


def test_failed_attempts_are_logged_as_failures(policy_proxy, backend):
    policy_proxy.clear_events()
    with pytest.raises(openai.APIStatusError):
        policy_proxy.client().chat.completions.create(
            model="oai/text+tokens=9+fault=nofinish", messages=fresh(), extra_body=BUFFERED
        )
    assert policy_proxy_events_settle(policy_proxy, 1)
    kinds = {e["kind"] for e in policy_proxy.events()}
    assert kinds == {"failure"}


def test_assembled_response_is_cached_and_served_as_non_streaming(policy_proxy, backend):
    client = policy_proxy.client()
    messages = [{"role": "user", "content": f"cache me {time.time()}"}]
    first = client.chat.completions.with_raw_response.create(model="cached", messages=messages)
    content = first.parse().choices[0].message.content
    second = client.chat.completions.with_raw_response.create(model="cached", messages=messages)
    assert second.headers["content-type"].startswith("application/json")
    assert second.parse().choices[0].message.content == content
    assert len(backend.requests) == 1


def policy_proxy_events_settle(proxy, count: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(proxy.events()) >= count:
            time.sleep(0.3)
            return True
        time.sleep(0.1)
    return False


def test_proxy_health_and_auth_unaffected(proxy, backend):
    assert httpx.get(f"{proxy.url}/health/liveliness", timeout=5).status_code == 200
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": "oai/text", "messages": HI, "buffered_stream": True},
        headers={"Authorization": f"Bearer {MASTER_KEY}x"},
        timeout=10,
    )
    # A key that is not the master key is looked up in the database; this proxy has none (upstream's 400).
    assert response.status_code == 400 and "No connected db" in response.text
    assert backend.requests == [], "an unauthenticated buffered request never reaches the backend"


def warnings_in(proxy, cause: str) -> list[str]:
    return [line for line in proxy.log().splitlines() if "served natively" in line and cause in line]


def test_a_buffered_call_served_natively_is_named_in_the_log_once(proxy, backend):
    """Asked for buffering, served natively: the answer is the native one, and the log says why, once."""
    client = proxy.client()
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(
            model="oai/text+tokens=4+ignores_stream=1", messages=HI, extra_body=BUFFERED
        )
        assert raw.parse().choices[0].message.content == "w0c0 w1c0 w2c0 w3c0 "
        assert "x-litellm-buffered-stream" not in raw.headers
    assert backend.requests[-1].body["stream"] is True  # it was asked for a stream, and ignored the field
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(model="nim/text", messages=HI, n=2, extra_body=BUFFERED)
        assert "x-litellm-buffered-stream" not in raw.headers
        assert backend.requests[-1].body.get("stream") is not True
    assert backend.wait_for(lambda: False, timeout=0.5) is False  # let the log flush
    [ignored] = warnings_in(proxy, "ignored stream: true")
    assert "/v1/chat/completions" in ignored and "openai/text+tokens=4+ignores_stream=1" in ignored
    [choices] = warnings_in(proxy, "n > 1")
    assert "nvidia_nim/text" in choices
