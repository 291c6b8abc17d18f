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
from typing import TYPE_CHECKING, Any

import litellm
from litellm.buffered_stream.client import buffering, in_buffered_call, mark_served
from litellm.buffered_stream.options import FIELD, BufferedStreamRequest, requested
from litellm.buffered_stream.quoting import clip_message
from litellm.buffered_stream.retry import mark_failed_mid_stream
from litellm.buffered_stream.usage import estimate, lacks_usage, mark_estimated
from litellm.exceptions import APIError
from litellm.litellm_core_utils.stream_accumulator import StreamAccumulator
from litellm.litellm_core_utils.streaming_handler import calculate_total_usage
from litellm.litellm_core_utils.upstream_surface import hidden_params_of, replace_hidden_params
from litellm.types.utils import ModelResponse

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging

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
        resolved: tuple[str, str, str | None, str | None] = litellm.get_llm_provider(
            model=model, custom_llm_provider=kwargs.get("custom_llm_provider"), api_base=kwargs.get("api_base")
        )
    except Exception:  # an unknown provider fails later, with upstream's own error
        return ""
    return resolved[1]


def _mark_metadata(kwargs: MutableMapping[str, Any]) -> None:
    """Operators see in the logged metadata that the call was buffered."""
    kwargs["metadata"] = {**(kwargs.get("metadata") or {}), FIELD: True}


def _stamp(response: object) -> object:
    hidden = hidden_params_of(response)
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


def _counted(stream: Any) -> Any:
    """Let the stream wrapper estimate the usage it logs when the stream carries none.

    Without ``stream_options`` the wrapper stamps the usage it summed from the chunks (0/0 for a
    usage-less stream) on the last chunk, and its end-of-stream build takes that as reported
    usage: the call would be logged and billed as free. This stream is never shown to a client,
    so it is read as if usage had been asked for: the build estimates a missing usage with the
    tokenizer, and the wrapper ends with a usage chunk that carries what it logs.
    """
    if getattr(stream, "stream_options", False) is None:
        stream.stream_options = {"include_usage": True}
        stream.send_stream_usage = True
    return stream


def _assemble(
    stream: Any, accumulator: StreamAccumulator, model: str, provider: str, kwargs: MutableMapping[str, Any]
) -> Any:
    # The wrapper stamps "stop" on a stream that ended without a finish reason; trust only what the backend said.
    if not (getattr(stream, "received_finish_reason", None) or getattr(stream, "intermittent_finish_reason", None)):
        error = IncompleteStreamError(
            status_code=502,
            message="buffered_stream: the backend stream ended without a finish reason: the answer would be truncated",
            llm_provider=provider,
            model=model,
        )
        mark_failed_mid_stream(error)
        raise error
    response = accumulator.build(messages=kwargs.get("messages"))
    if not isinstance(response, ModelResponse):  # the chunk with the finish reason was folded: a chat response
        raise TypeError(f"buffered_stream: the stream assembled into {type(response).__name__}, not a chat response")
    # ModelResponse.usage is set in __init__, not declared as a field upstream
    if lacks_usage(response.usage):  # type: ignore[attr-defined]
        response.usage = estimate(model, kwargs.get("messages"), response)  # type: ignore[attr-defined]
    if lacks_usage(calculate_total_usage(chunks=getattr(stream, "chunks", []))):  # the backend reported none
        mark_estimated(kwargs.get("metadata"))
    (hidden_params_of(response) or {}).pop("response_cost", None)  # priced below, from the final usage
    hidden = {**(hidden_params_of(stream) or {}), **(hidden_params_of(response) or {})}
    try:
        hidden["response_cost"] = _cost(stream, response, model)
    except Exception:  # a model without a price has no cost, as on the native path
        hidden.setdefault("response_cost", None)
    replace_hidden_params(response, hidden)
    return response


def _failed_mid_stream(error: BaseException) -> None:
    """The generic path's stream broke: retry elsewhere, and never echo a huge backend message whole."""
    mark_failed_mid_stream(error)
    clip_message(error)


def _cost(stream: Any, response: Any, model: str) -> float | None:
    """As the native path costs it: the call's logging object knows the deployment's own prices."""
    logging_obj: Logging | None = getattr(stream, "logging_obj", None)
    if logging_obj is not None:
        return logging_obj.response_cost_calculator(result=response)
    cost: float = litellm.completion_cost(completion_response=response, model=model)
    return cost


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
            with buffering(kwargs["metadata"]) as call:
                try:
                    response = await acompletion(*args, **kwargs)
                except Exception as e:
                    if call.failed_mid_stream:
                        mark_failed_mid_stream(e)
                    raise
            return _stamp(response) if call.served else response
        if not _generic_supported(kwargs):
            return await acompletion(*args, **kwargs)
        _mark_metadata(kwargs)
        _as_stream(model, provider, kwargs)
        stream = _counted(await acompletion(*args, **kwargs))
        accumulator = StreamAccumulator()
        try:
            async for chunk in stream:
                accumulator.add(chunk)
        except BaseException as e:
            # Cancelled (the client went away) or failed: release the backend connection now.
            await stream.aclose()
            _failed_mid_stream(e)
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
        stream = _counted(completion(*args, **kwargs))
        accumulator = StreamAccumulator()
        try:
            for chunk in stream:
                accumulator.add(chunk)
        except Exception as e:
            _failed_mid_stream(e)
            raise
        return _stamp(_assemble(stream, accumulator, model, provider, kwargs))

    return wrapper
