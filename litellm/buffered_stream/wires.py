"""The one registry of what ``buffered_stream`` can assemble: wires, and which route of an endpoint uses which.

A *wire* is a streaming format this package assembles into the body a non-streaming call returns
(OpenAI chat completions, Anthropic messages, Ollama chat, Responses, OpenAI text completions);
``BufferingAsyncClient`` recognises it by the request's path (``wire_for_path``).

A *route* says how one endpoint is served for one provider (``route``):

- ``ServingPath.WIRE``: the call runs as the ordinary non-streaming call inside ``buffering()``, and the
  HTTP client assembles the backend's stream underneath (``wire`` names the wire the registry
  expects; ``None`` where litellm's own routing picks the request, found by its path);
- ``ServingPath.GENERIC``: chat completions only: the call runs with ``stream=True`` and litellm's chunks are
  folded into one response;
- ``ServingPath.NATIVE``: the call cannot be buffered and is served as the plain non-streaming call;
  ``reason`` says why.

Every decision in this package that depends on a provider or an endpoint reads this module, and the
tables of docs/buffered-stream.md are checked against it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from litellm.buffered_stream.assemblers import (
    AnthropicMessageAssembler,
    OllamaChatAssembler,
    OpenAIChatAssembler,
)
from litellm.buffered_stream.assembly import EventStreamAssembler
from litellm.buffered_stream.responses import ResponsesAssembler
from litellm.buffered_stream.text_completion import TextCompletionAssembler


@dataclass(frozen=True)
class Wire:
    """A streaming format this package assembles, and how its requests are recognised."""

    name: str
    path_suffixes: tuple[str, ...]
    stream_content_types: tuple[str, ...]
    assembler: Callable[[], EventStreamAssembler]
    #: The request asks for usage in the stream (``stream_options.include_usage``).
    ask_for_usage: bool
    #: The body field every request of this wire carries (tells a generation request from other POSTs).
    body_key: str = "messages"


OPENAI_CHAT = Wire("openai", ("/chat/completions",), ("text/event-stream",), OpenAIChatAssembler, True)
ANTHROPIC_MESSAGES = Wire(
    "anthropic", ("/v1/messages", "/messages"), ("text/event-stream",), AnthropicMessageAssembler, False
)
OLLAMA_CHAT = Wire(
    "ollama",
    ("/api/chat",),
    ("application/x-ndjson", "application/json", "application/jsonl"),
    OllamaChatAssembler,
    False,
)
RESPONSES = Wire("responses", ("/responses",), ("text/event-stream",), ResponsesAssembler, False, body_key="input")
OPENAI_TEXT = Wire(
    "openai_text", ("/completions",), ("text/event-stream",), TextCompletionAssembler, True, body_key="prompt"
)

#: Matched in order: chat completions before text completions, whose path is a suffix of theirs.
WIRES: tuple[Wire, ...] = (OPENAI_CHAT, ANTHROPIC_MESSAGES, OLLAMA_CHAT, RESPONSES, OPENAI_TEXT)


def wire_for_path(path: str) -> Wire | None:
    """The wire of a POST to ``path``, or None when no assembled format lives there."""
    path = path.rstrip("/")
    for wire in WIRES:
        if path.endswith(wire.path_suffixes):
            return wire
    return None


class Endpoint(enum.StrEnum):
    """The endpoints a buffered call can be made on (the value is the proxy's path)."""

    CHAT = "/v1/chat/completions"
    MESSAGES = "/v1/messages"
    RESPONSES = "/v1/responses"
    TEXT_COMPLETION = "/v1/completions"


#: The proxy's route types of the buffered endpoints.
PROXY_ROUTE_TYPES: Mapping[str, Endpoint] = {
    "acompletion": Endpoint.CHAT,
    "anthropic_messages": Endpoint.MESSAGES,
    "aresponses": Endpoint.RESPONSES,
    "atext_completion": Endpoint.TEXT_COMPLETION,
}


class ServingPath(enum.StrEnum):
    """How a buffered call is served."""

    WIRE = "wire"
    GENERIC = "generic"
    NATIVE = "native"


#: Chat completions: providers whose chat request goes over a wire this package assembles.
CHAT_WIRES: Mapping[str, Wire] = {
    **dict.fromkeys(
        (
            "openai",
            "custom_openai",
            "azure",
            "hosted_vllm",
            "groq",
            "deepseek",
            "lm_studio",
            "llamafile",
            "openrouter",
            "together_ai",
            "fireworks_ai",
            "mistral",
            "xai",
            "deepinfra",
        ),
        OPENAI_CHAT,
    ),
    "ollama_chat": OLLAMA_CHAT,
    "anthropic": ANTHROPIC_MESSAGES,
}

#: ``/v1/messages``: providers litellm serves with a messages request of its own (the others are bridged
#: to chat completions); ``openai`` is bridged to the Responses API.
MESSAGES_WIRES: Mapping[str, Wire] = {"anthropic": ANTHROPIC_MESSAGES, "openai": RESPONSES}
#: ``/v1/responses``: providers with a native Responses API in litellm (the others are bridged to chat completions).
RESPONSES_WIRES: Mapping[str, Wire] = dict.fromkeys(("openai", "azure", "hosted_vllm"), RESPONSES)
#: ``/v1/completions``: providers whose text completion request litellm sends to ``/v1/completions``
#: (``openai`` models litellm knows as chat models go to their chat API, also assembled).
TEXT_COMPLETION_WIRES: Mapping[str, Wire] = dict.fromkeys(
    ("text-completion-openai", "openai", "hosted_vllm"), OPENAI_TEXT
)

#: ``/v1/messages`` providers that litellm's Rust path may serve when ``LITELLM_RUST`` is on.
RUST_MESSAGES_PROVIDERS = frozenset({"anthropic"})


@dataclass(frozen=True)
class Route:
    """How one endpoint is served for one provider, as far as the registry knows before the call."""

    endpoint: Endpoint
    provider: str
    path: ServingPath
    #: The wire the backend is asked on; None on the generic and native paths, and where litellm's
    #: routing picks the request (it is then recognised by its path).
    wire: Wire | None = None
    #: The endpoint whose code litellm serves the call with, when it bridges it (messages to responses or chat).
    via: Endpoint | None = None
    #: Why a native route cannot be buffered.
    reason: str | None = None


def route(endpoint: Endpoint, provider: str, *, sync: bool = False, rust: bool = False) -> Route:
    """How ``endpoint`` is served for ``provider``.

    ``sync``: the call is one of litellm's sync functions; ``rust``: ``LITELLM_RUST`` is on.
    """
    if endpoint is Endpoint.CHAT:
        if sync:
            return Route(endpoint, provider, ServingPath.GENERIC)
        wire = CHAT_WIRES.get(provider)
        return (
            Route(endpoint, provider, ServingPath.WIRE, wire)
            if wire
            else Route(endpoint, provider, ServingPath.GENERIC)
        )
    if sync:
        return Route(
            endpoint,
            provider,
            ServingPath.NATIVE,
            reason=f"sync calls of {endpoint.value} are not buffered (only the async functions the proxy uses are)",
        )
    if endpoint is Endpoint.MESSAGES:
        if rust and provider in RUST_MESSAGES_PROVIDERS:
            return Route(
                endpoint,
                provider,
                ServingPath.NATIVE,
                reason="LITELLM_RUST is on: litellm's Rust path serves /v1/messages, and it is not buffered",
            )
        if provider in MESSAGES_WIRES:
            wire = MESSAGES_WIRES[provider]
            return Route(
                endpoint, provider, ServingPath.WIRE, wire, via=Endpoint.RESPONSES if wire is RESPONSES else None
            )
        return _bridged_to_chat(endpoint, provider)
    if endpoint is Endpoint.RESPONSES:
        if provider in RESPONSES_WIRES:
            return Route(endpoint, provider, ServingPath.WIRE, RESPONSES_WIRES[provider])
        return _bridged_to_chat(endpoint, provider)
    if provider in TEXT_COMPLETION_WIRES:
        return Route(endpoint, provider, ServingPath.WIRE, TEXT_COMPLETION_WIRES[provider])
    # Served from the provider's chat API: assembled when that request is one of the wires (found by its path).
    return Route(endpoint, provider, ServingPath.WIRE, CHAT_WIRES.get(provider), via=Endpoint.CHAT)


def _bridged_to_chat(endpoint: Endpoint, provider: str) -> Route:
    """litellm serves the call with a chat completion, which is buffered like a chat call."""
    chat = route(Endpoint.CHAT, provider)
    return Route(endpoint, provider, chat.path, chat.wire, via=Endpoint.CHAT)
