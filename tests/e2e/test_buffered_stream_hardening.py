"""buffered_stream against spend evasion, abuse and unlucky retries, through the real proxy.

Each test reproduces one finding of an adversarial run: a usage-less backend stream (spend and
budgets), the switch nested where it used to leak to the backend, requests without a usable key,
huge inputs echoed in errors, and retries of a cut stream landing on the same deployment.
"""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from tests.e2e.conftest import BUFFERED, fresh_messages, wildcard_models
from tests.e2e.processes import MASTER_KEY

#: Custom prices, so that spend is a number a test can compare (the fake models have none).
PRICES = {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}
BUDGET = 0.00001  # below the cost of one answer of the budgeted model


def fresh() -> list[dict]:
    return fresh_messages("count my tokens")


@pytest.fixture(scope="module")
def hardened(backend, start_proxy):
    def model(name: str, provider_model: str, **params: object) -> dict:
        provider, scenario = provider_model.split("/", 1)
        return backend.deployment(name, scenario, provider, **params)

    return start_proxy(
        {
            "model_list": [
                # A server that ignores stream_options.include_usage: usage only in non-streamed answers.
                model("usageless", "openai/text+tokens=8+usage=nostream", **PRICES),
                model("usageless-generic", "nvidia_nim/text+tokens=8+usage=nostream", **PRICES),
                model("usageless-cut-after-finish", "openai/text+tokens=8+usage=nostream+fault=cut+at=9", **PRICES),
                model(
                    "usageless-generic-cut-after-finish",
                    "nvidia_nim/text+tokens=8+usage=nostream+fault=cut+at=9",
                    **PRICES,
                ),
                # A per-deployment budget: the router's budget limiter, which needs no database.
                model(
                    "budgeted", "openai/text+tokens=8+usage=nostream", max_budget=BUDGET, budget_duration="1d", **PRICES
                ),
                # One deployment cuts its stream, the other is healthy.
                model("half-broken", "openai/text+tokens=20+fault=cut+at=5", buffered_stream=True),
                model("half-broken", "openai/text+tokens=20", buffered_stream=True),
                model("half-broken-generic", "nvidia_nim/text+tokens=20+fault=cut+at=5", buffered_stream=True),
                model("half-broken-generic", "nvidia_nim/text+tokens=20", buffered_stream=True),
                *wildcard_models(backend.url),
            ],
            "router_settings": {"num_retries": 2, "retry_after": 0},
            "litellm_settings": {"callbacks": ["event_log.event_log"]},
        }
    )


def post(proxy, body: dict, headers: dict | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {MASTER_KEY}"} if headers is None else headers
    return httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=headers, timeout=30, trust_env=False)


def events_settle(proxy, count: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(proxy.events()) < count:
        time.sleep(0.1)
    time.sleep(0.3)
    return proxy.events()


# ------------------------------------------------------------------------------------------------ spend


@pytest.mark.parametrize("model", ["usageless", "usageless-generic"])
def test_usageless_stream_is_counted_costed_and_marked_estimated(hardened, backend, model):
    """Finding 1: a stream without usage used to give 0/0/0, cost 0.0 and no cost header."""
    hardened.clear_events()
    response = hardened.client().chat.completions.with_raw_response.create(
        model=model, messages=fresh(), extra_body=BUFFERED
    )
    completion = response.parse()
    assert response.headers.get("x-litellm-buffered-stream") == "true"
    assert len(completion.choices[0].message.content.split()) == 8
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens >= 8
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert float(response.headers["x-litellm-response-cost"]) > 0
    [event] = events_settle(hardened, 1)
    assert event["kind"] == "success"
    assert event["prompt_tokens"] > 0 and event["completion_tokens"] >= 8
    assert event["response_cost"] > 0
    assert event["usage_estimated"] is True


@pytest.mark.parametrize("model", ["oai/text+tokens=7", "nim/text+tokens=7+usage=every"])
def test_usage_from_the_stream_is_not_marked_estimated(hardened, backend, model):
    hardened.clear_events()
    completion = hardened.client().chat.completions.create(model=model, messages=fresh(), extra_body=BUFFERED)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 7)
    [event] = events_settle(hardened, 1)
    assert event["usage_estimated"] is None


@pytest.mark.parametrize("model", ["usageless-cut-after-finish", "usageless-generic-cut-after-finish"])
def test_stream_cut_after_its_finish_chunk_is_never_free(hardened, backend, model):
    """Finding 1, second form: a stream cut after its finish chunk, before any usage or the end marker."""
    hardened.clear_events()
    try:
        response = hardened.client().chat.completions.with_raw_response.create(
            model=model, messages=fresh(), extra_body=BUFFERED
        )
    except openai.APIStatusError as error:  # failing is fine (the wire path does); a free success is not
        assert error.status_code >= 500
        return
    completion = response.parse()
    assert completion.usage.completion_tokens >= 8
    assert float(response.headers["x-litellm-response-cost"]) > 0
    [event] = [e for e in events_settle(hardened, 1) if e["kind"] == "success"]
    assert event["completion_tokens"] >= 8 and event["response_cost"] > 0


def test_budget_stops_a_client_whose_backend_reports_no_usage(hardened, backend):
    """Finding 1: with zero recorded spend a buffered client never reached its budget."""
    hardened.clear_events()
    client = hardened.client()
    client.chat.completions.create(model="budgeted", messages=fresh(), extra_body=BUFFERED)
    events_settle(hardened, 1)
    refused = None
    deadline = time.monotonic() + 10
    while refused is None and time.monotonic() < deadline:
        try:
            client.chat.completions.create(model="budgeted", messages=fresh(), extra_body=BUFFERED)
        except openai.APIStatusError as error:
            refused = error
        time.sleep(0.2)
    assert refused is not None, "the deployment's budget was never exceeded: the buffered calls cost nothing"
    assert refused.status_code == 429 and "budget" in str(refused).lower()


# ------------------------------------------------------------------------------------------------ nested forms


def all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in all_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in all_keys(item)}
    return set()


@pytest.mark.parametrize("prefix", ["oai", "vllm", "claude", "ollama", "nim"])
def test_switch_in_extra_body_is_honoured_and_never_forwarded(hardened, backend, prefix):
    """Finding 3: `extra_body.buffered_stream` was forwarded verbatim and not honoured."""
    response = post(
        hardened,
        {
            "model": f"{prefix}/text+tokens=4",
            "messages": fresh(),
            "extra_body": {"buffered_stream": True, "allow_client_buffered_stream_override": True},
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers.get("x-litellm-buffered-stream") == "true"
    [seen] = backend.requests
    assert seen.body["stream"] is True
    assert not all_keys(seen.body) & {"buffered_stream", "allow_client_buffered_stream_override", "extra_body"}


def test_switch_in_extra_body_keeps_the_other_extra_fields(hardened, backend):
    response = post(
        hardened,
        {"model": "oai/text", "messages": fresh(), "extra_body": {"buffered_stream": True, "top_k": 3}},
    )
    assert response.status_code == 200, response.text
    [seen] = backend.requests
    assert seen.body["stream"] is True and seen.body["top_k"] == 3
    assert "buffered_stream" not in all_keys(seen.body)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"litellm_params": {"buffered_stream": True}}, "litellm_params.buffered_stream"),
        ({"metadata": {"buffered_stream": True}}, "metadata.buffered_stream"),
        ({"metadata": {"allow_client_buffered_stream_override": True}}, "allow_client_buffered_stream_override"),
        ({"extra_body": {"buffered_stream": "yes"}}, "buffered_stream"),
        ({"buffered_stream": True, "extra_body": {"buffered_stream": False}}, "buffered_stream"),
    ],
)
def test_switch_where_it_would_be_ignored_is_a_400_naming_it(hardened, backend, body, named):
    response = post(hardened, {"model": "oai/text", "messages": fresh(), **body})
    assert response.status_code == 400, response.text
    assert named in response.json()["error"]["message"]
    assert backend.requests == []


# ------------------------------------------------------------------------------------------------ credentials


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "garbage"},
        {"api-key": ""},
    ],
    ids=["missing", "empty", "bearer-without-key", "no-scheme", "empty-api-key"],
)
@pytest.mark.parametrize("extra", [{}, BUFFERED], ids=["native", "buffered"])
def test_missing_empty_or_malformed_credentials_get_a_401(hardened, backend, headers, extra):
    """Finding 4: the auth error path imported prisma, absent without a database: a 500."""
    response = post(hardened, {"model": "oai/text", "messages": fresh(), **extra}, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["type"] == "auth_error"
    assert backend.requests == []


# ------------------------------------------------------------------------------------------------ bounded errors

HUGE = 2_000_000
BOUNDED = 2_000  # bytes an error response may take, whatever the size of what it quotes


@pytest.mark.parametrize(
    "body",
    [
        {"buffered_stream": "y" * HUGE},
        {"extra_body": {"buffered_stream": "y" * HUGE}},
        {"buffered_stream": True, "extra_body": {"buffered_stream": "y" * HUGE}},
        {"buffered_stream": ["y" * 1000] * 2000},
    ],
    ids=["top-level", "extra_body", "conflict", "list"],
)
def test_huge_invalid_flag_gets_a_short_400(hardened, backend, body):
    """Finding 5: a 2 MB non-boolean flag came back in a 2 MB 400."""
    response = post(hardened, {"model": "oai/text", "messages": fresh(), **body})
    assert response.status_code == 400
    assert "buffered_stream" in response.text
    assert len(response.content) < BOUNDED, len(response.content)


@pytest.mark.parametrize("prefix", ["oai", "nim"])
def test_huge_backend_error_mid_stream_gets_a_short_error(hardened, backend, prefix):
    response = post(
        hardened,
        {"model": f"{prefix}/text+tokens=9+fault=error+at=3+error_bytes={HUGE}", "messages": fresh(), **BUFFERED},
    )
    assert response.status_code >= 500
    assert len(response.content) < BOUNDED, len(response.content)


def test_huge_unparseable_event_gets_a_short_error(hardened, backend):
    response = post(hardened, {"model": "oai/text+tokens=9+fault=malformed+at=3", "messages": fresh(), **BUFFERED})
    assert response.status_code == 502
    assert len(response.content) < BOUNDED


# ------------------------------------------------------------------------------------------------ retries


@pytest.mark.parametrize("group", ["half-broken", "half-broken-generic"])
def test_cut_stream_is_retried_on_the_healthy_deployment_every_time(hardened, backend, group):
    """Finding 6: with num_retries 2, 1 or 2 in 10 calls had every attempt routed to the cutting deployment."""
    client = hardened.client(timeout=60)
    answered = 0
    for _ in range(20):
        completion = client.chat.completions.create(model=group, messages=fresh())
        answered += len(completion.choices[0].message.content.split()) == 20
    assert answered == 20
    assert all(json.dumps(r.body).count("buffered_stream") == 0 for r in backend.requests)
