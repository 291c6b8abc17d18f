"""Where every chat completion passes: ``litellm.completion`` and ``litellm.acompletion``.

Two ways to serve a buffered call, chosen per provider:

- wire: for providers whose chat request goes over a wire format this package can assemble
  (OpenAI chat completions, Anthropic messages, Ollama chat) through litellm's async HTTP clients,
  the call runs as an ordinary non-streaming call and ``BufferingAsyncClient`` turns the HTTP
  exchange into a stream underneath. Everything above the HTTP layer (response transformation,
  logging, cost, cache, headers) is the native non-streaming path.
- generic: for every other provider, and for sync calls, the call runs with ``stream=True`` and
  the chunks litellm yields are folded into a ``StreamAccumulator`` as they arrive (the assembly
  ``litellm.stream_chunk_builder`` uses), so memory follows the answer, not the chunk count.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import litellm
from litellm.buffered_stream.client import buffering, in_buffered_call, mark_served
from litellm.buffered_stream.options import FIELD, BufferedStreamRequest, requested
from litellm.exceptions import APIError
from litellm.litellm_core_utils.stream_accumulator import StreamAccumulator

RESPONSE_HEADER = "x-litellm-buffered-stream"

#: Providers whose chat requests are served by ``BufferingAsyncClient`` (their wire is one it assembles).
WIRE_PROVIDERS = frozenset(
    {
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
        "ollama_chat",
        "anthropic",
    }
)


class IncompleteStreamError(APIError):
    """The backend stream ended without a finish reason: the answer would have been truncated."""


def _model(args: tuple[Any, ...], kwargs: MutableMapping[str, Any]) -> str:
    return str(args[0] if args else kwargs.get("model", ""))


def _provider(model: str, kwargs: MutableMapping[str, Any]) -> str:
    try:
        _, provider, _, _ = litellm.get_llm_provider(
            model=model, custom_llm_provider=kwargs.get("custom_llm_provider"), api_base=kwargs.get("api_base")
        )
    except Exception:  # an unknown provider fails later, with upstream's own error
        return ""
    return provider


def _mark_metadata(kwargs: MutableMapping[str, Any]) -> None:
    """Operators see in the logged metadata that the call was buffered."""
    kwargs["metadata"] = {**(kwargs.get("metadata") or {}), FIELD: True}


def _stamp(response: object) -> object:
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden["additional_headers"] = {**(hidden.get("additional_headers") or {}), RESPONSE_HEADER: "true"}
        hidden[FIELD] = True
    return response


def _generic_supported(kwargs: MutableMapping[str, Any]) -> bool:
    # litellm's stream wrapper carries one choice and no logprobs: such calls stay native.
    return (kwargs.get("n") or 1) == 1 and not kwargs.get("logprobs")


def _as_stream(model: str, provider: str, kwargs: MutableMapping[str, Any]) -> None:
    kwargs["stream"] = True
    supported = litellm.get_supported_openai_params(model=model, custom_llm_provider=provider) or []
    if "stream_options" in supported:
        kwargs["stream_options"] = {**(kwargs.get("stream_options") or {}), "include_usage": True}


def _assemble(
    stream: Any, accumulator: StreamAccumulator, model: str, provider: str, kwargs: MutableMapping[str, Any]
) -> Any:
    # The wrapper stamps "stop" on a stream that ended without a finish reason; trust only what the backend said.
    if not (getattr(stream, "received_finish_reason", None) or getattr(stream, "intermittent_finish_reason", None)):
        raise IncompleteStreamError(
            status_code=502,
            message="buffered_stream: the backend stream ended without a finish reason: the answer would be truncated",
            llm_provider=provider,
            model=model,
        )
    response = accumulator.build(messages=kwargs.get("messages"))
    if not response.usage.total_tokens:
        _estimate_usage(response, model, kwargs)
    hidden = {**getattr(stream, "_hidden_params", {}), **(response._hidden_params or {})}
    try:
        hidden["response_cost"] = litellm.completion_cost(completion_response=response, model=model)
    except Exception:  # a model without a price has no cost, as on the native path
        hidden.setdefault("response_cost", None)
    response._hidden_params = hidden
    return response


def _estimate_usage(response: Any, model: str, kwargs: MutableMapping[str, Any]) -> None:
    """A backend that cannot report usage in a stream gets the tokenizer's count, not 0/0."""
    message = response.choices[0].message
    text = (message.content or "") + "".join(
        call.function.arguments or "" for call in (message.tool_calls or ()) if call.function
    )
    prompt = litellm.token_counter(model=model, messages=kwargs.get("messages") or [])
    completion = litellm.token_counter(model=model, text=text, count_response_tokens=True)
    response.usage = litellm.Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def buffered_acompletion(acompletion: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap ``litellm.acompletion`` so that ``buffered_stream=True`` calls are served from a stream."""

    @functools.wraps(acompletion)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        inherited = _inherits_buffering(kwargs)
        if not requested(kwargs) and not inherited:
            return await acompletion(*args, **kwargs)
        model = _model(args, kwargs)
        if not (BufferedStreamRequest.take(kwargs, model).enabled or inherited):
            return await acompletion(*args, **kwargs)
        provider = _provider(model, kwargs)
        if provider in WIRE_PROVIDERS:
            _mark_metadata(kwargs)
            with buffering() as call:
                response = await acompletion(*args, **kwargs)
            return _stamp(response) if call.served else response
        if not _generic_supported(kwargs):
            return await acompletion(*args, **kwargs)
        _mark_metadata(kwargs)
        _as_stream(model, provider, kwargs)
        stream = await acompletion(*args, **kwargs)
        accumulator = StreamAccumulator()
        try:
            async for chunk in stream:
                accumulator.add(chunk)
        except BaseException:
            # Cancelled (the client went away) or failed: release the backend connection now.
            await stream.aclose()
            raise
        response = _stamp(_assemble(stream, accumulator, model, provider, kwargs))
        mark_served()
        return response

    return wrapper


def _inherits_buffering(kwargs: MutableMapping[str, Any]) -> bool:
    """A chat completion litellm makes for a buffered call of another endpoint (a bridge) is buffered too."""
    return FIELD not in kwargs and kwargs.get("stream") is not True and in_buffered_call()


def buffered_completion(completion: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``litellm.completion``: sync buffered calls take the generic path."""

    @functools.wraps(completion)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not requested(kwargs):
            return completion(*args, **kwargs)
        model = _model(args, kwargs)
        if not BufferedStreamRequest.take(kwargs, model).enabled or kwargs.get("acompletion") is True:
            return completion(*args, **kwargs)
        if kwargs.get("text_completion") is True:
            # Sync text completions are served natively: the generic path assembles chat chunks only.
            return completion(*args, **kwargs)
        if not _generic_supported(kwargs):
            return completion(*args, **kwargs)
        provider = _provider(model, kwargs)
        _mark_metadata(kwargs)
        _as_stream(model, provider, kwargs)
        stream = completion(*args, **kwargs)
        accumulator = StreamAccumulator()
        for chunk in stream:
            accumulator.add(chunk)
        return _stamp(_assemble(stream, accumulator, model, provider, kwargs))

    return wrapper
