"""Unit tests for litellm/buffered_stream/proxy.py: which calls stop the backend when the client disconnects."""

from __future__ import annotations

from typing import Any

import pytest

from litellm.buffered_stream.options import FIELD, OVERRIDE_FIELD
from litellm.buffered_stream.proxy import cancels_on_disconnect


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
