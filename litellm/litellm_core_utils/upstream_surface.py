"""Every private name of upstream litellm that the fork's modules use at runtime, looked up here and only here.

A private name (``_something``) carries no promise: upstream may rename it, change its signature or its
behaviour in any release, and no patch conflict would say so. The fork's modules therefore never import or
look one up themselves: they call the typed functions below, and ``PRIVATE_NAMES`` lists each name with what
the fork relies on. ``tests/test_litellm/litellm_core_utils/test_upstream_surface.py`` checks every entry
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

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.types.litellm_core_utils.streaming_chunk_builder_utils import UsagePerChunk
    from litellm.types.utils import ModelResponse, Usage


@dataclass(frozen=True)
class PrivateName:
    """A private upstream name the fork uses: where it lives and what the fork relies on."""

    module: str
    qualname: str
    relied_on: str


@dataclass(frozen=True)
class Mirror:
    """An upstream function whose logic a fork function re-implements; ``source_sha256`` is the hash of the
    upstream function's source at the pinned version (``inspect.getsource``, UTF-8)."""

    module: str
    qualname: str
    mirrored_by: str
    source_sha256: str


_BUILDER_UTILS: Final = "litellm.litellm_core_utils.streaming_chunk_builder_utils"
_STREAMING_HANDLER: Final = "litellm.litellm_core_utils.streaming_handler"
_MAIN: Final = "litellm.main"

PRIVATE_NAMES: Final[tuple[PrivateName, ...]] = (
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._extract_usage_chunk",
        "static; (chunk) -> Usage | None: the chunk's usage (attribute, key or hidden params) as a Usage",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._usage_chunk_calculation_helper",
        "method; (usage_chunk) -> _UsageSummary dict: prompt/completion/cache counts, details, cost",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._role_of_choice",
        "static; (choice) -> str: the delta's role, 'assistant' when unset",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "ChunkProcessor._calculate_usage_per_chunk",
        "method; (chunks) -> UsagePerChunk; calculate_usage calls it, and the fork overrides it to answer from "
        "its fold",
    ),
    PrivateName(
        _BUILDER_UTILS,
        "_reports_prompt_side_usage",
        "(summary) -> bool: a usage summary reports prompt or cache tokens",
    ),
    PrivateName(
        _STREAMING_HANDLER,
        "_coerce_token_details",
        "(usage, key, wrapper class) -> details | None: a usage's details field coerced to the wrapper",
    ),
    PrivateName(
        _MAIN,
        "_joined_streamed_citations",
        "(tuple of citations) -> list: streamed citation fragments joined as stream_chunk_builder joins them",
    ),
    PrivateName(
        _MAIN,
        "_stamp_streaming_usage_cost",
        "(usage, response, logging_obj) -> None: the assembled usage's cost stamped as stream_chunk_builder does",
    ),
    PrivateName(
        _MAIN,
        "_set_stream_builder_response_cost",
        "(response, logging_obj) -> None: the assembled response's cost set as stream_chunk_builder does",
    ),
)

MIRRORED: Final[tuple[Mirror, ...]] = ()


def extract_usage_chunk(chunk: object) -> Usage | None:
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    return ChunkProcessor._extract_usage_chunk(cast(Any, chunk))


def usage_summary(chunk: object, usage_chunk: Usage) -> Any:
    """``_usage_chunk_calculation_helper`` of a processor made (by its constructor) for the chunk."""
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    return ChunkProcessor([chunk])._usage_chunk_calculation_helper(usage_chunk)


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
