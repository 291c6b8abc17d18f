"""Unit tests for litellm/buffered_stream/options.py and decision.py: the switch, its validation and the policy."""

from __future__ import annotations

from typing import Any

import pytest

import litellm
from litellm.buffered_stream.decision import apply_deployment_policy, decide
from litellm.buffered_stream.options import (
    CLIENT_FIELDS,
    FIELD,
    KEEPALIVE_FIELD,
    MAX_SECONDS_FIELD,
    OVERRIDE_FIELD,
    client_fields,
    parse_flag,
    parse_seconds,
    requested,
    take_switch,
)
from litellm.buffered_stream.wires import Endpoint

UNSET = object()


@pytest.mark.parametrize("value", [True, False, None])
def test_parse_flag_accepts_booleans_and_none(value: bool | None) -> None:
    assert parse_flag(value) is value


@pytest.mark.parametrize("value", ["true", "false", 1, 0, "yes", 1.0, [], {}])
def test_parse_flag_rejects_everything_else(value: object) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        parse_flag(value)
    assert "'buffered_stream'" in str(info.value)
    assert info.value.status_code == 400


def test_parse_flag_names_the_field_it_checks() -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        parse_flag("no", OVERRIDE_FIELD)
    assert f"'{OVERRIDE_FIELD}'" in str(info.value)


def effective(deployment: object, allow: object, client: object) -> bool:
    """Whether the value the router's merge (request kwargs over litellm_params) ends up with buffers the call."""
    params: dict[str, object] = {"model": "openai/m"}
    if deployment is not UNSET:
        params[FIELD] = deployment
    if allow is not UNSET:
        params[OVERRIDE_FIELD] = allow
    kwargs: dict[str, object] = {"messages": []}
    if client is not UNSET:
        kwargs[FIELD] = client
    apply_deployment_policy(params, kwargs)
    assert OVERRIDE_FIELD not in kwargs
    merged = {**params, **kwargs}.get(FIELD)
    assert merged in (True, False, None)
    return merged is True


POLICY_TABLE = [
    # deployment, allow override, client -> effective
    (UNSET, UNSET, UNSET, None),
    (UNSET, UNSET, True, True),
    (UNSET, UNSET, False, False),
    (UNSET, UNSET, None, None),
    (True, UNSET, UNSET, True),
    (True, UNSET, False, False),
    (True, UNSET, None, True),
    (False, UNSET, True, True),
    (True, True, False, False),
    (False, True, True, True),
    (UNSET, True, True, True),
    (True, False, False, True),
    (True, False, True, True),
    (True, False, None, True),
    (False, False, True, False),
    (False, False, False, False),
    (UNSET, False, True, None),
    (UNSET, None, True, True),
]


@pytest.mark.parametrize(("deployment", "allow", "client", "expected"), POLICY_TABLE)
def test_apply_deployment_policy_table(deployment: object, allow: object, client: object, expected: object) -> None:
    assert effective(deployment, allow, client) is bool(expected)
    # The proxy decides the same for the same inputs, before routing.
    decided = decide(
        endpoint=Endpoint.CHAT,
        client=None if client is UNSET else client,
        deployment=None if deployment is UNSET else deployment,
        allow_client_override=None if allow is UNSET else allow,
    )
    assert decided.asked is bool(expected)


@pytest.mark.parametrize("client_allow", [True, False, "anything"])
@pytest.mark.parametrize("deployment_allow", [UNSET, True, False])
def test_client_sent_override_is_always_removed(client_allow: object, deployment_allow: object) -> None:
    params: dict[str, Any] = {"model": "m", FIELD: False}
    if deployment_allow is not UNSET:
        params[OVERRIDE_FIELD] = deployment_allow
    kwargs: dict[str, Any] = {OVERRIDE_FIELD: client_allow}
    apply_deployment_policy(params, kwargs)
    assert kwargs == {}
    assert params.get(OVERRIDE_FIELD, UNSET) is deployment_allow


def test_client_override_cannot_unlock_a_pinned_deployment() -> None:
    kwargs: dict[str, Any] = {FIELD: True, OVERRIDE_FIELD: True}
    apply_deployment_policy({"model": "m", FIELD: False, OVERRIDE_FIELD: False}, kwargs)
    assert kwargs == {FIELD: False}


def test_apply_deployment_policy_rejects_invalid_client_value() -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        apply_deployment_policy({"model": "m"}, {FIELD: "true"})
    assert "'buffered_stream'" in str(info.value)


def test_apply_deployment_policy_leaves_other_kwargs_alone() -> None:
    kwargs: dict[str, Any] = {"temperature": 0.2, FIELD: True}
    apply_deployment_policy({"model": "m"}, kwargs)
    assert kwargs == {"temperature": 0.2, FIELD: True}


@pytest.mark.parametrize(
    ("kwargs", "enabled"),
    [
        ({FIELD: True}, True),
        ({FIELD: False}, False),
        ({}, False),
        ({FIELD: True, "stream": True}, False),
        ({FIELD: True, "stream": False}, True),
    ],
)
def test_a_calls_own_switch_is_taken_out_and_decided(kwargs: dict[str, Any], enabled: bool) -> None:
    kwargs = {**kwargs, OVERRIDE_FIELD: True}
    flag = take_switch(kwargs, "m")
    assert FIELD not in kwargs
    assert OVERRIDE_FIELD not in kwargs
    assert decide(endpoint=Endpoint.CHAT, deployment=flag, stream=kwargs.get("stream")).asked is enabled


def test_an_invalid_switch_is_a_400() -> None:
    with pytest.raises(litellm.BadRequestError):
        decide(endpoint=Endpoint.CHAT, deployment=take_switch({FIELD: 1}, "m"))


def test_requested() -> None:
    assert requested({FIELD: False})
    assert requested({OVERRIDE_FIELD: True})
    assert not requested({"stream": True})


# ---------------------------------------------------------------------------------------------
# Nested forms: extra_body is lifted; litellm_params and metadata are rejected
# ---------------------------------------------------------------------------------------------


def test_extra_body_switch_is_lifted_and_removed() -> None:
    kwargs: dict[str, Any] = {"extra_body": {FIELD: True, OVERRIDE_FIELD: True, "top_k": 3}}
    assert requested(kwargs)
    assert take_switch(kwargs, "m") is True
    assert kwargs == {"extra_body": {"top_k": 3}}


def test_extra_body_holding_only_the_switch_is_dropped() -> None:
    kwargs: dict[str, Any] = {"messages": [], "extra_body": {FIELD: False}}
    params: dict[str, Any] = {"model": "openai/m", FIELD: True}
    apply_deployment_policy(params, kwargs)
    assert kwargs == {"messages": [], FIELD: False}


@pytest.mark.parametrize(("top", "nested"), [(True, False), (False, True), (True, "yes")])
def test_different_values_at_both_levels_are_a_400(top: object, nested: object) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        take_switch({FIELD: top, "extra_body": {FIELD: nested}}, "m")
    assert "sent twice" in str(info.value) and "'buffered_stream'" in str(info.value)


def test_same_value_at_both_levels_or_null_is_fine() -> None:
    assert take_switch({FIELD: True, "extra_body": {FIELD: True}}, "m") is True
    assert take_switch({FIELD: True, "extra_body": {FIELD: None}}, "m") is True


# ---------------------------------------------------------------------------------------------
# Every client-facing field follows the same place rules (one table: CLIENT_FIELDS)
# ---------------------------------------------------------------------------------------------

#: A valid client value of each field.
VALUES: dict[str, object] = {FIELD: True, OVERRIDE_FIELD: True, KEEPALIVE_FIELD: 2, MAX_SECONDS_FIELD: 30}
#: A different valid value of each field.
OTHER_VALUES: dict[str, object] = {FIELD: False, OVERRIDE_FIELD: False, KEEPALIVE_FIELD: 3, MAX_SECONDS_FIELD: 0}


def test_the_table_holds_every_client_facing_field_and_whose_it_is() -> None:
    assert dict(CLIENT_FIELDS) == {FIELD: True, OVERRIDE_FIELD: False, KEEPALIVE_FIELD: True, MAX_SECONDS_FIELD: False}
    assert set(VALUES) == set(OTHER_VALUES) == set(CLIENT_FIELDS)


@pytest.mark.parametrize("container", ["litellm_params", "metadata", "litellm_metadata"])
@pytest.mark.parametrize("key", list(CLIENT_FIELDS))
def test_a_field_where_it_is_not_read_is_a_400_naming_it(container: str, key: str) -> None:
    body: dict[str, Any] = {"messages": [], container: {key: VALUES[key]}}
    for check in (lambda: apply_deployment_policy({"model": "openai/m"}, dict(body)), lambda: client_fields(body)):
        with pytest.raises(litellm.BadRequestError) as info:
            check()
        assert f"'{container}.{key}'" in str(info.value)
        assert info.value.status_code == 400


@pytest.mark.parametrize("key", list(CLIENT_FIELDS))
def test_a_field_at_both_levels_with_different_values_is_a_400_naming_it(key: str) -> None:
    body: dict[str, Any] = {key: VALUES[key], "extra_body": {key: OTHER_VALUES[key]}}
    for check in (lambda: take_switch(dict(body), "m"), lambda: client_fields(body)):
        with pytest.raises(litellm.BadRequestError) as info:
            check()
        assert "sent twice" in str(info.value) and f"'{key}'" in str(info.value)


@pytest.mark.parametrize("key", list(CLIENT_FIELDS))
@pytest.mark.parametrize("place", ["top", "extra_body", "both"])
def test_a_client_value_is_read_at_the_top_level_or_in_extra_body_when_the_client_may_set_it(
    key: str, place: str
) -> None:
    body: dict[str, Any] = {"model": "m", "extra_body": {"top_k": 3}}
    if place != "extra_body":
        body[key] = VALUES[key]
    if place != "top":
        body["extra_body"][key] = VALUES[key]
    before = repr(body)
    read = client_fields(body)
    assert repr(body) == before, "read-only"
    assert read == ({key: VALUES[key]} if CLIENT_FIELDS[key] else {})


@pytest.mark.parametrize("key", list(CLIENT_FIELDS))
def test_null_counts_as_not_sent_at_either_level(key: str) -> None:
    assert client_fields({key: None, "extra_body": {key: None}}) == {}
    assert client_fields({key: VALUES[key], "extra_body": {key: None}}) == (
        {key: VALUES[key]} if CLIENT_FIELDS[key] else {}
    )


@pytest.mark.parametrize("key", list(CLIENT_FIELDS))
@pytest.mark.parametrize("allow", [UNSET, True, False])
def test_a_call_never_carries_a_field_on_from_either_level(key: str, allow: object) -> None:
    """After the router's step only the decided switch is left, and extra_body keeps just its other fields."""
    params: dict[str, Any] = {"model": "openai/m", FIELD: True}
    if allow is not UNSET:
        params[OVERRIDE_FIELD] = allow
    kwargs: dict[str, Any] = {"messages": [], "extra_body": {key: VALUES[key], "top_k": 3}}
    assert requested(kwargs)
    apply_deployment_policy(params, kwargs)
    assert kwargs.pop("extra_body") == {"top_k": 3}
    assert set(kwargs) <= {"messages", FIELD}


@pytest.mark.parametrize("key", list(CLIENT_FIELDS))
def test_a_calls_own_kwargs_lose_every_field(key: str) -> None:
    """litellm's entry points (no router): the switch is returned, every other field is taken out too."""
    kwargs: dict[str, Any] = {key: VALUES[key], "extra_body": {key: VALUES[key]}, "temperature": 0}
    flag = take_switch(kwargs, "m")
    assert kwargs == {"temperature": 0}
    assert flag is (VALUES[key] if key == FIELD else None)


def test_huge_invalid_value_is_quoted_briefly() -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        parse_flag("y" * 2_000_000)
    assert len(str(info.value)) < 1_000


@pytest.mark.parametrize("value", [0, 0.5, 2, 600.0, None])
def test_parse_seconds_accepts_non_negative_numbers_and_none(value: object) -> None:
    parsed = parse_seconds(value, KEEPALIVE_FIELD)
    assert parsed == value and (parsed is None or isinstance(parsed, float))


@pytest.mark.parametrize("value", [-1, True, "5", float("inf"), float("nan"), [], {"s": 1}])
def test_parse_seconds_rejects_everything_else_naming_the_field(value: object) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        parse_seconds(value, KEEPALIVE_FIELD)
    assert info.value.status_code == 400
    assert f"'{KEEPALIVE_FIELD}'" in str(info.value)


def test_parse_seconds_quotes_a_bounded_part_of_a_huge_value() -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        parse_seconds("x" * 100_000, MAX_SECONDS_FIELD)
    assert len(str(info.value)) < 500


@pytest.mark.parametrize("allow", [UNSET, True, False])
def test_proxy_settings_sent_by_a_client_never_reach_the_call(allow: object) -> None:
    """The proxy applies the client's keepalive before routing; the cap is the operator's alone."""
    params: dict[str, Any] = {"model": "m", KEEPALIVE_FIELD: 1, MAX_SECONDS_FIELD: 30}
    if allow is not UNSET:
        params[OVERRIDE_FIELD] = allow
    kwargs: dict[str, Any] = {KEEPALIVE_FIELD: 5, MAX_SECONDS_FIELD: 9999, "temperature": 0}
    apply_deployment_policy(params, kwargs)
    assert kwargs == {"temperature": 0}
