"""Unit tests for litellm/buffered_stream/wires.py: the registry, and the docs' tables checked against it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from litellm.buffered_stream.wires import (
    ANTHROPIC_MESSAGES,
    CHAT_WIRES,
    MESSAGES_WIRES,
    OLLAMA_CHAT,
    OPENAI_CHAT,
    OPENAI_TEXT,
    PROXY_ROUTE_TYPES,
    RESPONSES,
    RESPONSES_WIRES,
    RUST_MESSAGES_PROVIDERS,
    TEXT_COMPLETION_WIRES,
    Endpoint,
    ServingPath,
    route,
    wire_for_path,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "buffered-stream.md"


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


# ------------------------------------------------------------------------------- the docs agree with the registry


def _table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table after ``heading`` in docs/buffered-stream.md."""
    text = DOC.read_text()
    rest = text[text.index(heading) :]
    lines = rest[rest.index("\n|") + 1 :].splitlines()
    rows = []
    for line in lines[2:]:  # past the header and its rule
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _providers(cell: str) -> list[str]:
    return re.findall(r"`([a-z0-9_-]+)/`", cell)


def test_the_docs_list_exactly_the_registrys_chat_wire_providers() -> None:
    rows = {row[0]: row for row in _table("## Which path serves a call")}
    listed = re.findall(r"`([a-z0-9_-]+)`", rows["**wire**"][1])
    assert sorted(listed) == sorted(CHAT_WIRES)


_DOC_PATHS = {
    "wire": {ServingPath.WIRE},
    "native": {ServingPath.NATIVE},
    "wire or generic": {ServingPath.WIRE, ServingPath.GENERIC},
}


def test_the_docs_endpoint_table_agrees_with_the_registry() -> None:
    rows = _table("### Endpoints and routes")
    documented: dict[Endpoint, set[str]] = {endpoint: set() for endpoint in Endpoint}
    for endpoint_cell, route_cell, asked_cell, path_cell in rows:
        endpoint = Endpoint(endpoint_cell.strip("`"))
        allowed = next(
            paths for words, paths in sorted(_DOC_PATHS.items(), reverse=True) if path_cell.startswith(words)
        )
        rust = "LITELLM_RUST" in route_cell
        for provider in _providers(route_cell):
            chosen = route(endpoint, provider, rust=rust)
            assert chosen.path in allowed, (endpoint, provider, chosen)
            asked_path = re.match(r"`(/[a-z0-9/_]+)`", asked_cell)
            if asked_path and chosen.wire is not None:
                assert wire_for_path(asked_path.group(1)) is chosen.wire, (endpoint, provider, asked_cell)
            documented[endpoint].add(provider if not rust else f"{provider}+rust")
    registered = {
        Endpoint.MESSAGES: set(MESSAGES_WIRES) | {f"{p}+rust" for p in RUST_MESSAGES_PROVIDERS},
        Endpoint.RESPONSES: set(RESPONSES_WIRES),
        Endpoint.TEXT_COMPLETION: set(TEXT_COMPLETION_WIRES),
    }
    for endpoint, providers in registered.items():
        assert providers <= documented[endpoint], (
            f"{endpoint.value}: the docs do not list {providers - documented[endpoint]}"
        )
