"""Unit tests for litellm/buffered_stream/proxy.py: disconnects, the total cap and the client hop's keepalive."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import litellm
from litellm.buffered_stream.options import (
    DEFAULT_MAX_SECONDS,
    FIELD,
    KEEPALIVE_FIELD,
    MAX_SECONDS_FIELD,
    OVERRIDE_FIELD,
)
from litellm.buffered_stream.proxy import (
    NOT_BUFFERED,
    AbortedAfterCommit,
    BufferedProxyCall,
    ClientKeepalive,
    resolve,
)


def cancels_on_disconnect(request_data: dict[str, Any], llm_router: Any) -> bool:
    return resolve(request_data, llm_router).cancels_on_disconnect


class FakeRouter:
    """Just enough of litellm.Router: deployments by model group name."""

    def __init__(self, groups: dict[str, list[dict[str, Any]]]) -> None:
        self.groups = groups
        self.asked: list[str] = []

    def get_model_list(self, model_name: str | None = None) -> list[dict[str, Any]] | None:
        assert model_name is not None
        self.asked.append(model_name)
        return self.groups.get(model_name)


class BrokenRouter:
    def get_model_list(self, model_name: str | None = None) -> list[dict[str, Any]]:
        raise RuntimeError("router exploded")


def deployment(**params: Any) -> dict[str, Any]:
    return {"model_name": "g", "litellm_params": {"model": "openai/m", **params}}


def router(*deployments: dict[str, Any]) -> FakeRouter:
    return FakeRouter({"g": list(deployments)})


@pytest.mark.parametrize(
    ("params", "client", "expected"),
    [
        ({}, None, False),
        ({}, True, True),
        ({}, False, False),
        ({FIELD: True}, None, True),
        ({FIELD: True}, False, False),
        ({FIELD: False}, True, True),
        ({FIELD: True, OVERRIDE_FIELD: False}, False, True),
        ({FIELD: True, OVERRIDE_FIELD: False}, None, True),
        ({FIELD: False, OVERRIDE_FIELD: False}, True, False),
        ({OVERRIDE_FIELD: False}, True, False),
        ({FIELD: True, OVERRIDE_FIELD: True}, False, False),
        ({FIELD: False, OVERRIDE_FIELD: True}, True, True),
    ],
)
def test_single_deployment(params: dict[str, Any], client: bool | None, expected: bool) -> None:
    request: dict[str, Any] = {"model": "g"}
    if client is not None:
        request[FIELD] = client
    fake = router(deployment(**params))
    assert cancels_on_disconnect(request, fake) is expected
    assert fake.asked == ["g"]


def test_streaming_request_never_cancels() -> None:
    fake = router(deployment(**{FIELD: True, OVERRIDE_FIELD: False}))
    assert cancels_on_disconnect({"model": "g", "stream": True, FIELD: True}, fake) is False


def test_stream_false_is_not_streaming() -> None:
    assert cancels_on_disconnect({"model": "g", "stream": False}, router(deployment(**{FIELD: True}))) is True


def test_any_buffered_deployment_in_the_group_cancels() -> None:
    fake = router(deployment(), deployment(**{FIELD: True}))
    assert cancels_on_disconnect({"model": "g"}, fake) is True


def test_no_buffered_deployment_in_the_group() -> None:
    fake = router(deployment(**{FIELD: False}), deployment())
    assert cancels_on_disconnect({"model": "g"}, fake) is False


def test_deployment_without_litellm_params() -> None:
    fake = FakeRouter({"g": [{"model_name": "g"}]})
    assert cancels_on_disconnect({"model": "g", FIELD: True}, fake) is True
    assert cancels_on_disconnect({"model": "g"}, fake) is False


@pytest.mark.parametrize("client", [True, False, None])
def test_unknown_model_follows_the_client(client: bool | None) -> None:
    request: dict[str, Any] = {"model": "other"}
    if client is not None:
        request[FIELD] = client
    assert cancels_on_disconnect(request, router(deployment(**{FIELD: True}))) is (client is True)


@pytest.mark.parametrize("llm_router", [None, BrokenRouter()])
def test_no_usable_router_follows_the_client(llm_router: Any) -> None:
    assert cancels_on_disconnect({"model": "g", FIELD: True}, llm_router) is True
    assert cancels_on_disconnect({"model": "g"}, llm_router) is False


def test_non_string_model_follows_the_client() -> None:
    fake = router(deployment(**{FIELD: True}))
    assert cancels_on_disconnect({"model": None, FIELD: True}, fake) is True
    assert cancels_on_disconnect({}, fake) is False
    assert fake.asked == []


def test_switch_in_extra_body_counts_as_the_clients() -> None:
    assert cancels_on_disconnect({"model": "g", "extra_body": {FIELD: True}}, router(deployment())) is True
    assert (
        cancels_on_disconnect({"model": "g", "extra_body": {FIELD: False}}, router(deployment(**{FIELD: True})))
        is False
    )


# ------------------------------------------------------------------------------------------------ resolve


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch):
    """``litellm_settings`` defaults, as the proxy sets them (``setattr(litellm, key, value)``)."""

    def set_(**values: Any) -> None:
        for key, value in values.items():
            monkeypatch.setattr(litellm, key, value, raising=False)

    monkeypatch.delattr(litellm, KEEPALIVE_FIELD, raising=False)
    monkeypatch.delattr(litellm, MAX_SECONDS_FIELD, raising=False)
    return set_


def test_defaults_no_keepalive_and_a_finite_cap(settings) -> None:
    call = resolve({"model": "g"}, router(deployment(**{FIELD: True})))
    assert call == BufferedProxyCall(buffered=True, keepalive_seconds=None, max_seconds=DEFAULT_MAX_SECONDS)
    assert resolve({"model": "g"}, router(deployment())) == NOT_BUFFERED


@pytest.mark.parametrize(
    ("params", "litellm_settings", "client", "keepalive"),
    [
        ({KEEPALIVE_FIELD: 2}, {}, None, 2.0),
        ({}, {KEEPALIVE_FIELD: 3}, None, 3.0),
        ({KEEPALIVE_FIELD: 2}, {KEEPALIVE_FIELD: 3}, None, 2.0),
        ({KEEPALIVE_FIELD: 0}, {KEEPALIVE_FIELD: 3}, None, None),
        ({}, {}, 1.5, 1.5),
        ({KEEPALIVE_FIELD: 2}, {}, 0, None),
        ({KEEPALIVE_FIELD: 2, OVERRIDE_FIELD: False}, {}, 9, 2.0),
        ({OVERRIDE_FIELD: False}, {}, 9, None),
    ],
)
def test_keepalive_precedence(settings, params, litellm_settings, client, keepalive) -> None:
    settings(**litellm_settings)
    request: dict[str, Any] = {"model": "g"}
    if client is not None:
        request[KEEPALIVE_FIELD] = client
    call = resolve(request, router(deployment(**{FIELD: True, **params})))
    assert call.buffered and call.keepalive_seconds == keepalive


@pytest.mark.parametrize(
    ("params", "litellm_settings", "cap"),
    [
        ({}, {}, DEFAULT_MAX_SECONDS),
        ({MAX_SECONDS_FIELD: 30}, {}, 30.0),
        ({}, {MAX_SECONDS_FIELD: 45}, 45.0),
        ({MAX_SECONDS_FIELD: 30}, {MAX_SECONDS_FIELD: 45}, 30.0),
        ({MAX_SECONDS_FIELD: 0}, {}, None),
        ({}, {MAX_SECONDS_FIELD: 0}, None),
        ({}, {MAX_SECONDS_FIELD: None}, None),
    ],
)
def test_cap_precedence_and_removal(settings, params, litellm_settings, cap) -> None:
    settings(**litellm_settings)
    call = resolve({"model": "g", MAX_SECONDS_FIELD: 99999}, router(deployment(**{FIELD: True, **params})))
    assert call.max_seconds == cap, "a client cannot set the cap"


def test_a_group_takes_the_shortest_interval_and_the_longest_cap(settings) -> None:
    fake = router(
        deployment(**{FIELD: True, KEEPALIVE_FIELD: 5, MAX_SECONDS_FIELD: 30}),
        deployment(**{FIELD: True, KEEPALIVE_FIELD: 2, MAX_SECONDS_FIELD: 60}),
        deployment(**{KEEPALIVE_FIELD: 1, MAX_SECONDS_FIELD: 900}),  # not buffered: does not count
    )
    assert resolve({"model": "g"}, fake) == BufferedProxyCall(True, 2.0, 60.0)
    fake.groups["g"].append(deployment(**{FIELD: True, MAX_SECONDS_FIELD: 0}))
    assert resolve({"model": "g"}, fake).max_seconds is None


@pytest.mark.parametrize(("field", "value"), [(FIELD, "yes"), (KEEPALIVE_FIELD, "soon"), (KEEPALIVE_FIELD, -2)])
def test_invalid_client_values_are_a_400_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        resolve({"model": "g", field: value}, router(deployment()))
    assert f"'{field}'" in str(info.value)


@pytest.mark.parametrize(("field", "value"), [(FIELD, "yes"), (KEEPALIVE_FIELD, "soon"), (KEEPALIVE_FIELD, -2)])
def test_invalid_client_values_in_extra_body_are_a_400_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        resolve({"model": "g", "extra_body": {field: value}}, router(deployment()))
    assert f"'{field}'" in str(info.value)


def test_the_client_fields_in_extra_body_are_read_as_if_at_the_top_level(settings) -> None:
    request: dict[str, Any] = {"model": "g", "extra_body": {FIELD: True, KEEPALIVE_FIELD: 1.5, MAX_SECONDS_FIELD: 1}}
    call = resolve(request, router(deployment()))
    assert call == BufferedProxyCall(buffered=True, keepalive_seconds=1.5, max_seconds=DEFAULT_MAX_SECONDS)
    assert request["extra_body"] == {FIELD: True, KEEPALIVE_FIELD: 1.5, MAX_SECONDS_FIELD: 1}, "read, not changed"


@pytest.mark.parametrize(
    ("request_fields", "named"),
    [
        ({"metadata": {KEEPALIVE_FIELD: 1}}, f"'metadata.{KEEPALIVE_FIELD}'"),
        ({"litellm_params": {MAX_SECONDS_FIELD: 1}}, f"'litellm_params.{MAX_SECONDS_FIELD}'"),
        ({KEEPALIVE_FIELD: 1, "extra_body": {KEEPALIVE_FIELD: 2}}, f"'{KEEPALIVE_FIELD}' is sent twice"),
    ],
)
def test_client_fields_where_they_are_not_read_are_a_400(request_fields: dict[str, Any], named: str) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        resolve({"model": "g", **request_fields}, router(deployment(**{FIELD: True})))
    assert named in str(info.value)


def test_invalid_operator_value_names_the_field(settings) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        resolve({"model": "g"}, router(deployment(**{FIELD: True, MAX_SECONDS_FIELD: "ten"})))
    assert f"'{MAX_SECONDS_FIELD}'" in str(info.value)


# ------------------------------------------------------------------------------------------------ the cap


async def test_no_cap_hands_back_the_call_itself() -> None:
    future = asyncio.get_running_loop().create_future()
    assert BufferedProxyCall(True, None, None).capped(future, {}) is future
    assert NOT_BUFFERED.capped(future, {}) is future
    future.cancel()


async def test_cap_cancels_the_call_and_raises_a_408_logged_as_a_failure() -> None:
    started = asyncio.Event()
    logged: list[Exception] = []

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    class LoggingObj:
        async def async_failure_handler(self, exception, traceback_exception, start_time, end_time) -> None:
            logged.append(exception)

    call = asyncio.ensure_future(forever())
    with pytest.raises(litellm.Timeout) as info:
        await BufferedProxyCall(True, None, 0.2).capped(call, {"model": "g", "litellm_logging_obj": LoggingObj()})
    assert info.value.status_code == 408 and MAX_SECONDS_FIELD in str(info.value)
    assert call.cancelled()
    assert logged == [info.value]


async def test_cap_returns_an_answer_in_time() -> None:
    async def answer() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert await BufferedProxyCall(True, None, 5).capped(asyncio.ensure_future(answer()), {}) == "done"


async def test_cancelling_the_capped_call_cancels_the_backend_call() -> None:
    call = asyncio.ensure_future(asyncio.sleep(3600))
    capped = BufferedProxyCall(True, None, 60).capped(call, {})
    await asyncio.sleep(0.01)
    capped.cancel()
    await asyncio.gather(capped, return_exceptions=True)
    assert call.cancelled()


# ------------------------------------------------------------------------------------------------ ClientKeepalive


def app_answering(delay: float, status: int = 200, body: bytes = b'{"ok":true}', interval: float | None = 0.05):
    """An ASGI app that arms the keepalive (as the proxy does once the call starts) and answers after ``delay``."""

    async def app(scope, receive, send) -> None:
        if interval is not None:
            BufferedProxyCall(True, interval, None).arm_keepalive(scope)
        await asyncio.sleep(delay)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


async def serve(app, http_version: str = "1.1") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message) -> None:
        sent.append(dict(message))

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {}

    await ClientKeepalive(app)({"type": "http", "http_version": http_version}, receive, send)
    return sent


def body_of(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("status", [200, 500])
async def test_an_answer_within_the_first_interval_goes_out_untouched(status: int) -> None:
    sent = await serve(app_answering(0.0, status=status))
    assert sent[0]["status"] == status and (b"content-length", b"11") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b'{"ok":true}'}


async def test_a_slow_answer_is_committed_then_kept_alive_with_whitespace() -> None:
    sent = await serve(app_answering(0.28))
    start = sent[0]
    assert start["status"] == 200
    assert (b"content-type", b"application/json") in start["headers"]
    assert (b"x-litellm-buffered-stream", b"true") in start["headers"]
    assert not any(name == b"content-length" for name, _ in start["headers"])
    body = body_of(sent)
    assert body.strip() == b'{"ok":true}' and 3 <= len(body) - len(body.lstrip()) <= 6
    assert sent[-1]["more_body"] is False, "the body ends normally"
    assert json.loads(body) == {"ok": True}


async def test_a_failure_after_the_commit_writes_the_error_and_never_ends_the_body() -> None:
    error = b'{"error":{"message":"boom","type":"internal_server_error","param":null,"code":"500"}}'
    sent: list[dict[str, Any]] = []

    async def send(message) -> None:
        sent.append(dict(message))

    with pytest.raises(AbortedAfterCommit):
        await ClientKeepalive(app_answering(0.12, status=500, body=error))({"type": "http"}, None, send)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [200]
    assert body_of(sent).strip() == error
    assert all(m.get("more_body") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize(("interval", "http_version"), [(None, "1.1"), (0.05, "1.0")])
async def test_unarmed_or_http10_requests_are_never_committed_early(interval, http_version) -> None:
    sent = await serve(app_answering(0.2, interval=interval), http_version)
    assert len(sent) == 2 and sent[1]["body"] == b'{"ok":true}'


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope, receive, send) -> None:
        seen.append(scope["type"])
        assert ClientKeepalive.SCOPE_KEY not in scope

    await ClientKeepalive(app)({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


@pytest.mark.parametrize("route_type", ["aembedding", "aimage_generation", "arerank"])
def test_endpoints_without_a_buffered_form_are_not_buffered(route_type: str) -> None:
    fake = router(deployment(**{FIELD: True, KEEPALIVE_FIELD: 1}))
    assert resolve({"model": "g"}, fake, route_type) == NOT_BUFFERED


@pytest.mark.parametrize("route_type", ["acompletion", "anthropic_messages", "aresponses", "atext_completion"])
def test_the_buffered_endpoints_get_the_policy(route_type: str) -> None:
    fake = router(deployment(**{FIELD: True, KEEPALIVE_FIELD: 1}))
    call = resolve({"model": "g"}, fake, route_type)
    assert call.buffered and call.keepalive_seconds == 1 and call.cancels_on_disconnect
