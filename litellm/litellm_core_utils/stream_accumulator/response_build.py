"""The assembled ``ModelResponse`` of a folded stream, built as ``stream_chunk_builder`` builds it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from litellm.litellm_core_utils import upstream_surface
from litellm.litellm_core_utils.stream_accumulator.choice_fold import ChoiceState
from litellm.litellm_core_utils.stream_accumulator.choice_message import apply_choice
from litellm.types.utils import ModelResponse

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging
    from litellm.litellm_core_utils.stream_accumulator.accumulator import StreamAccumulator


def sorted_chunks(chunks: list[object], messages: Sequence[Any] | None) -> list[object]:
    """The chunks in the order ``stream_chunk_builder`` assembles them (``ChunkProcessor`` sorts by ``created_at``)."""
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    return cast(list[object], ChunkProcessor(chunks, messages).chunks)


def _base_response(folded: StreamAccumulator, states: list[ChoiceState]) -> ModelResponse:
    first: Final = cast(Any, folded.first_chunk)
    return ModelResponse(
        id=folded.identity.id or "",
        object=first["object"],
        created=folded.identity.created or first["created"],
        model=folded.identity.model or first["model"],
        system_fingerprint=first.get("system_fingerprint", None),
        **({"service_tier": folded.service_tier} if folded.service_tier is not None else {}),
        choices=[
            {
                "index": state.index,
                "message": {"role": state.role, "content": ""},
                "finish_reason": state.finish_reason or "stop",
            }
            for state in states
        ],
        usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    )


def _set_hidden_params(folded: StreamAccumulator, response: ModelResponse, processor: Any) -> None:
    # Upstream's build_base_response reuses its loop variable here: the hidden params (shared, not
    # copied) are the last chunk's, not the first's.
    processor.update_model_response_with_hidden_params(model_response=response, chunk=cast(Any, folded.last_chunk))
    models: Final = folded.provider_response_models
    if models:
        first_model: Final = cast(Any, folded.first_chunk)["model"]
        provider_model: Final = next((m for m in models if m != first_model), models[0])
        hidden: Final = dict(upstream_surface.hidden_params_of(response), provider_response_model=provider_model)
        upstream_surface.replace_hidden_params(response, hidden)


def _set_messages(folded: StreamAccumulator, response: ModelResponse, states: list[ChoiceState]) -> None:
    for state, choice in zip(states, response.choices, strict=True):
        message = cast(Any, choice).message
        if not folded.simple_text:
            apply_choice(state, message)
        elif text := state.content.text():
            message["content"] = text


def build_folded(
    folded: StreamAccumulator,
    messages: Sequence[Any] | None,
    logging_obj: Logging | None,
    count_prompt_tokens: Callable[[], int] | None,
    stamp_cost: bool,
) -> ModelResponse:
    """The response of a folded chat stream: its choices, usage (estimated where none was reported), cost."""
    from litellm.litellm_core_utils.prompt_templates.common_utils import get_content_from_model_response
    from litellm.litellm_core_utils.streaming_chunk_builder_utils import ChunkProcessor

    first: Final = folded.first_chunk
    states: Final = [folded.choices[i] for i in sorted(folded.choices)] or [ChoiceState(0, "assistant")]
    response: Final = _base_response(folded, states)
    processor: Final = ChunkProcessor([first, folded.last_chunk], messages)
    _set_hidden_params(folded, response, processor)
    _set_messages(folded, response, states)
    usage: Final = upstream_surface.calculate_usage_from_summary(
        folded.usage.per_chunk(folded.saw_finish_reason, first),
        first,
        model=cast(Any, first)["model"],
        completion_output=get_content_from_model_response(response),
        messages=messages,
        reasoning_tokens=0 if folded.simple_text else processor.count_reasoning_tokens(response),
        count_prompt_tokens=count_prompt_tokens,
    )
    response.usage = usage  # type: ignore[attr-defined]
    owner: Final = folded.hidden_provider_fields_owner
    if isinstance(owner, Mapping):
        hidden: Final[dict[str, Any]] = response.hidden_params
        hidden.setdefault("provider_specific_fields", {}).update(owner["provider_specific_fields"])
    if stamp_cost:
        upstream_surface.stamp_stream_cost(usage, response, logging_obj)
    ChunkProcessor.apply_provider_assembled_streaming_metadata(response, [dict(folded.provider_metadata)], logging_obj)
    return response
