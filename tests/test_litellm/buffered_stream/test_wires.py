"""Unit tests for litellm/buffered_stream/wires.py: the registry of wires and routes.

(tests/distribution/test_buffered_stream_docs.py checks the docs' tables against it.)"""

from __future__ import annotations

import pytest

from litellm.buffered_stream.wires import (
    ANTHROPIC_MESSAGES,
    OLLAMA_CHAT,
    OPENAI_CHAT,
    OPENAI_TEXT,
    PROXY_ROUTE_TYPES,
    RESPONSES,
    Endpoint,
    ServingPath,
    route,
    wire_for_path,
)


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        ("/v1/chat/completions", OPENAI_CHAT),
        ("/openai/deployments/gpt/chat/completions/", OPENAI_CHAT),
        ("/v1/messages", ANTHROPIC_MESSAGES),
        ("/anthropic/v1/messages", ANTHROPIC_MESSAGES),
        ("/api/chat", OLLAMA_CHAT),
        ("/v1/responses", RESPONSES),
        ("/v1/completions", OPENAI_TEXT),
        ("/v1/embeddings", None),
        ("/api/generate", None),
    ],
)
def test_a_request_path_names_its_wire(path: str, wire: object) -> None:
    assert wire_for_path(path) is wire


def test_chat_calls_go_over_the_wire_of_a_registered_provider_and_the_generic_path_otherwise() -> None:
    assert route(Endpoint.CHAT, "hosted_vllm").wire is OPENAI_CHAT
    assert route(Endpoint.CHAT, "ollama_chat").wire is OLLAMA_CHAT
    assert route(Endpoint.CHAT, "anthropic").wire is ANTHROPIC_MESSAGES
    assert route(Endpoint.CHAT, "nvidia_nim").path is ServingPath.GENERIC
    assert route(Endpoint.CHAT, "openai", sync=True).path is ServingPath.GENERIC


def test_the_other_endpoints_route_by_provider_or_bridge_to_chat() -> None:
    assert route(Endpoint.MESSAGES, "openai").via is Endpoint.RESPONSES
    assert route(Endpoint.MESSAGES, "openai").wire is RESPONSES
    bridged = route(Endpoint.MESSAGES, "hosted_vllm")
    assert (bridged.path, bridged.wire, bridged.via) == (ServingPath.WIRE, OPENAI_CHAT, Endpoint.CHAT)
    assert route(Endpoint.RESPONSES, "nvidia_nim").path is ServingPath.GENERIC
    assert route(Endpoint.TEXT_COMPLETION, "text-completion-openai").wire is OPENAI_TEXT
    unknown = route(Endpoint.TEXT_COMPLETION, "nvidia_nim")
    assert (unknown.path, unknown.wire) == (ServingPath.WIRE, None)  # found by its request's path


@pytest.mark.parametrize("endpoint", [Endpoint.MESSAGES, Endpoint.RESPONSES, Endpoint.TEXT_COMPLETION])
def test_sync_calls_of_the_other_endpoints_are_native_and_say_why(endpoint: Endpoint) -> None:
    chosen = route(endpoint, "openai", sync=True)
    assert chosen.path is ServingPath.NATIVE
    assert chosen.reason and "sync" in chosen.reason


def test_the_rust_path_of_messages_is_native_and_named() -> None:
    chosen = route(Endpoint.MESSAGES, "anthropic", rust=True)
    assert chosen.path is ServingPath.NATIVE and "LITELLM_RUST" in (chosen.reason or "")
    assert route(Endpoint.MESSAGES, "hosted_vllm", rust=True).path is ServingPath.WIRE
    assert route(Endpoint.CHAT, "anthropic", rust=True).path is ServingPath.WIRE


def test_proxy_route_types_cover_every_endpoint() -> None:
    assert set(PROXY_ROUTE_TYPES.values()) == set(Endpoint)
