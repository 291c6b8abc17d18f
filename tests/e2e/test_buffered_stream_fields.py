"""Where a request may carry each client-facing buffered_stream field, through the real proxy, on every endpoint.

One rule for ``buffered_stream``, ``allow_client_buffered_stream_override``,
``buffered_stream_keepalive_seconds`` and ``buffered_stream_max_seconds`` (docs/buffered-stream.md,
"Where the fields may be"): read at the top level of the body; in a raw ``"extra_body": {...}`` read
as if at the top level; at both places with different values a 400 naming the field; under
``litellm_params`` or ``metadata`` a 400 naming ``litellm_params.<field>`` / ``metadata.<field>``;
never sent to the backend. The clients are the official SDKs (OpenAI; Anthropic on /v1/messages): a
raw ``"extra_body"`` key is what their ``extra_body={"extra_body": {...}}`` sends. The fake backend
records every request it receives.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import BUFFERED, HI, wildcard_models
from tests.e2e.test_buffered_stream_endpoints import API_ERRORS, MESSAGES, RESPONSES, TEXT, Endpoint, status_of
from tests.e2e.test_buffered_stream_hardening import all_keys

KEEPALIVE = "buffered_stream_keepalive_seconds"
MAX_SECONDS = "buffered_stream_max_seconds"
FIELDS = ("buffered_stream", "allow_client_buffered_stream_override", KEEPALIVE, MAX_SECONDS)

#: ~1.2 s of tokens: a 0.3 s keepalive interval writes a few spaces before the body.
SLOW = "text+tokens=12+delay=0.1"
INTERVAL = 0.3
#: 5 s of tokens behind an operator's cap of 1 s.
CAP = 1.0


class Chat(Endpoint):
    name = "chat"

    def raw(self, proxy, model, extra=None, **params):
        return proxy.client().chat.completions.with_raw_response.create(
            model=model, messages=HI, extra_body=extra, **params
        )

    def words(self, answer):
        return answer.choices[0].message.content.split()


ENDPOINTS = [Chat(), MESSAGES, RESPONSES, TEXT]
#: The route prefix of each endpoint's backend (native Anthropic on /v1/messages, OpenAI elsewhere).
PREFIX = {"chat": "oai", "messages": "claude", "responses": "oai", "completions": "oai"}
PROVIDER = {"oai": "openai", "claude": "anthropic"}


def model(endpoint: Endpoint, scenario: str) -> str:
    return f"{PREFIX[endpoint.name]}/{scenario}"


def place(where: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The body fields (what the SDK's ``extra_body`` adds to the JSON body) that put ``fields`` at ``where``."""
    return fields if where == "top" else {where: fields}


@pytest.fixture(scope="module")
def fields_proxy(backend, start_proxy):
    capped = [
        backend.deployment(
            f"capped-{prefix}",
            "text+tokens=50+delay=0.1",
            provider,
            buffered_stream=True,
            buffered_stream_max_seconds=CAP,
        )
        for prefix, provider in PROVIDER.items()
    ]
    return start_proxy({"model_list": [*capped, *wildcard_models(backend.url)], "router_settings": {"num_retries": 0}})


def assert_nothing_leaked(backend) -> None:
    [seen] = backend.requests
    assert seen.body["stream"] is True, "buffered"
    assert not all_keys(seen.body) & {*FIELDS, "extra_body"}, seen.body


# ------------------------------------------------------------------------------------------------ read


@pytest.mark.parametrize("where", ["top", "extra_body"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_keepalive_is_read_at_the_top_level_and_in_extra_body(fields_proxy, backend, endpoint, where):
    """The proxy writes its whitespace before the body (the effect), and the backend never sees the field."""
    extra = {**BUFFERED, **place(where, {KEEPALIVE: INTERVAL})}
    raw = endpoint.raw(fields_proxy, model(endpoint, SLOW), extra)
    assert raw.headers["x-litellm-buffered-stream"] == "true"
    body = raw.http_response.content
    assert body.startswith(b" "), body[:40]
    assert len(endpoint.words(raw.parse())) == 12
    assert_nothing_leaked(backend)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_without_keepalive_the_body_starts_at_once(fields_proxy, backend, endpoint):
    """The control for the test above: the same slow answer, buffered, with no interval anywhere."""
    raw = endpoint.raw(fields_proxy, model(endpoint, SLOW), BUFFERED)
    assert raw.http_response.content.startswith(b"{")
    assert_nothing_leaked(backend)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_the_switch_and_keepalive_together_in_extra_body(fields_proxy, backend, endpoint):
    extra = {"extra_body": {**BUFFERED, KEEPALIVE: INTERVAL, "allow_client_buffered_stream_override": True}}
    raw = endpoint.raw(fields_proxy, model(endpoint, SLOW), extra)
    assert raw.http_response.content.startswith(b" ")
    assert_nothing_leaked(backend)


@pytest.mark.parametrize("where", ["top", "extra_body", "both"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_clients_cap_is_dropped_wherever_it_is_sent(fields_proxy, backend, endpoint, where):
    """The operator's cap (1 s) ends a 5 s answer although the client asks for none (0) or for an hour."""
    extra = {
        "top": {MAX_SECONDS: 0},
        "extra_body": {"extra_body": {MAX_SECONDS: 3600}},
        "both": {MAX_SECONDS: 3600, "extra_body": {MAX_SECONDS: 3600}},  # the same value twice: read, then dropped
    }[where]
    started = time.monotonic()
    with pytest.raises(API_ERRORS) as raised:
        endpoint.raw(fields_proxy, f"capped-{PREFIX[endpoint.name]}", extra)
    assert status_of(raised.value) == 408
    assert MAX_SECONDS in str(raised.value)
    assert time.monotonic() - started < 4, "the operator's cap, not the client's"
    assert backend.wait_for(lambda: backend.disconnects == 1, timeout=3.0), "the backend request was cancelled"
    assert_nothing_leaked(backend)


@pytest.mark.parametrize("where", ["top", "extra_body"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_clients_short_cap_does_not_end_an_uncapped_call(fields_proxy, backend, endpoint, where):
    """A client cannot lower the cap either: 0.3 s asked, the 1.2 s answer arrives whole (default cap, 600 s)."""
    raw = endpoint.raw(fields_proxy, model(endpoint, SLOW), {**BUFFERED, **place(where, {MAX_SECONDS: 0.3})})
    assert len(endpoint.words(raw.parse())) == 12
    assert_nothing_leaked(backend)


# ------------------------------------------------------------------------------------------------ refused


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("container", ["litellm_params", "metadata"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_field_where_it_is_not_read_is_a_400_naming_it(fields_proxy, backend, endpoint, container, field):
    value = 0.5 if field in (KEEPALIVE, MAX_SECONDS) else True
    with pytest.raises(API_ERRORS) as raised:
        endpoint.raw(fields_proxy, model(endpoint, "text"), {**BUFFERED, container: {field: value}})
    assert status_of(raised.value) == 400
    assert f"{container}.{field}" in str(raised.value)
    assert backend.requests == []


@pytest.mark.parametrize(
    ("field", "top", "nested"),
    [
        ("buffered_stream", True, False),
        ("allow_client_buffered_stream_override", True, False),
        (KEEPALIVE, INTERVAL, 2),
        (MAX_SECONDS, 10, 20),
    ],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_field_at_both_levels_with_different_values_is_a_400_naming_it(
    fields_proxy, backend, endpoint, field, top, nested
):
    with pytest.raises(API_ERRORS) as raised:
        endpoint.raw(fields_proxy, model(endpoint, "text"), {**BUFFERED, field: top, "extra_body": {field: nested}})
    assert status_of(raised.value) == 400
    assert f"'{field}' is sent twice" in str(raised.value)
    assert backend.requests == []


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_an_invalid_keepalive_in_extra_body_is_a_400_naming_it(fields_proxy, backend, endpoint):
    with pytest.raises(API_ERRORS) as raised:
        endpoint.raw(fields_proxy, model(endpoint, "text"), {**BUFFERED, "extra_body": {KEEPALIVE: "soon"}})
    assert status_of(raised.value) == 400
    assert f"Invalid value for '{KEEPALIVE}'" in str(raised.value)
    assert backend.requests == []
