"""Every private name of upstream litellm that the fork's modules use at runtime, looked up here and only here.

A private name (``_something``, or anything in a private module such as ``litellm._logging``) carries no promise:
upstream may rename it, change its signature or its behaviour in any release, and no patch conflict would say so.
The fork's modules therefore never import or look one up themselves: they use the names and typed functions below,
and ``PRIVATE_NAMES`` lists each private name with what the fork relies on. ``tests/test_litellm/litellm_core_utils/test_upstream_surface.py`` checks every entry
(it exists, its signature, a small behavioural probe) and ``MIRRORED``, the upstream functions whose logic the
fork re-implements incrementally: their source is hashed here, so a pin move that changes one fails by name
(``make bump-pin`` runs that test on the new wheel).

Upstream modules are imported inside the functions: this module is imported while ``litellm`` itself is
being imported (``streaming_handler`` imports the stream accumulator), so it must not import them at load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from litellm._logging import verbose_logger as verbose_logger
from litellm._logging import verbose_proxy_logger as verbose_proxy_logger

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.litellm_core_utils.streaming_chunk_builder_utils import UsagePerChunk
    from litellm.types.utils import ModelResponse, Usage


@dataclass(frozen=True)
class PrivateName:
    """A private upstream name the fork uses: where it lives, its parameters, and what the fork relies on
    (``test_upstream_surface.py`` probes each one)."""

    module: str
    qualname: str
    parameters: tuple[str, ...] | None  # None: not a function
    relied_on: str
    defined_in: str | None = None  # the fork module that must name it itself: an override lives in its subclass


@dataclass(frozen=True)
class Mirror:
    """An upstream function whose logic a fork function re-implements (incrementally, or with deliberate
    differences). ``source_sha256``: the upstream definition's source at the pinned version; ``diffed_by``: the
    test that runs both on the same input."""

    module: str
    qualname: str
    mirrored_by: str
    diffed_by: str
    source_sha256: str


_BUILDER_UTILS: Final = "litellm.litellm_core_utils.streaming_chunk_builder_utils"
_STREAMING_HANDLER: Final = "litellm.litellm_core_utils.streaming_handler"
_MAIN: Final = "litellm.main"
_PROXY_SERVER: Final = "litellm.proxy.proxy_server"
_PROXY_UTILS: Final = "litellm.proxy.utils"
_ACCUMULATOR: Final = "litellm.litellm_core_utils.stream_accumulator"
_SURFACE_TEST: Final = "tests/test_litellm/litellm_core_utils/test_upstream_surface.py"
_PARITY_TEST: Final = "tests/test_litellm/litellm_core_utils/test_stream_accumulator.py"

HIDDEN_PARAMS_ATTR: Final = "_hidden_params"
"""The attribute (a dict chunk's key) where upstream keeps a response's hidden params."""

PRIVATE_NAMES: Final[tuple[PrivateName, ...]] = (
    PrivateName(
        "litellm._logging",
        "verbose_logger",
        None,
        "the logger named LiteLLM that upstream logs to (buffered_stream.client)",
    ),
    PrivateName(
        "litellm._logging",
        "verbose_proxy_logger",
        None,
        "the logger named LiteLLM Proxy that the proxy logs to (buffered_stream.proxy)",
    ),
    PrivateName(
        "litellm.litellm_core_utils.hidden_params",
        "_HIDDEN_PARAMS_ATTR",
        None,
        f"responses and chunks keep their hidden params (headers, cost, provider) in {HIDDEN_PARAMS_ATTR!r}",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._extract_usage_chunk",
        ("chunk",),
        "static: the chunk's usage (attribute, key, or hidden params) as a Usage, or None",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._usage_chunk_calculation_helper",
        ("self", "usage_chunk"),
        "method: a Usage summarised as prompt/completion/cache counts, details and cost (a _UsageSummary dict)",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._role_of_choice",
        ("choice",),
        "static: a streamed choice's role, 'assistant' when its delta sets none",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._calculate_usage_per_chunk",
        ("self", "chunks"),
        "calculate_usage() takes its usage summary from this method, so a subclass that overrides it gets "
        "calculate_usage's estimation and details over a summary folded elsewhere",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "_reports_prompt_side_usage",
        ("usage_summary",),
        "a usage summary reports prompt or cache tokens (then its cache counts replace earlier ones)",
    ),
    PrivateName(
        _STREAMING_HANDLER,
        "_coerce_token_details",
        ("usage", "field", "details_type"),
        "a usage's details field (dict or model) as the given wrapper class, or None",
    ),
    PrivateName(
        _MAIN,
        "_joined_streamed_citations",
        ("streamed_citations",),
        "streamed citation fragments joined into the list stream_chunk_builder reports",
    ),
    PrivateName(
        _MAIN,
        "_stamp_streaming_usage_cost",
        ("usage", "response", "logging_obj"),
        "stream_chunk_builder's cost stamping of the assembled usage",
    ),
    PrivateName(
        _MAIN,
        "_set_stream_builder_response_cost",
        ("response", "logging_obj"),
        "stream_chunk_builder's response_cost in the assembled response's hidden params",
    ),
    # The proxy's SSE writing (async_data_generator), read by litellm/proxy/stream_through.py.
    PrivateName(
        _PROXY_SERVER,
        "_get_client_requested_model_for_streaming",
        ("request_data",),
        "the model name the client asked for, which the chunks of its stream carry",
    ),
    PrivateName(
        _PROXY_SERVER,
        "_restamp_streaming_chunk_model",
        (
            "chunk",
            "requested_model_from_client",
            "request_data",
            "model_mismatch_logged",
            "fallback_was_attempted",
            "fallback_model_from_metadata",
        ),
        "(keyword-only) the chunk as the client receives it, its model renamed, and the mismatch-logged flag",
    ),
    PrivateName(
        _PROXY_SERVER,
        "_is_injected_stream_usage_artifact",
        ("chunk",),
        "a usage chunk the proxy asked the backend for on the client's behalf and does not send",
    ),
    PrivateName(_PROXY_SERVER, "_serialize_streaming_chunk", ("chunk",), "a chunk's JSON as the proxy sends it"),
    PrivateName(_PROXY_SERVER, "_format_streaming_sse_chunk", ("chunk",), "the SSE frame around a chunk's JSON"),
    PrivateName(
        _PROXY_UTILS,
        "_post_call_pipelines",
        ("data",),
        "the request's post_call guardrail pipelines (empty: none)",
    ),
    PrivateName(
        _PROXY_UTILS,
        "ProxyLogging._discard_deferred_stream_logging_for_failure",
        ("request_data", "error"),
        "static: drops the parked success logging of a chat stream that failed; False when the caller fires it",
    ),
    PrivateName(
        "litellm.llms.base_llm.base_model_iterator",
        "BaseModelResponseIterator._handle_string_chunk",
        ("self", "str_line"),
        "what the iterator's __anext__ returns for one non-blank line of the body: [DONE] anywhere in it, a JSON "
        "object after data: (chunk_parser), or an empty chunk",
    ),
)

_CHUNK_PARSING: Final = "litellm/llms/openai/chunk_parsing.py"
# Private names of the OpenAI SDK (a dependency, not upstream litellm): overridden, so named where the override is.
PRIVATE_NAMES_OF_DEPENDENCIES: Final[tuple[PrivateName, ...]] = (
    PrivateName(
        "openai",
        "AsyncOpenAI._process_response_data",
        ("self", "data", "cast_to", "response"),
        "the SDK builds each streamed object here; the ChunkValidating* clients override it to build chat chunks "
        "with pydantic's validator and call it for everything else",
        defined_in=_CHUNK_PARSING,
    ),
    PrivateName(
        "openai",
        "AsyncOpenAI._strict_response_validation",
        None,
        "an instance attribute (bool): the client validates responses strictly; the override then steps aside",
        defined_in=_CHUNK_PARSING,
    ),
)

MIRRORED: Final[tuple[Mirror, ...]] = (
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor._calculate_usage_per_chunk",
        f"{_ACCUMULATOR}.usage_fold.UsageFold",
        _SURFACE_TEST,
        "a13f09c7844f57c90f119074a29f5ae44f200741342ebbabcb1df28cacef3712",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor._reset_anthropic_cursor_completion_tokens",
        f"{_ACCUMULATOR}.usage_fold.UsageFold.per_chunk",
        _SURFACE_TEST,
        "a218fd3c46a7639916813030455691fafc934f3b2de3eaca03e40b83b2d54bb0",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor._last_provider_pricing_field",
        f"{_ACCUMULATOR}.usage_fold.UsageFold.fold",
        _SURFACE_TEST,
        "2d047d21dba850c7a80399440de9e85362142cf4433fecd39309078f44a009a8",
    ),
    Mirror(
        _STREAMING_HANDLER,
        "calculate_total_usage",
        f"{_ACCUMULATOR}.usage_fold.TotalUsageFold",
        _PARITY_TEST,
        "0017dd6d3de9d207d1085621d4e2b621d5b8077fef0f076b37e89491c71867c0",
    ),
    Mirror(
        _MAIN,
        "stream_chunk_builder",
        f"{_ACCUMULATOR}.accumulator.StreamAccumulator and response_build.build_folded",
        _PARITY_TEST,
        "981da6f10cf4e72c0635292b492758a36957120eef664dafb877c000536578dd",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor.build_base_response",
        f"{_ACCUMULATOR}.response_build._base_response",
        _PARITY_TEST,
        "1654e9019f01a9f3d73adabe6e7b61ad283b5f961926c41645ba48c273d58db3",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor.get_combined_tool_content",
        f"{_ACCUMULATOR}.choice_fold.ToolCallState (merge rules: litellm_core_utils.chat_chunk_merge)",
        _PARITY_TEST,
        "e8461624ac6a439eafec4c4422bc1b310c40511edbfdd608fc6988f18f4cac8c",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor.get_combined_function_call_content",
        f"{_ACCUMULATOR}.choice_fold.ChoiceState._fold_function_call",
        _PARITY_TEST,
        "8ef30bc36795730886f64aefcef6b5edda3b014bb98b44a5c153945ed8d75e63",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor.get_combined_thinking_content",
        f"{_ACCUMULATOR}.choice_fold.ChoiceState._fold_thinking_block",
        _PARITY_TEST,
        "34b4ccd2cecfc695abdfed626c6b2716d3f901205f82c690f2238347f5917fbb",
    ),
    Mirror(
        _BUILDER_UTILS,
        "ChunkProcessor.get_combined_audio_content",
        f"{_ACCUMULATOR}.choice_fold.ChoiceState._fold_audio and choice_message._audio",
        _PARITY_TEST,
        "31aa18e6e4efa2d8d620fcbbd4910c4c49c5e37e680b0329d82558bc7c8a2431",
    ),
    Mirror(
        "litellm.router",
        "_stream_chunks_have_generated_content",
        f"{_ACCUMULATOR}.chunk_fields.choice0_has_generated_content",
        _SURFACE_TEST,
        "6b27aefcb43cabf67e9f7e7601b265120c8c98ec64ff719148d3d7d3fb8da749",
    ),
    Mirror(
        "litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini",
        "VertexGeminiConfig._get_stream_chunk_attr",
        f"{_ACCUMULATOR}.chunk_fields.provider_metadata_attr",
        _SURFACE_TEST,
        "8ba6c0ea191708f96d5fe86c2364d0aed9a8766a6d449016fc830d1628537f49",
    ),
)


def hidden_params_of(obj: object) -> Any:
    """The hidden params of a response or chunk (a dict chunk's key, a model's attribute), or None."""
    if isinstance(obj, dict):
        return obj.get(HIDDEN_PARAMS_ATTR)
    return getattr(obj, HIDDEN_PARAMS_ATTR, None)


def replace_hidden_params(obj: object, hidden: Any) -> None:
    """Replace the hidden params of a response or chunk."""
    if isinstance(obj, dict):
        obj[HIDDEN_PARAMS_ATTR] = hidden
    else:
        setattr(obj, HIDDEN_PARAMS_ATTR, hidden)


def extract_usage_chunk(chunk: object) -> Usage | None:
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    return ChunkProcessor._extract_usage_chunk(cast(Any, chunk))


def chunk_processor(chunks: list[object], messages: Sequence[Any] | None = None) -> Any:
    """A ``ChunkProcessor`` made by its constructor (it sorts the chunks as ``stream_chunk_builder`` does)."""
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    return ChunkProcessor(chunks, messages)


def usage_summary(processor: Any, usage_chunk: Usage) -> Any:
    """The processor's ``_usage_chunk_calculation_helper`` (a ``chunk_processor``)."""
    return processor._usage_chunk_calculation_helper(usage_chunk)


def reports_prompt_side_usage(summary: Any) -> bool:
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import _reports_prompt_side_usage

    return _reports_prompt_side_usage(summary)


def role_of_choice(choice: object) -> str:
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    return ChunkProcessor._role_of_choice(choice)


def coerce_token_details(usage: object, key: str, wrapper: type[Any]) -> Any:
    from litellm.litellm_core_utils.streaming_handler import _coerce_token_details

    return _coerce_token_details(cast(Any, usage), key, wrapper)


def joined_streamed_citations(citations: tuple[object, ...]) -> list[object]:
    from litellm.main import _joined_streamed_citations

    return _joined_streamed_citations(citations)


def stamp_stream_cost(usage: Usage, response: ModelResponse, logging_obj: Logging | None) -> None:
    """What ``stream_chunk_builder`` does with an assembled response's cost."""
    from litellm.main import _set_stream_builder_response_cost, _stamp_streaming_usage_cost

    _stamp_streaming_usage_cost(usage, response, logging_obj)
    _set_stream_builder_response_cost(response, logging_obj)


def calculate_usage_from_summary(
    summary: UsagePerChunk,
    first_chunk: object,
    model: str,
    completion_output: str,
    messages: Sequence[Any] | None,
    reasoning_tokens: int | None,
    count_prompt_tokens: Callable[[], int] | None,
) -> Usage:
    """``ChunkProcessor.calculate_usage`` (estimation, details, cost) over a summary folded as the chunks came."""
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    class FoldedUsageProcessor(ChunkProcessor):
        def _calculate_usage_per_chunk(self, chunks: Sequence[Any]) -> UsagePerChunk:
            return summary

    processor: Final = FoldedUsageProcessor([first_chunk], messages)
    return processor.calculate_usage(
        chunks=(),
        model=model,
        completion_output=completion_output,
        messages=messages,
        reasoning_tokens=reasoning_tokens,
        count_prompt_tokens=count_prompt_tokens,
    )


def stream_chunk_frame(chunk: object, request_data: dict[str, Any]) -> bytes | None:
    """The SSE frame the proxy's ``async_data_generator`` writes for a chunk of a chat stream that no fallback and
    no per-chunk hook touched, or None when it writes none for it."""
    from litellm.proxy import proxy_server

    restamped, _ = proxy_server._restamp_streaming_chunk_model(
        chunk=chunk,
        requested_model_from_client=proxy_server._get_client_requested_model_for_streaming(request_data=request_data),
        request_data=request_data,
        model_mismatch_logged=True,
    )
    if request_data.get("_litellm_strip_stream_usage") and proxy_server._is_injected_stream_usage_artifact(restamped):
        return None
    frame: Final = proxy_server._format_streaming_sse_chunk(chunk=proxy_server._serialize_streaming_chunk(restamped))
    return frame if isinstance(frame, bytes) else frame.encode()


def has_post_call_pipelines(request_data: dict[str, Any]) -> bool:
    from litellm.proxy.utils import _post_call_pipelines

    return bool(_post_call_pipelines(request_data))


def discard_deferred_stream_logging_for_failure(request_data: dict[str, Any], error: Exception) -> bool:
    from litellm.proxy.utils import ProxyLogging

    return bool(ProxyLogging._discard_deferred_stream_logging_for_failure(request_data, error))


def unread_openai_chat_stream(stream: object) -> bool:
    """An OpenAI SDK ``AsyncStream`` of chat chunks (plain events, not event-and-data pairs) of which nothing has
    been read: its ``_cast_to``, ``_options`` and response, as ``AsyncStream.__stream__`` uses them."""
    import httpx
    from openai import AsyncStream
    from openai.types.chat import ChatCompletionChunk

    if type(stream) is not AsyncStream or stream._cast_to is not ChatCompletionChunk:
        return False
    http: Final = stream.response
    if not isinstance(http, httpx.Response) or http.is_stream_consumed or http.is_closed:
        return False
    return stream._options is None or not stream._options.synthesize_event_and_data


def build_streamed_object(stream: Any, data: object) -> Any:
    """What ``AsyncStream.__stream__`` yields for one parsed event: the client's ``_process_response_data``."""
    return stream._client._process_response_data(data=data, cast_to=stream._cast_to, response=stream.response)


def unread_openai_compatible_line_stream(stream: object) -> bool:
    """An ``OpenAIChatCompletionStreamingHandler`` (what ``BaseLLMHTTPHandler`` reads ``hosted_vllm`` chat streams
    with, line by line from ``aiter_lines()``) of which nothing has been read: not iterated yet, its response
    attached and untouched."""
    import httpx

    from litellm.llms.openai.chat.gpt_transformation import OpenAIChatCompletionStreamingHandler

    if type(stream) is not OpenAIChatCompletionStreamingHandler or hasattr(stream, "async_response_iterator"):
        return False
    http: Final = stream.http_response
    return isinstance(http, httpx.Response) and not http.is_stream_consumed and not http.is_closed


def build_streamed_line(stream: Any, line: str) -> Any:
    """What ``BaseModelResponseIterator.__anext__`` returns for one non-blank line, its ValueError included."""
    try:
        return stream._handle_string_chunk(str_line=line)
    except ValueError as error:
        raise RuntimeError(f"Error parsing chunk: {error},\nReceived chunk: {line}") from error
