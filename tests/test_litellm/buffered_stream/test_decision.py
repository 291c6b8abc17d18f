"""Unit tests for litellm/buffered_stream/decision.py: the one decision, and the warning of a call served natively."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import litellm
from litellm.buffered_stream.decision import (
    NativeReason,
    decide,
    forget_warnings,
    provider_of,
    rust_serves,
    warn_native,
)
from litellm.buffered_stream.wires import Endpoint, ServingPath


@pytest.fixture(autouse=True)
def _fresh_warnings() -> Iterator[None]:
    forget_warnings()
    yield
    forget_warnings()


@pytest.mark.parametrize(
    ("client", "deployment", "allow", "asked"),
    [
        (None, None, None, False),
        (True, None, None, True),
        (None, True, None, True),
        (False, True, None, False),
        (True, False, False, False),  # pinned
        (False, True, False, True),  # pinned
        (True, None, True, True),
    ],
)
def test_the_policy_part(client: object, deployment: object, allow: object, asked: bool) -> None:
    decision = decide(endpoint=Endpoint.CHAT, client=client, deployment=deployment, allow_client_override=allow)
    assert decision.asked is asked
    assert decision.buffered is asked  # no provider: the policy alone


def test_a_streaming_call_is_never_buffered() -> None:
    assert not decide(endpoint=Endpoint.CHAT, client=True, stream=True).asked


@pytest.mark.parametrize("field", ["client", "deployment", "allow_client_override"])
def test_a_value_that_is_not_a_boolean_is_a_400(field: str) -> None:
    with pytest.raises(litellm.BadRequestError) as info:
        decide(endpoint=Endpoint.CHAT, **{field: "yes"})
    assert info.value.status_code == 400


def test_the_provider_chooses_the_path() -> None:
    assert decide(endpoint=Endpoint.CHAT, client=True, provider="openai").path is ServingPath.WIRE
    assert decide(endpoint=Endpoint.CHAT, client=True, provider="nvidia_nim").path is ServingPath.GENERIC
    assert decide(endpoint=Endpoint.CHAT, client=True, provider="openai", sync=True).path is ServingPath.GENERIC


def test_several_choices_on_the_generic_path_are_native_and_say_why() -> None:
    decision = decide(endpoint=Endpoint.CHAT, client=True, provider="nvidia_nim", single_choice=False)
    assert decision.asked and not decision.buffered and decision.path is ServingPath.NATIVE
    assert decision.native is not None and "n > 1" in decision.native.detail
    # On the wire path several choices are assembled.
    assert decide(endpoint=Endpoint.CHAT, client=True, provider="openai", single_choice=False).buffered


def test_a_native_route_is_native_and_carries_its_reason() -> None:
    decision = decide(endpoint=Endpoint.MESSAGES, deployment=True, provider="anthropic", rust=True)
    assert decision.native is not None and "LITELLM_RUST" in decision.native.detail
    decision = decide(endpoint=Endpoint.TEXT_COMPLETION, deployment=True, provider="openai", sync=True)
    assert decision.native is not None and "sync" in decision.native.detail


def test_not_asked_has_no_reason() -> None:
    decision = decide(endpoint=Endpoint.MESSAGES, provider="anthropic", rust=True)
    assert not decision.asked and decision.native is None


def test_provider_of_follows_litellm_and_never_raises() -> None:
    assert provider_of("hosted_vllm/m", {}) == "hosted_vllm"
    assert provider_of("m", {"custom_llm_provider": "ollama_chat"}) == "ollama_chat"
    assert provider_of("no-such-provider/m", {}) == ""


def test_rust_serves_only_messages_and_only_when_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_RUST", "1")
    assert rust_serves(Endpoint.MESSAGES) and not rust_serves(Endpoint.CHAT)
    monkeypatch.setenv("LITELLM_RUST", "0")
    assert not rust_serves(Endpoint.MESSAGES)


def test_the_warning_names_the_endpoint_deployment_and_cause_once_per_cause_and_deployment(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deployment = {"model": "openai/m", "api_base": "http://127.0.0.1:1/v1", "model_info": {"id": "dep-1"}}
    ignored = NativeReason("not_a_stream", "it ignored stream: true")
    with caplog.at_level(logging.WARNING, logger="LiteLLM"):
        for _ in range(3):
            warn_native(Endpoint.CHAT, deployment, ignored)
        warn_native(Endpoint.CHAT, deployment, NativeReason("path", "another cause"))
        warn_native(Endpoint.CHAT, {**deployment, "model_info": {"id": "dep-2"}}, ignored)
    messages = [r.getMessage() for r in caplog.records if "buffered_stream" in r.getMessage()]
    assert len(messages) == 3
    assert (
        "/v1/chat/completions" in messages[0] and "openai/m at http://127.0.0.1:1/v1 (deployment dep-1)" in messages[0]
    )
    assert "it ignored stream: true" in messages[0] and "served natively" in messages[0]
